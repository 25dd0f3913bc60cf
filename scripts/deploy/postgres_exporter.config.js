// PM2 app of a host that runs PostgreSQL's exporter (scripts/deploy/lib/postgres_exporter.sh,
// opt-in with POSTGRES_EXPORTER_PORT): registered by provisioning and `make reload`
// (reload.sh), apart from ecosystem.config.js so that the private test stacks, which
// start that whole file, do not run it.
const path = require('path');
const scripts = __dirname;

module.exports = {
  apps: [{
    name: 'postgres_exporter',
    script: path.join(scripts, 'postgres_exporter.sh'),
    interpreter: 'bash',
    cwd: path.resolve(scripts, '../..'),
    exec_mode: 'fork',
    instances: 1,
    autorestart: true,
    restart_delay: 1000,
    kill_timeout: 10000,
    merge_logs: true,
    time: false,
  }],
};
