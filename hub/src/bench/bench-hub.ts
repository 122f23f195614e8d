import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { FlatWeights, LaunchRequest, RunDetail, TaskId } from '@fl/shared';
import type { FromHubProbe, HubFigures, ToHubProbe } from './load-protocol';
import { buildApp } from '../app';
import { defaultMnistDir } from '../data/mnist-files';

export const BENCH_TOKEN = 'bench-admin-token';
const hubDir = fileURLToPath(new URL('../..', import.meta.url));

/** A hub in this process: shares the CPU with in-process clients, as a single-machine deployment would. */
export async function inProcessHub(
  options: { initialWeights?: (task: TaskId) => FlatWeights } = {},
): Promise<{ app: FastifyInstance; url: string; close: () => Promise<void> }> {
  // Ids from a counter: with the same initial weights, two runs differ only in what the bench varies.
  let nextId = 0;
  const app = await buildApp({
    newId: () => `bench-${++nextId}`,
    ...(options.initialWeights ? { initialWeights: options.initialWeights } : {}),
    dataDir: mkdtempSync(join(tmpdir(), 'fl-bench-')),
    adminToken: BENCH_TOKEN,
    mnistDir: defaultMnistDir(),
    clientDir: fileURLToPath(new URL('../../../web-client/dist', import.meta.url)),
    joinsPerMinute: 100_000,
    rateLimitPerMinute: 100_000,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Asks the probe inside a child hub (hub-probe.ts) for its figures, or to start counting afresh. */
export interface HubProbeClient {
  read(options?: { gc?: boolean }): Promise<HubFigures>;
  reset(): Promise<void>;
}

function probeClient(child: ChildProcess): HubProbeClient {
  let nextId = 0;
  const ask = (message: ToHubProbe): Promise<FromHubProbe> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`the hub's probe did not answer ${message.type}`));
      }, 60_000);
      const onMessage = (reply: FromHubProbe) => {
        if (reply.id !== message.id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(reply);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  return {
    read: async (options = {}) => {
      const reply = await ask({ type: 'probe:read', id: ++nextId, ...(options.gc ? { gc: true } : {}) });
      if (reply.type !== 'probe:figures') throw new Error(`the hub's probe answered ${reply.type} to a read`);
      return reply.figures;
    },
    reset: async () => void (await ask({ type: 'probe:reset', id: ++nextId })),
  };
}

/**
 * A hub in its own process, so that its memory (peak RSS) is measured apart from the clients'. With `probe`,
 * hub-probe.ts is loaded ahead of the server (FL_HUB_PROBE=1, --expose-gc) and answers over an IPC channel;
 * with `cpuProfileDir`, the hub writes a .cpuprofile there as it exits.
 */
export async function childHub(options: { probe?: boolean; cpuProfileDir?: string } = {}): Promise<{
  url: string;
  process: ChildProcess;
  peakRssBytes: () => number;
  /** The hub process's /proc/<pid>/limits (open files among them). */
  limits: () => string;
  probe: HubProbeClient | null;
  close: () => Promise<void>;
}> {
  const port = await freePort();
  const probeArgs = options.probe ? ['--expose-gc', '--import', fileURLToPath(new URL('./hub-probe.ts', import.meta.url))] : [];
  // A V8 CPU profile of the hub's whole life, written into the folder when it exits.
  const profileArgs = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...probeArgs, ...profileArgs, 'src/server.ts'], {
    cwd: hubDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'fl-bench-hub-')),
      ADMIN_TOKEN: BENCH_TOKEN,
      // BENCH_HUB_LOG=FILE keeps the hub's log (at BENCH_HUB_LOG_LEVEL, warn by default) for a run that needs explaining.
      LOG_LEVEL: process.env.BENCH_HUB_LOG ? (process.env.BENCH_HUB_LOG_LEVEL ?? 'warn') : 'error',
      JOINS_PER_MINUTE: '100000',
      RATE_LIMIT_PER_MINUTE: '100000',
      ...(options.probe ? { FL_HUB_PROBE: '1' } : {}),
    },
    stdio: [
      'ignore',
      process.env.BENCH_HUB_LOG ? openSync(process.env.BENCH_HUB_LOG, 'a') : 'ignore',
      'inherit',
      ...(options.probe ? (['ipc'] as const) : []),
    ],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/api/status`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the bench hub did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    process: child,
    probe: options.probe ? probeClient(child) : null,
    limits: () => readFileSync(`/proc/${child.pid}/limits`, 'utf8'),
    peakRssBytes: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : NaN;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // A hub whose event loop is held (thousands of clients) cannot run its own 10 s exit timer.
      const forced = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

export async function launchRun(url: string, request: LaunchRequest): Promise<string> {
  const response = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (response.status !== 201) throw new Error(`launch refused: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Polls the run until it ends and its evaluations are stored; an answer that is not a run (a hub under load can fail a request) is retried until the deadline. */
export async function waitForRun(url: string, id: string, timeoutMs = 1_800_000): Promise<RunDetail> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    const response = await fetch(`${url}/api/runs/${id}`);
    const body = await response.text();
    if (response.ok) {
      const run = JSON.parse(body) as RunDetail;
      // Held-out evaluations are stored after their rounds (in their own thread): the record is whole once none is pending.
      if (run.status !== 'running' && Array.isArray(run.rounds) && run.rounds.every((r) => r.evaluation !== 'pending')) return run;
    } else {
      lastError = `: the last answer was ${response.status} ${body.slice(0, 300)}`;
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not end in time${lastError}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function waitForClientCount(url: string, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await (await fetch(`${url}/api/status`)).json()) as { clients: unknown[] };
    if (status.clients.length >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${status.clients.length} of ${count} clients joined`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
