/**
 * Messages between the capacity bench and its processes over Node's IPC channel: the load workers that hold
 * the lightweight clients, and the probe inside the hub's child process. Times are epoch ms, so that figures
 * from different processes of one machine line up.
 */
import type { EpochRoundTimings, HubCommit, Stall } from './capacity-figures';

/** The bench to a load worker. */
export type ToLoadWorker =
  | { type: 'start'; hubUrl: string; from: number; count: number; delayMs: number }
  | { type: 'report' }
  | { type: 'close' };

/** What one load worker saw: its clients' round timings, refusals, and what the worker itself cost. */
export interface LoadWorkerReport {
  rounds: [number, EpochRoundTimings][];
  refused: number;
  /** process.cpuUsage of the worker, user + system, since its clients joined (ms). */
  cpuMs: number;
  rssBytes: number;
  /** Clients that lost their connection after joining, by Socket.IO's reason ('ping timeout', 'transport close', ...). */
  disconnects: Record<string, number>;
  /** The worker's main thread waiting for a core since its clients joined (ms; NaN off Linux). */
  runQueueWaitMs: number;
  /** The worker's own event loop since its clients joined: its longest lateness, so a slow generator shows as itself. */
  longestStallMs: number;
}

/** A load worker to the bench. */
export type FromLoadWorker =
  | { type: 'joined'; count: number }
  | { type: 'failed'; error: string }
  | ({ type: 'report' } & LoadWorkerReport);

/** The bench to the hub's probe; `gc` collects garbage first (the hub runs with --expose-gc under the probe). */
export type ToHubProbe = { type: 'probe:read'; id: number; gc?: boolean } | { type: 'probe:reset'; id: number };

/** The hub process as its probe saw it since the last reset. */
export interface HubFigures {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** process.cpuUsage of the hub, user + system, since the reset (ms). */
  cpuMs: number;
  /** The hub's main thread waiting for a core since the reset (ms; NaN off Linux): the machine's other load. */
  runQueueWaitMs: number;
  /** The reset and this read on the monotonic clock of process.hrtime and of a --cpu-prof profile (µs). */
  span: { fromUs: number; toUs: number };
  stalls: Stall[];
  longestStallMs: number;
  /** Each round's commit, with the hub's CPU and run-queue wait since the reset at that moment (ms). */
  commits: (HubCommit & { cpuMs: number; waitMs: number })[];
  /** When each round's held-out evaluation ended (it starts after the round's commit). */
  evaluations: { round: number; at: number }[];
  /** Garbage collections since the reset: count, total and longest pause (ms). */
  gc: { count: number; totalMs: number; longestMs: number };
}

export type FromHubProbe = { type: 'probe:figures'; id: number; figures: HubFigures } | { type: 'probe:done'; id: number };
