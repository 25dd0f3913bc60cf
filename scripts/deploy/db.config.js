// PM2 apps of a DB host (scripts/deploy/lib/patroni.sh, the optional database tier):
// one etcd member and one Patroni, which runs PostgreSQL itself. Registered by
// provisioning (role db) with DB_DIR, the host's folder of the tier.
const path = require('path');
const scripts = __dirname;

const app = (name) => ({
  name,
  script: path.join(scripts, 'db.sh'),
  args: [name],
  interpreter: 'bash',
  cwd: path.resolve(scripts, '../..'),
  exec_mode: 'fork',
  instances: 1,
  autorestart: true,
  restart_delay: 1000,
  // Patroni stops PostgreSQL (fast shutdown) before it exits.
  kill_timeout: 30000,
  merge_logs: true,
  time: false,
});

module.exports = { apps: [app('etcd'), app('patroni')] };
