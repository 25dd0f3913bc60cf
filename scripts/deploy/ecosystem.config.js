// PM2 apps. Started by scripts/deploy/run.sh (and by the test suite with its own PM2_HOME);
// each app reads .env at start, so `pm2 restart <app>` picks up an edited .env.
const path = require('path');
const scripts = __dirname;

const app = (name, script, args) => ({
  name,
  script: path.join(scripts, script),
  args,
  interpreter: 'bash',
  cwd: path.resolve(scripts, '../..'),
  autorestart: true,
  restart_delay: 1000,
  kill_timeout: 10000,
  merge_logs: true,
  time: false,
});

module.exports = {
  apps: [
    app('api_gateway_app', 'gateway.sh', []),
    app('inventory_app', 'app.sh', ['inventory_app']),
    app('billing_app', 'app.sh', ['billing_app']),
  ],
};
