/**
 * The capacity bench's load generator: lightweight clients spread over several load-worker processes
 * (load-worker.ts), so that their work runs beside the hub's process, not inside it or inside the bench's.
 * The bench process only starts them, waits for their joins and collects their reports.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadWorkerCount, mergeTimings, workerShares, type EpochRoundTimings } from './capacity-figures';
import type { FromLoadWorker, LoadWorkerReport, ToLoadWorker } from './load-protocol';

const hubDir = fileURLToPath(new URL('../..', import.meta.url));
const workerPath = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

export interface FleetReport {
  /** Per round, over every client of every worker. */
  rounds: Map<number, EpochRoundTimings>;
  refused: number;
  /** Clients that lost their connection after joining, by reason, over all workers. */
  disconnects: Record<string, number>;
  workers: Pick<LoadWorkerReport, 'cpuMs' | 'rssBytes' | 'longestStallMs' | 'runQueueWaitMs'>[];
}

export interface LoadFleet {
  workers: number;
  report(): Promise<FleetReport>;
  close(): Promise<void>;
}

function next(child: ChildProcess, accept: (m: FromLoadWorker) => boolean, timeoutMs: number, what: string): Promise<FromLoadWorker> {
  return new Promise((resolve, reject) => {
    const done = (finish: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      finish();
    };
    const onMessage = (m: FromLoadWorker) => {
      if (m.type === 'failed') done(() => reject(new Error(m.error)));
      else if (accept(m)) done(() => resolve(m));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`a load worker exited (${code}) before ${what}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`a load worker did not report ${what} within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      if (child.connected) child.send({ type: 'close' } satisfies ToLoadWorker);
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    }),
  );
}

/**
 * Forks the workers (loadWorkerCount of this machine's cores unless `workers` is given), gives each its share
 * of `clients`, and resolves once every client has joined the hub; rejects, with every worker stopped, if one fails.
 */
export async function startLoadFleet(hubUrl: string, clients: number, delayMs: number, options: { workers?: number } = {}): Promise<LoadFleet> {
  const shares = workerShares(clients, options.workers ?? loadWorkerCount(clients, availableParallelism()));
  const children = shares.map(() => fork(workerPath, [], { cwd: hubDir, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const joinMs = 60_000 + 20 * clients;
    await Promise.all(
      children.map((child, w) => {
        const joined = next(child, (m) => m.type === 'joined', joinMs, `its ${shares[w]!.count} joins`);
        child.send({ type: 'start', hubUrl, from: shares[w]!.from, count: shares[w]!.count, delayMs } satisfies ToLoadWorker);
        return joined;
      }),
    );
  } catch (error) {
    await stop(children);
    throw error;
  }
  return {
    workers: children.length,
    report: async () => {
      const reports = await Promise.all(
        children.map((child) => {
          const reported = next(child, (m) => m.type === 'report', 60_000, 'its timings');
          child.send({ type: 'report' } satisfies ToLoadWorker);
          return reported as Promise<{ type: 'report' } & LoadWorkerReport>;
        }),
      );
      return {
        rounds: mergeTimings(reports.map((r) => r.rounds)),
        refused: reports.reduce((n, r) => n + r.refused, 0),
        disconnects: reports.reduce<Record<string, number>>((all, r) => {
          for (const [reason, k] of Object.entries(r.disconnects)) all[reason] = (all[reason] ?? 0) + k;
          return all;
        }, {}),
        workers: reports.map(({ cpuMs, rssBytes, longestStallMs, runQueueWaitMs }) => ({ cpuMs, rssBytes, longestStallMs, runQueueWaitMs })),
      };
    },
    close: () => stop(children),
  };
}
