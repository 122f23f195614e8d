/**
 * The capacity bench's arithmetic, apart from its processes and sockets: how many load-worker processes,
 * which clients each holds, the clients' timings merged over the workers, a round's time cut into parts,
 * percentiles, and the one JSON line `pnpm bench capacity` prints.
 */
/** Per round, over a set of clients (epoch ms): the model first and last received, the last update emitted and acked. */
export interface EpochRoundTimings {
  firstReceived: number;
  lastReceived: number;
  lastEmitted: number;
  lastAcked: number;
}

/**
 * Sockets one load worker holds at most: one descriptor each, far below the 20,000 open files a process may
 * have here, and a worker's burst of round:starts stays a fraction of the round.
 */
export const MAX_SOCKETS_PER_WORKER = 5000;

/**
 * Load-worker processes for `clients` clients on `cores` cores: one per core (never more than the clients),
 * so every core can deliver the hub's messages, and more when that would put over MAX_SOCKETS_PER_WORKER in one.
 */
export function loadWorkerCount(clients: number, cores: number, maxPerWorker = MAX_SOCKETS_PER_WORKER): number {
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`clients must be a positive integer, got ${clients}`);
  return Math.max(Math.min(Math.max(1, cores), clients), Math.ceil(clients / maxPerWorker));
}

/** Each worker's share of the clients: contiguous, sizes differing by at most one, `from` numbering their names. */
export function workerShares(clients: number, workers: number): { from: number; count: number }[] {
  const base = Math.floor(clients / workers);
  const extra = clients % workers;
  const out: { from: number; count: number }[] = [];
  let from = 0;
  for (let w = 0; w < workers; w++) {
    const count = base + (w < extra ? 1 : 0);
    out.push({ from, count });
    from += count;
  }
  return out;
}

/** Nearest-rank percentile (p in 0..100); null for no values. */
export function percentile(xs: readonly number[], p: number): number | null {
  if (!xs.length) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const earliest = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.min(a, b));
const latest = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));

/** The workers' timings of each round as one set of clients: earliest first receipt, latest of the rest (NaN: none). */
export function mergeTimings(perWorker: readonly (readonly [number, EpochRoundTimings])[][]): Map<number, EpochRoundTimings> {
  const out = new Map<number, EpochRoundTimings>();
  for (const rounds of perWorker) {
    for (const [round, t] of rounds) {
      const m = out.get(round);
      out.set(
        round,
        m
          ? {
              firstReceived: earliest(m.firstReceived, t.firstReceived),
              lastReceived: latest(m.lastReceived, t.lastReceived),
              lastEmitted: latest(m.lastEmitted, t.lastEmitted),
              lastAcked: latest(m.lastAcked, t.lastAcked),
            }
          : { ...t },
      );
    }
  }
  return out;
}

/** The hub's commit of a round, from its probe (epoch ms); the round began durationMs before the commit. */
export interface HubCommit {
  round: number;
  durationMs: number;
  commitStart: number;
  commitEnd: number;
}

/** A stall of the hub's event loop: it ended at `at` (epoch ms) and lasted `ms`. */
export interface Stall {
  at: number;
  ms: number;
  /** The main thread's CPU time in the interval the stall spans (the loop's own work), where measured. */
  cpuMs?: number;
  /** Its time runnable without a core in that interval (other processes and threads had both), where measured. */
  waitMs?: number;
}

/**
 * One round's wall time, cut along the clients' view (ms). With the hub's commit known, the parts add up to
 * durationMs: hub start -> first client has the model -> last has it -> last update emitted -> acked -> commit.
 */
export interface RoundParts {
  durationMs: number;
  simulatedTrainMs: number;
  /** durationMs minus the simulated training. */
  coordinationMs: number;
  /** The hub starting the round to the first client holding the model (building and encoding, the first send). */
  startToFirstMs: number | null;
  /** The first client holding the model to the last one. */
  receiveSpreadMs: number;
  /** The last client to get the model until the last update went out, beyond the simulated training. */
  lateUpdateMs: number;
  /** The last update emitted to its ack. */
  lastAckMs: number;
  /** The last ack to the round's commit (FedAvg finish, server step). */
  ackToCommitMs: number | null;
  /** What the parts above do not cover: the hub's start and finish when its commit is unknown. */
  restMs: number;
  /** The longest stall of the hub's event loop that overlapped the round; null without a probe. */
  longestStallMs: number | null;
  /** The same, leaving out stalls that overlapped the hub's evaluation of the previous round's model. */
  longestStallOutsideEvalMs: number | null;
}

/** A span of epoch ms, both ends included. */
export interface Window {
  from: number;
  to: number;
}

const overlaps = (s: Stall, w: Window) => s.at >= w.from && s.at - s.ms <= w.to;

