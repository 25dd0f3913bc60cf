// PM2 apps. Registered by scripts/deploy/reload.sh (which provisioning and `make reload`
// run) and by the test suite with its own PM2_HOME. Each app reads .env when it starts,
// so a restart picks up an edited .env.
const path = require('path');
const scripts = __dirname;

// INVENTORY_INSTANCES processes share inventory's address (SO_REUSEPORT), so
// `pm2 reload inventory_app` replaces them one at a time while the others serve.
// billing_app instances are competing consumers of the same queue.
const count = (name, def) => Math.max(1, parseInt(process.env[name], 10) || def);

const app = (name, script, args, instances) => ({
  name,
  script: path.join(scripts, script),
  args,
  interpreter: 'bash',
  cwd: path.resolve(scripts, '../..'),
  exec_mode: 'fork',
  instances,
  autorestart: true,
  restart_delay: 1000,
  kill_timeout: 10000,
  merge_logs: true,
  time: false,
});

module.exports = {
  apps: [
    app('api_gateway_app', 'gateway.sh', [], 1),
    app('inventory_app', 'app.sh', ['inventory_app'], count('INVENTORY_INSTANCES', 2)),
    app('billing_app', 'app.sh', ['billing_app'], count('BILLING_INSTANCES', 1)),
  ],
};
