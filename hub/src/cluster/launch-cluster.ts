import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx, type Nginx } from './services/nginx';
import { startPostgres, type PostgresServer } from './services/postgres';
import { startRedis, type RedisServer } from './services/redis';
import { freePort, stopChild, waitUntil } from './services/processes';

const hubRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ClusterOptions {
  nodes: number;
  /** nginx's port: the cluster's one address. */
  port: number;
  /** The environment every node starts with (`pnpm start`'s: ADMIN_TOKEN, JOIN_TOKEN, DATA_DIR, ...). */
  env: NodeJS.ProcessEnv;
  /** Start a node again when it exits by itself (a node that lost the engine lease exits; default true). */
  restart?: boolean;
  /** What the nodes write, line by line, prefixed with their id (default: dropped). */
  onOutput?: (nodeId: string, line: string) => void;
}

export interface HubNode {
  id: string;
  port: number;
  url: string;
  /** The running process (a new one after a restart). */
  child(): ChildProcess;
  /** Kills this node's process with `signal` (SIGKILL: as a crash) and resolves once it is gone; no restart follows. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts the node again after a kill. */
  start(): Promise<void>;
}

export interface Cluster {
  url: string;
  databaseUrl: string;
  redisUrl: string;
  nodes: HubNode[];
  stop(): Promise<void>;
}

/** Polls a node until it answers with its store (a standby answers too). */
async function nodeReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/api/models`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

function hubNode(id: string, port: number, env: NodeJS.ProcessEnv, options: ClusterOptions, stopping: () => boolean): HubNode {
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let killed = false;
  let restarts: number[] = [];
  let output = '';

  async function start(): Promise<void> {
    killed = false;
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: hubRoot,
      // nginx is the one proxy in front: the per-address limits count the address it forwards.
      env: { ...env, PORT: String(port), HOST: '127.0.0.1', NODE_URL: url, NODE_ID: id, TRUST_PROXY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let partial = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) options.onOutput?.(id, line);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', () => {
      if (killed || stopping() || options.restart === false) return;
      const now = Date.now();
      restarts = [...restarts.filter((t) => now - t < 60_000), now];
      if (restarts.length > 5) {
        options.onOutput?.(id, 'exited 5 times within a minute: not started again');
        return;
      }
      options.onOutput?.(id, 'exited; starting it again');
      setTimeout(() => void start().catch((err: unknown) => options.onOutput?.(id, `did not start again: ${String(err)}`)), 1000);
    });
    await waitUntil(() => nodeReady(url), proc, () => output, `hub node ${id} on port ${port}`, 120_000);
  }

  return {
    id,
    port,
    url,
    child: () => child!,
    async kill(signal) {
      killed = true;
      if (child) await stopChild(child, signal);
    },
    start,
  };
}

/**
 * Redis, PostgreSQL and nginx of their own (temporary folders, free ports, never the system services), `nodes`
 * hub nodes on them, and nginx on `port` in front. `stop()` stops all of it and removes its folders.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  let stopping = false;
  const started: { stop(): Promise<void> }[] = [];
  const nodes: HubNode[] = [];
  const stop = async () => {
    stopping = true;
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
    for (const service of started.splice(0).reverse()) await service.stop().catch(() => {});
  };
  try {
    const postgres: PostgresServer = await startPostgres();
    started.push(postgres);
    const redis: RedisServer = await startRedis();
    started.push(redis);
    const databaseUrl = await postgres.createDatabase('fl_hub');
    const env = { ...options.env, DATABASE_URL: databaseUrl, REDIS_URL: redis.url };
    const ports = await Promise.all(Array.from({ length: options.nodes }, () => freePort()));
    nodes.push(...ports.map((port, i) => hubNode(`node-${i + 1}`, port, env, options, () => stopping)));
    // The first node takes the engine lease; the others start beside it as standbys.
    await nodes[0]!.start();
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    const nginx: Nginx = await startNginx({ port: options.port, upstreams: ports.map((p) => `127.0.0.1:${p}`) });
    started.push(nginx);
    return { url: nginx.url, databaseUrl, redisUrl: redis.url, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
