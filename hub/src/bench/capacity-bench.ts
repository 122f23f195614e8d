import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { SETTING_LIMITS, type RunDetail } from '@fl/shared';
import { childHub, launchRun, waitForRun } from './bench-hub';
import { startLoadFleet, type FleetReport, type LoadFleet } from './load-fleet';
import { HUB_OWN_DESCRIPTORS, evaluationWindows, longestStallIn, openFilesLimit, percentile, roundParts, rssPerClientKiB, type RoundParts, type Stall } from './capacity-figures';
import type { HubFigures } from './load-protocol';
import { summariseProfile, type CpuProfile, type ProfileEntry } from './cpu-profile-summary';

/** What a capacity run asks of the hub: its clients (in load workers), their simulated training, the run. */
export interface CapacityOptions {
  clients: number;
  rounds: number;
  /** Each client's simulated local training per round (ms). */
  trainMs: number;
  /** Sampling: the clients drawn per round; all of them when absent. */
  clientsPerRound?: number;
  roundTimeoutSec?: number;
  /** A folder for a V8 CPU profile of the hub; its heaviest functions during the run go into the step. */
  cpuProfileDir?: string;
  log?: (message: string) => void;
}

interface LightweightRunResult {
  run: RunDetail;
  fleet: FleetReport;
  workers: number;
  hub: HubFigures;
  peakRssBytes: number;
  /** Hub RSS after a garbage collection, before any client connected and with every client connected and idle. */
  idleRssBytes: { none: number; clients: number };
  wallMs: number;
  joinMs: number;
}

/** Failures carry the hub's peak RSS up to them, and how far the run got. */
class CapacityRunError extends Error {
  constructor(
    message: string,
    readonly peakRssBytes: number,
  ) {
    super(message);
  }
}

/**
 * The hub in its own process (with its probe), the clients in load-worker processes, one run of `rounds`.
 * minClients is capped by the hub's own limit; the launch comes after every client joined, so every one takes part.
 */
async function lightweightRun(o: CapacityOptions): Promise<LightweightRunResult> {
  const hub = await childHub({ probe: true, ...(o.cpuProfileDir ? { cpuProfileDir: o.cpuProfileDir } : {}) });
  const probe = hub.probe!;
  const files = openFilesLimit(hub.limits());
  if (files && files.soft < o.clients + HUB_OWN_DESCRIPTORS) {
    o.log?.(`   the hub may open ${files.soft} files (hard limit ${files.hard}): fewer than ${o.clients} clients and its own; expect EMFILE (raise ulimit -n before the bench)`);
  }
  let fleet: LoadFleet | null = null;
  // Collections half a second apart until two readings agree within 2 MiB (at most 10 s): V8 hands freed pages back
  // lazily, and the hub's fold and evaluation threads load their code after it starts listening.
  const settled = async () => {
    let last = await probe.read({ gc: true });
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const now = await probe.read({ gc: true });
      if (Math.abs(now.rssBytes - last.rssBytes) < 2 * 1024 * 1024) return now;
      last = now;
    }
    return last;
  };
  try {
    const none = await settled();
    const joining = Date.now();
    fleet = await startLoadFleet(hub.url, o.clients, o.trainMs);
    const joinMs = Date.now() - joining;
    o.log?.(`   ${o.clients} clients joined from ${fleet.workers} load-worker processes in ${(joinMs / 1000).toFixed(1)} s`);
    const idle = await settled();
    await probe.reset();
    const started = Date.now();
    const timeoutSec = o.roundTimeoutSec ?? 120;
    const id = await launchRun(hub.url, {
      task: 'mnist',
      rounds: o.rounds,
      minClients: Math.min(o.clientsPerRound ?? o.clients, SETTING_LIMITS.minClients.maximum),
      ...(o.clientsPerRound ? { clientsPerRound: o.clientsPerRound } : {}),
      roundTimeoutSec: timeoutSec,
      init: 'fresh',
      seed: 1,
    });
    const run = await waitForRun(hub.url, id, (o.rounds * timeoutSec + 60) * 1000);
    const wallMs = Date.now() - started;
    const figures = await probe.read();
    const report = await fleet.report();
    return { run, fleet: report, workers: fleet.workers, hub: figures, peakRssBytes: hub.peakRssBytes(), idleRssBytes: { none: none.rssBytes, clients: idle.rssBytes }, wallMs, joinMs };
  } catch (error) {
    throw new CapacityRunError(error instanceof Error ? error.message : String(error), hub.process.exitCode === null ? hub.peakRssBytes() : NaN);
  } finally {
    await fleet?.close();
    await hub.close();
  }
}