/**
 * Longest stall overlapping [from, to] and, of those, overlapping none of `exclude`; 0 when none (the probe
 * records only stalls over its threshold). A stall spans [at - ms, at]: it is seen only when the loop is free again.
 */
export function longestStallIn(stalls: readonly Stall[], from: number, to: number, exclude: readonly Window[] = []): { all: number; outside: number } {
  let all = 0;
  let outside = 0;
  for (const s of stalls) {
    if (!overlaps(s, { from, to })) continue;
    all = Math.max(all, s.ms);
    if (!exclude.some((w) => overlaps(s, w))) outside = Math.max(outside, s.ms);
  }
  return { all, outside };
}

/** Each round's held-out evaluation: from its commit's end to the evaluation's end (the hub runs it beside the next round). */
export function evaluationWindows(commits: readonly HubCommit[], evaluations: readonly { round: number; at: number }[]): Window[] {
  const out: Window[] = [];
  for (const e of evaluations) {
    const c = commits.find((x) => x.round === e.round);
    if (c) out.push({ from: c.commitEnd, to: e.at });
  }
  return out;
}

/** Cuts one round: `t` from the clients, `commit` and `stalls` from the hub's probe when it ran. */
export function roundParts(
  durationMs: number,
  simulatedTrainMs: number,
  t: EpochRoundTimings,
  hub?: { commit: HubCommit; stalls: readonly Stall[]; evaluations: readonly Window[] },
): RoundParts {
  const commit = hub?.commit;
  const receiveSpreadMs = t.lastReceived - t.firstReceived;
  const lastWait = t.lastEmitted - t.lastReceived;
  const lastAckMs = t.lastAcked - t.lastEmitted;
  const start = commit ? commit.commitStart - commit.durationMs : null;
  const startToFirstMs = start === null ? null : t.firstReceived - start;
  const ackToCommitMs = commit ? commit.commitStart - t.lastAcked : null;
  const covered = receiveSpreadMs + lastWait + lastAckMs + (startToFirstMs ?? 0) + (ackToCommitMs ?? 0);
  const stall = hub && start !== null ? longestStallIn(hub.stalls, start, hub.commit.commitEnd, hub.evaluations) : null;
  return {
    durationMs,
    simulatedTrainMs,
    coordinationMs: durationMs - simulatedTrainMs,
    startToFirstMs,
    receiveSpreadMs,
    lateUpdateMs: lastWait - simulatedTrainMs,
    lastAckMs,
    ackToCommitMs,
    restMs: durationMs - covered,
    longestStallMs: stall?.all ?? null,
    longestStallOutsideEvalMs: stall?.outside ?? null,
  };
}

/** The soft and hard open-files limits from a /proc/<pid>/limits text; null where the line is missing. */
export function openFilesLimit(limits: string): { soft: number; hard: number } | null {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!m) return null;
  const value = (x: string) => (x === 'unlimited' ? Infinity : Number(x));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/** Descriptors a hub needs besides its clients' sockets (listening socket, SQLite files, epoll, pipes): a margin. */
export const HUB_OWN_DESCRIPTORS = 64;

/** Hub RSS each connected idle client adds: (RSS with N clients - RSS with none) / N, in KiB. */
export function rssPerClientKiB(rssNoneBytes: number, rssClientsBytes: number, clients: number): number {
  if (clients < 1) throw new RangeError(`clients must be at least 1, got ${clients}`);
  return (rssClientsBytes - rssNoneBytes) / clients / 1024;
}

/** The figures of one `pnpm bench capacity` run; the first four are the line, the rest explain it. */
export interface CapacityLine {
  clients: number;
  rounds: number;
  p95CoordinationMs: number | null;
  peakRssMiB: number | null;
  completedRounds: number;
  ok: boolean;
  reason: string | null;
  trainMs: number;
  workers: number;
  longestStallMs: number | null;
  rssPerClientKiB: number | null;
  coordinationMs: number[];
}

const round1 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);

/** The one JSON line: keys in the order first, numbers to 0.1 ms / MiB / KiB, non-finite as null. */
export function capacityLine(c: CapacityLine): string {
  return JSON.stringify({
    clients: c.clients,
    rounds: c.rounds,
    p95CoordinationMs: round1(c.p95CoordinationMs),
    peakRssMiB: round1(c.peakRssMiB),
    completedRounds: c.completedRounds,
    ok: c.ok,
    reason: c.reason,
    trainMs: c.trainMs,
    workers: c.workers,
    longestStallMs: round1(c.longestStallMs),
    rssPerClientKiB: round1(c.rssPerClientKiB),
    coordinationMs: c.coordinationMs.map((x) => round1(x)),
  });
}
