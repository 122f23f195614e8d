import { parseArgs } from 'node:util';
import { lanAddress, stopOnSignals } from '../cli/process-stop';
import { loadConfig } from '../config';
import { startCluster } from './launch-cluster';

// `pnpm cluster --nodes N [--port P]`: several hub nodes on one machine, for trying the cluster out. Redis,
// PostgreSQL and nginx of its own in temporary folders; Ctrl-C (or SIGTERM) stops all of it.

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '3' }, port: { type: 'string', default: '8080' }, quiet: { type: 'boolean', default: false } },
  strict: true,
});
const nodes = Number(values.nodes);
const port = Number(values.port);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new Error(`--nodes must be a whole number from 1 to 16, got ${values.nodes}`);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number, got ${values.port}`);

// One admin token for every node: the one `pnpm start` would use (ADMIN_TOKEN, or the one kept in DATA_DIR).
const config = loadConfig();
console.log(`starting PostgreSQL, Redis, ${nodes} hub node${nodes > 1 ? 's' : ''} and nginx on port ${port} ...`);
const cluster = await startCluster({
  nodes,
  port,
  env: { ...process.env, ADMIN_TOKEN: config.adminToken, DATA_DIR: config.dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  onOutput: values.quiet ? () => {} : (id, line) => console.log(`[${id}] ${line}`),
});

const lan = lanAddress();
console.log(
  [
    '',
    `  Federated Learning cluster: ${nodes} hub node${nodes > 1 ? 's' : ''} behind nginx`,
    `  Dashboard:  http://localhost:${port}/?token=${encodeURIComponent(config.adminToken)}`,
    `  Client tab: http://${lan ?? 'localhost'}:${port}/client/${config.joinToken ? `?join=${encodeURIComponent(config.joinToken)}` : ''}`,
    `  Nodes:      ${cluster.nodes.map((n) => `${n.id} ${n.url}`).join(', ')}`,
    '  Ctrl-C stops the nodes, nginx, Redis and PostgreSQL (their data is in temporary folders and goes with them).',
    '',
  ].join('\n'),
);

stopOnSignals(() => cluster.stop(), { stopping: 'stopping the cluster ...', stopped: 'cluster stopped' });