/** Each completed round cut into parts, from the merged client timings and the hub's commits and stalls. */
/** A round's parts with the hub's CPU and run-queue wait between the previous commit (or the launch) and its own. */
export type CapacityRound = RoundParts & { round: number; hubCpuMs: number | null; hubWaitMs: number | null };

function partsOf(r: LightweightRunResult, trainMs: number): CapacityRound[] {
  const commits = new Map<number, HubFigures['commits'][number]>(r.hub.commits.map((c) => [c.round, c]));
  const evaluations = evaluationWindows(r.hub.commits, r.hub.evaluations);
  let cpuBefore = 0;
  let waitBefore = 0;
  return r.run.rounds
    .filter((x) => x.status === 'completed')
    .map((x) => {
      const commit = commits.get(x.round);
      const t = r.fleet.rounds.get(x.round) ?? { firstReceived: NaN, lastReceived: NaN, lastEmitted: NaN, lastAcked: NaN };
      const hubCpuMs = commit ? commit.cpuMs - cpuBefore : null;
      const hubWaitMs = commit && Number.isFinite(commit.waitMs) ? commit.waitMs - waitBefore : null;
      if (commit) [cpuBefore, waitBefore] = [commit.cpuMs, commit.waitMs];
      return { round: x.round, ...roundParts(x.durationMs, trainMs, t, commit && { commit, stalls: r.hub.stalls, evaluations }), hubCpuMs, hubWaitMs };
    });
}

/** One lightweight round as the clients and the hub's probe saw it (the older fields kept for old results). */
export interface LightweightRound {
  durationMs: number;
  simulatedTrainMs: number;
  /** The model reaching the first client to reaching the last one. */
  receiveSpreadMs: number;
  /** The last model received to the last update emitted (the simulated training and timer lateness). */
  lastWaitMs: number;
  /** The last update emitted to its ack (upload and the hub's checks and fold). */
  lastAckMs: number;
  /** durationMs minus the parts measured; with the hub's probe, the parts below cover the rest. */
  restMs: number;
  /** The hub starting the round to the first client holding the model. */
  startToFirstMs?: number | null;
  /** The last ack to the hub's commit. */
  ackToCommitMs?: number | null;
  /** The longest stall of the hub's event loop within the round. */
  longestStallMs?: number | null;
}

const asLightweightRound = (p: RoundParts): LightweightRound => ({
  durationMs: p.durationMs,
  simulatedTrainMs: p.simulatedTrainMs,
  receiveSpreadMs: p.receiveSpreadMs,
  lastWaitMs: p.lateUpdateMs + p.simulatedTrainMs,
  lastAckMs: p.lastAckMs,
  restMs: p.restMs,
  startToFirstMs: p.startToFirstMs,
  ackToCommitMs: p.ackToCommitMs,
  longestStallMs: p.longestStallMs,
});

/**
 * Round overhead when every client "trains" for exactly `delayMs`: (round time - delay) / round time, the
 * clients in load-worker processes and the hub in its own.
 */
export async function benchLightweightOverhead(clients: number, delayMs: number, rounds: number) {
  const r = await lightweightRun({ clients, rounds, trainMs: delayMs });
  if (r.run.status !== 'completed') throw new Error(`overhead run ${r.run.status}: ${r.run.reason}`);
  const perRound = r.run.rounds.map((x) => (x.durationMs - delayMs) / x.durationMs);
  return {
    overhead: perRound.reduce((a, b) => a + b, 0) / perRound.length,
    rounds: partsOf(r, delayMs).map(asLightweightRound),
  };
}

