import { networkInterfaces } from 'node:os';
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
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});

await app.listen({ port: config.port, host: config.host });

const port = (app.server.address() as { port: number }).port;
const lan = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const scheme = config.https ? 'https' : 'http';
const base = `${scheme}://${lan ?? 'localhost'}:${port}`;
const token = encodeURIComponent(config.adminToken);
console.log(
  [
    '',
    `  Federated Learning hub (data in ${config.dataDir})`,
    `  Dashboard:  ${scheme}://localhost:${port}/?token=${token}`,
    `  Client tab: ${base}/client/${config.joinToken ? `?join=${encodeURIComponent(config.joinToken)}` : ''}   (open it in each browser that should train)`,
    config.adminTokenGenerated ? '  The admin token was generated for this start; set ADMIN_TOKEN to keep one.' : '',
    '',
  ].join('\n'),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
