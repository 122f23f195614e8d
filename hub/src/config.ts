import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyAddr from '@fastify/proxy-addr';
import { defaultMnistDir } from './data/mnist-files';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  adminToken: string;
  /** Where the admin token is kept; null when ADMIN_TOKEN set it. */
  adminTokenFile: string | null;
  joinToken?: string;
  corsOrigins: string[];
  rateLimitPerMinute: number;
  joinsPerMinute: number;
  /**
   * Proxies whose X-Forwarded-For is believed (TRUST_PROXY): how many stand in front (`1`: one nginx), or their
   * addresses (addresses, CIDR ranges, or proxy-addr's `loopback`, `linklocal`, `uniquelocal`, comma-separated).
   * Behind them the per-address limits count each client's own address.
   */
  trustProxy?: number | string[];
  https?: { cert: Buffer; key: Buffer };
  /** Checkpoints kept per run: the last K rounds'. */
  keepCheckpoints: number;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** PostgreSQL instead of SQLite in dataDir (DATABASE_URL); several hub nodes share one. */
  databaseUrl?: string;
  /** Redis for Socket.IO events across hub nodes (REDIS_URL). */
  redisUrl?: string;
  /** Where the other hub nodes reach this one (NODE_URL; default http://127.0.0.1:PORT). */
  nodeUrl: string;
  /** This node's id in the cluster (NODE_ID; default a random UUID per start). */
  nodeId?: string;
  mnistDir: string;
  dashboardDir: string;
  clientDir: string;
}

/** TRUST_PROXY, checked now: a typo would otherwise believe no proxy, or the wrong one. */
function trustProxy(value: string | undefined): { trustProxy?: number | string[] } {
  const text = (value ?? '').trim();
  if (!text) return {};
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 10) throw new Error(`TRUST_PROXY as a number of proxies in front must be 1 to 10, got ${text}`);
    return { trustProxy: hops };
  }
  const list = text.split(',').map((v) => v.trim()).filter(Boolean);
  try {
    proxyAddr.compile(list);
  } catch (error) {
    throw new Error(`TRUST_PROXY must be a number of proxies, or a list of addresses, CIDR ranges, loopback, linklocal or uniquelocal: ${(error as Error).message}`, { cause: error });
  }
  return { trustProxy: list };
}

/** Reads the environment; relative DATA_DIR is taken from where the user ran the command. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const cwd = env.INIT_CWD ?? process.cwd();
  const port = Number(env.PORT ?? 5000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const dataDir = resolve(cwd, env.DATA_DIR ?? 'data');
  const adminTokenFile = env.ADMIN_TOKEN ? null : join(dataDir, 'admin-token');
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir,
    adminToken: env.ADMIN_TOKEN || keptAdminToken(adminTokenFile!),
    adminTokenFile,
    ...(env.JOIN_TOKEN ? { joinToken: env.JOIN_TOKEN } : {}),
    rateLimitPerMinute: positive(env.RATE_LIMIT_PER_MINUTE, 1200, 'RATE_LIMIT_PER_MINUTE'),
    joinsPerMinute: positive(env.JOINS_PER_MINUTE, 60, 'JOINS_PER_MINUTE'),
    ...trustProxy(env.TRUST_PROXY),
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    ...tls(env, cwd),
    keepCheckpoints: positive(env.KEEP_CHECKPOINTS, 10, 'KEEP_CHECKPOINTS'),
    sqliteSynchronous: synchronous(env.SQLITE_SYNCHRONOUS),
    ...databaseUrl(env.DATABASE_URL),
    ...redisUrl(env.REDIS_URL, env.DATABASE_URL),
    nodeUrl: env.NODE_URL || `http://127.0.0.1:${port}`,
    ...(env.NODE_ID ? { nodeId: env.NODE_ID } : {}),
    mnistDir: env.MNIST_DIR ? resolve(cwd, env.MNIST_DIR) : defaultMnistDir(),
    dashboardDir: resolve(repoRoot, 'dashboard/dist'),
    clientDir: resolve(repoRoot, 'web-client/dist'),
  };
}

/** The token in `file`, or a new one written there (owner-only), so open dashboards survive a restart. */
function keptAdminToken(file: string): string {
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) {
      chmodSync(file, 0o600);
      return kept;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(24).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above is masked by the umask
  return token;
}

function tls(env: NodeJS.ProcessEnv, cwd: string): { https?: { cert: Buffer; key: Buffer } } {
  if (!env.TLS_CERT && !env.TLS_KEY) return {};
  if (!env.TLS_CERT || !env.TLS_KEY) throw new Error('set both TLS_CERT and TLS_KEY (PEM files) to serve HTTPS');
  return { https: { cert: readFileSync(resolve(cwd, env.TLS_CERT)), key: readFileSync(resolve(cwd, env.TLS_KEY)) } };
}

function databaseUrl(value: string | undefined): { databaseUrl?: string } {
  if (!value) return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('DATABASE_URL must be a URL: postgresql://user[:password]@host[:port]/database');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`DATABASE_URL must start with postgresql:// (SQLite needs no URL: unset it), got ${url.protocol}//`);
  }
  return { databaseUrl: value };
}

function redisUrl(value: string | undefined, databaseUrl: string | undefined): { redisUrl?: string } {
  if (!value) return {};
  if (!/^rediss?:\/\//.test(value)) throw new Error('REDIS_URL must start with redis:// (or rediss://), e.g. redis://localhost:6379');
  // Without a shared database every node would run its own rounds: Redis alone makes no cluster.
  if (!databaseUrl) throw new Error('REDIS_URL joins hub nodes that share a PostgreSQL database: set DATABASE_URL too');
  return { redisUrl: value };
}

function synchronous(value: string | undefined): 'FULL' | 'NORMAL' {
  if (value === undefined || value === '') return 'FULL';
  const upper = value.toUpperCase();
  if (upper !== 'FULL' && upper !== 'NORMAL') throw new Error(`SQLITE_SYNCHRONOUS must be FULL or NORMAL, got ${value}`);
  return upper;
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got ${value}`);
  return n;
}
