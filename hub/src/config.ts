import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultMnistDir } from './data/mnist-files';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  adminToken: string;
  adminTokenGenerated: boolean;
  joinToken?: string;
  mnistDir: string;
  dashboardDir: string;
  clientDir: string;
}

/** Reads the environment; relative DATA_DIR is taken from where the user ran the command. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const cwd = env.INIT_CWD ?? process.cwd();
  const port = Number(env.PORT ?? 5000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const adminToken = env.ADMIN_TOKEN || randomBytes(24).toString('base64url');
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(cwd, env.DATA_DIR ?? 'data'),
    adminToken,
    adminTokenGenerated: !env.ADMIN_TOKEN,
    ...(env.JOIN_TOKEN ? { joinToken: env.JOIN_TOKEN } : {}),
    mnistDir: env.MNIST_DIR ? resolve(cwd, env.MNIST_DIR) : defaultMnistDir(),
    dashboardDir: resolve(repoRoot, 'dashboard/dist'),
    clientDir: resolve(repoRoot, 'web-client/dist'),
  };
}