/** One step of the capacity ladder; the fields after `reason` are absent in results from before the load workers. */
export interface CapacityStep {
  clients: number;
  ok: boolean;
  /** p95 of the round wall times. */
  p95Ms: number | null;
  peakRssMiB: number | null;
  reason: string | null;
  /** p95 of round wall time minus the simulated training. */
  p95CoordinationMs?: number | null;
  rounds?: number;
  completedRounds?: number;
  trainMs?: number;
  clientsPerRound?: number | null;
  workers?: number;
  /** The hub's event loop over the whole run (launch to end), and per round in `parts`. */
  longestStallMs?: number | null;
  /** The same, leaving out stalls that overlapped the hub's evaluation of a round's model (2,000 held-out digits). */
  longestStallOutsideEvalMs?: number | null;
  /** The run's longest stalls (up to 5, longest first), each with the main thread's CPU and wait for a core inside it. */
  longestStalls?: Stall[];
  /** Hub RSS with every client connected and idle, less RSS with none, per client. */
  rssPerClientKiB?: number | null;
  idleRssMiB?: { none: number; clients: number } | null;
  /** Hub CPU (user + system) over the run's wall time, and its main thread's wait for a core (the machine's other load). */
  hubCpuMs?: number | null;
  hubRunQueueWaitMs?: number | null;
  wallMs?: number | null;
  gc?: HubFigures['gc'] | null;
  /** Each load worker's CPU and longest event-loop lateness while the run went on. */
  workerCpuMs?: number[];
  workerStallMs?: number[];
  workerRunQueueWaitMs?: number[];
  /** Clients that lost their connection after joining, by Socket.IO's reason. */
  disconnects?: Record<string, number>;
  /** From the first connection to the last join's ack. */
  joinMs?: number;
  /** With a CPU profile: per hub thread (0 is the event loop), the heaviest functions by self time from the launch to the run's end. */
  hubProfile?: { thread: number; sampledMs: number; top: ProfileEntry[] }[];
  /** The machine's 1-minute load average as the step began (the bench shares its cores). */
  loadAverage?: number;
  parts?: CapacityRound[];
}

const MiB = 2 ** 20;

/** Limits a step must stay within to pass (issue 13's acceptance). */
export const CAPACITY_LIMITS = { p95CoordinationMs: 5000, peakRssMiB: 2048 } as const;

