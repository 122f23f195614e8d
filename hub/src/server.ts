import { lanAddress, stopOnSignals } from './cli/process-stop';
import { buildApp } from './app';
import { loadConfig } from './config';

const config = loadConfig();
const app = await buildApp({
  dataDir: config.dataDir,
  adminToken: config.adminToken,
  mnistDir: config.mnistDir,
  dashboardDir: config.dashboardDir,
  clientDir: config.clientDir,
  ...(config.joinToken ? { joinToken: config.joinToken } : {}),
  ...(config.https ? { https: config.https } : {}),
  corsOrigins: config.corsOrigins,
  rateLimitPerMinute: config.rateLimitPerMinute,
  joinsPerMinute: config.joinsPerMinute,
  ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
  keepCheckpoints: config.keepCheckpoints,
  sqliteSynchronous: config.sqliteSynchronous,
  ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
  ...(config.nodeId ? { nodeId: config.nodeId } : {}),
  nodeUrl: config.nodeUrl,
  // Another node may run the rounds already: stop, and let the supervisor (pnpm cluster, Docker) start this one again.
  onLeadershipLost: () => {
    console.error('this hub node lost the engine lease (its database session failed); exiting');
    process.exit(1);
  },
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  startThreads: true,
});

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  console.error(`port ${config.port} is in use: is another hub running? set PORT`);
  await app.close();
  process.exit(1);
}

const port = (app.server.address() as { port: number }).port;
const lan = lanAddress();
const scheme = config.https ? 'https' : 'http';
const base = `${scheme}://${lan ?? 'localhost'}:${port}`;
const token = encodeURIComponent(config.adminToken);
console.log(
  [
    '',
    `  Federated Learning hub (${config.databaseUrl ? `records in PostgreSQL at ${postgresHost(config.databaseUrl)}` : `data in ${config.dataDir}`})`,
    `  Dashboard:  ${scheme}://localhost:${port}/?token=${token}`,
    `  Client tab: ${base}/client/${config.joinToken ? `?join=${encodeURIComponent(config.joinToken)}` : ''}   (open it in each browser that should train)`,
    config.adminTokenFile
      ? `  Admin token kept in ${config.adminTokenFile} (the same at every start; set ADMIN_TOKEN to choose one).`
      : '  Admin token from ADMIN_TOKEN.',
    '',
  ].join('\n'),
);

stopOnSignals(() => app.close(), { stopped: 'hub stopped', timeoutMs: 10_000, late: 'the hub did not close within 10 s; exiting' });

/** Where the database is, without its user or password (they never reach the terminal or a log). */
function postgresHost(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const socket = url.searchParams.get('host');
  return `${url.host || socket || 'localhost'}${url.pathname}`;
}