/** One capacity run measured and judged; a run that breaks is a step with its reason, never a throw. */
export async function measureCapacity(o: CapacityOptions): Promise<CapacityStep> {
  const expected = o.clientsPerRound ?? o.clients;
  const base = { clients: o.clients, rounds: o.rounds, trainMs: o.trainMs, clientsPerRound: o.clientsPerRound ?? null, loadAverage: loadavg()[0]! };
  let r: LightweightRunResult;
  try {
    r = await lightweightRun(o);
  } catch (error) {
    const peak = error instanceof CapacityRunError ? error.peakRssBytes / MiB : NaN;
    return { ...base, ok: false, p95Ms: null, p95CoordinationMs: null, completedRounds: 0, peakRssMiB: Number.isFinite(peak) ? peak : null, reason: error instanceof Error ? error.message : String(error) };
  }
  const hubProfile = o.cpuProfileDir ? threadProfiles(o.cpuProfileDir, r.hub.span) : null;
  const completed = r.run.rounds.filter((x) => x.status === 'completed');
  const durations = completed.map((x) => x.durationMs);
  const p95Ms = percentile(durations, 95);
  const p95CoordinationMs = percentile(durations.map((d) => d - o.trainMs), 95);
  const peakRssMiB = r.peakRssBytes / MiB;
  const complete = r.run.status === 'completed' && completed.length === o.rounds && completed.every((x) => x.clients === expected);
  const reason = !complete
    ? `run ${r.run.status}: ${r.run.reason ?? `${completed.length} of ${o.rounds} rounds completed with all ${expected} clients`}`
    : r.fleet.refused
      ? `${r.fleet.refused} updates refused`
      : p95CoordinationMs! >= CAPACITY_LIMITS.p95CoordinationMs
        ? `p95 coordination over ${CAPACITY_LIMITS.p95CoordinationMs} ms`
        : peakRssMiB >= CAPACITY_LIMITS.peakRssMiB
          ? `peak RSS over ${CAPACITY_LIMITS.peakRssMiB} MiB`
          : null;
  return {
    ...base,
    ok: reason === null,
    p95Ms,
    p95CoordinationMs,
    peakRssMiB,
    reason,
    completedRounds: completed.length,
    workers: r.workers,
    longestStallMs: r.hub.longestStallMs,
    longestStallOutsideEvalMs: longestStallIn(r.hub.stalls, -Infinity, Infinity, evaluationWindows(r.hub.commits, r.hub.evaluations)).outside,
    longestStalls: [...r.hub.stalls].sort((a, b) => b.ms - a.ms).slice(0, 5),
    rssPerClientKiB: rssPerClientKiB(r.idleRssBytes.none, r.idleRssBytes.clients, o.clients),
    idleRssMiB: { none: r.idleRssBytes.none / MiB, clients: r.idleRssBytes.clients / MiB },
    hubCpuMs: r.hub.cpuMs,
    hubRunQueueWaitMs: Number.isFinite(r.hub.runQueueWaitMs) ? r.hub.runQueueWaitMs : null,
    wallMs: r.wallMs,
    gc: r.hub.gc,
    workerCpuMs: r.fleet.workers.map((w) => w.cpuMs),
    workerStallMs: r.fleet.workers.map((w) => w.longestStallMs),
    workerRunQueueWaitMs: r.fleet.workers.map((w) => w.runQueueWaitMs),
    disconnects: r.fleet.disconnects,
    joinMs: r.joinMs,
    parts: partsOf(r, o.trainMs),
    ...(hubProfile ? { hubProfile } : {}),
  };
}

/**
 * The hub's last .cpuprofile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; tsx's loader and any
 * worker thread write their own), summarised over the run's span; null when it wrote none.
 */
function threadProfiles(dir: string, span: HubFigures['span']): CapacityStep['hubProfile'] | null {
  const latest = new Map<number, { file: string; mtime: number }>();
  for (const name of readdirSync(dir)) {
    const m = /\.(\d+)\.\d+\.cpuprofile$/.exec(name);
    if (!m) continue;
    const file = join(dir, name);
    const mtime = statSync(file).mtimeMs;
    const thread = Number(m[1]);
    if ((latest.get(thread)?.mtime ?? -1) < mtime) latest.set(thread, { file, mtime });
  }
  if (!latest.size) return null;
  return [...latest.entries()]
    .sort(([a], [b]) => a - b)
    .map(([thread, { file }]) => ({ thread, ...summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, { ...span, limit: 25 }) }));
}

/** The ladder: every step measured and reported, whatever the one before it showed. */
export async function benchCapacity(steps: number[], rounds: number, trainMs: number, log: (m: string) => void): Promise<CapacityStep[]> {
  const out: CapacityStep[] = [];
  for (const clients of steps) {
    const step = await measureCapacity({ clients, rounds, trainMs, log });
    out.push(step);
    log(`   ${describeStep(step)}`);
  }
  return out;
}

const f0 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(0));

/** One line per step for the console. */
export function describeStep(s: CapacityStep): string {
  return (
    `${s.clients} clients: ${s.completedRounds ?? '?'}/${s.rounds ?? '?'} rounds, p95 coordination ${f0(s.p95CoordinationMs)} ms, ` +
    `peak RSS ${f0(s.peakRssMiB)} MiB, longest stall ${f0(s.longestStallMs)} ms (${f0(s.longestStallOutsideEvalMs)} outside evaluations), ${s.rssPerClientKiB === null || s.rssPerClientKiB === undefined ? 'n/a' : s.rssPerClientKiB.toFixed(1)} KiB/client` +
    (s.ok ? '' : ` (${s.reason})`)
  );
}
