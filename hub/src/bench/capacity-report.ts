/**
 * The capacity ladder and the lightweight overhead rounds in BENCHMARKS.md: summary rows, the steps' table,
 * where each step's round time went, and what the figures mean. Steps from before the load workers (without
 * coordination, stall or memory figures) render with n/a in those columns.
 */
import type { CapacityStep, LightweightRound } from './capacity-bench';
import { CAPACITY_LIMITS } from './capacity-bench';
import { MAX_SOCKETS_PER_WORKER, type Stall } from './capacity-figures';

type Row = [string, string, string, string];

/** The step count issue 13 asks a hub to pass, and the step whose rounds' longest stall is judged. */
export const CAPACITY_TARGET_CLIENTS = 10_000;
export const STALL_STEP_CLIENTS = 1000;
export const STALL_TARGET_MS = 50;

const n = (x: number | null | undefined, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');
const count = (x: number) => x.toLocaleString('en-US');

/** Met at the target step; unknown when every step passed but none reached it (a --quick run tries fewer steps). */
export function capacityMet(steps: CapacityStep[] | undefined, maxClients: number | undefined): boolean | undefined {
  if (maxClients === undefined || !steps) return undefined;
  if (maxClients >= CAPACITY_TARGET_CLIENTS) return true;
  return steps.every((s) => s.ok) ? undefined : false;
}

/** A stall as its length and what the main thread did in it: ran (the loop's own work) and waited for a core. */
const stallBreakdown = (x: Stall) =>
  `${n(x.ms)} ms${x.cpuMs === undefined ? '' : ` (${n(x.cpuMs)} running, ${n(x.waitMs)} waiting for a core)`}`;

/** The longest stall of the hub's loop over the rounds of a step, and of those outside its evaluations. */
function roundStalls(s: CapacityStep | undefined): { all: number; outside: number } | null {
  const parts = (s?.parts ?? []).filter((p) => p.longestStallMs !== null);
  if (!parts.length) return null;
  return { all: Math.max(...parts.map((p) => p.longestStallMs!)), outside: Math.max(...parts.map((p) => p.longestStallOutsideEvalMs ?? 0)) };
}

/** Summary rows: maxClients, its figures, the 1,000-client round's longest stall, memory per client. */
export function capacityRows(steps: CapacityStep[] | undefined, maxClients: number | undefined): Row[] {
  const cap = steps?.find((s) => s.clients === maxClients);
  const stalls = roundStalls(steps?.find((s) => s.clients === STALL_STEP_CLIENTS));
  const memory = [...(steps ?? [])].reverse().find((s) => s.rssPerClientKiB !== null && s.rssPerClientKiB !== undefined);
  return [
    ['maxClients', maxClients === undefined ? 'n/a' : String(maxClients), `>= ${count(CAPACITY_TARGET_CLIENTS)} (p95 coordination < 5 s, RSS < 2 GiB)`, verdict(capacityMet(steps, maxClients))],
    [
      '  at maxClients: p95 coordination / peak hub RSS',
      cap ? `${cap.p95CoordinationMs === undefined ? `${n(cap.p95Ms)} (round)` : n(cap.p95CoordinationMs)} ms / ${n(cap.peakRssMiB)} MiB` : 'n/a',
      '',
      '',
    ],
    [
      `hub event loop: longest stall in a ${count(STALL_STEP_CLIENTS)}-client round`,
      stalls ? `${n(stalls.all)} ms (${n(stalls.outside)} outside evaluations)` : 'n/a',
      `< ${STALL_TARGET_MS} ms`,
      verdict(stalls ? stalls.all < STALL_TARGET_MS : undefined),
    ],
    ['hub RSS per connected idle client', memory ? `${n(memory.rssPerClientKiB, 1)} KiB (at ${count(memory.clients)})` : 'n/a', '(no target)', ''],
  ];
}

/** The steps' table. */
export function capacityTable(steps: CapacityStep[] | undefined): string {
  if (!steps?.length) return '| (not measured) | | | | | | | | |';
  return steps
    .map((s) => {
      const stall = s.longestStallMs === null || s.longestStallMs === undefined ? 'n/a' : `${n(s.longestStallMs)} (${n(s.longestStallOutsideEvalMs)})`;
      const rounds = s.completedRounds === undefined ? '' : `${s.completedRounds} / ${s.rounds}`;
      return `| ${count(s.clients)} | ${s.ok ? 'yes' : 'no'} | ${rounds} | ${n(s.p95CoordinationMs)} | ${n(s.p95Ms)} | ${n(s.peakRssMiB)} | ${n(s.rssPerClientKiB, 1)} | ${stall} | ${s.workers ?? ''} | ${(s.reason ?? '').replaceAll('|', '/')} |`;
    })
    .join('\n');
}

/** Per step and round, where the time went; then each step's process figures. */
export function capacityParts(steps: CapacityStep[] | undefined): string {
  const measured = (steps ?? []).filter((s) => s.parts?.length);
  if (!measured.length) return 'No step completed a round with the probe in this run.';
  const rows = measured.flatMap((s) =>
    s.parts!.map(
      (p) =>
        `| ${count(s.clients)} | ${p.round} | ${n(p.durationMs)} | ${n(p.coordinationMs)} | ${n(p.startToFirstMs)} | ${n(p.receiveSpreadMs)} | ${n(p.lateUpdateMs)} | ${n(p.lastAckMs)} | ${n(p.ackToCommitMs)} | ${n(p.longestStallMs)} (${n(p.longestStallOutsideEvalMs)}) | ${n(p.hubCpuMs)} / ${n(p.hubWaitMs)} |`,
    ),
  );
  const processes = measured.map(
    (s) =>
      `- ${count(s.clients)} clients: the hub used ${n(s.hubCpuMs)} ms of CPU in the run's ${n(s.wallMs)} ms and waited ${n(s.hubRunQueueWaitMs)} ms for a core, ${s.gc ? `${s.gc.count} GC pauses (${n(s.gc.totalMs)} ms, the longest ${n(s.gc.longestMs)} ms)` : 'GC not measured'}; ` +
      `idle RSS ${n(s.idleRssMiB?.none)} MiB with no client, ${n(s.idleRssMiB?.clients)} MiB with all connected; ` +
      `the ${s.workers} load workers' CPU ${(s.workerCpuMs ?? []).map((x) => n(x)).join(' / ')} ms and longest stalls ${(s.workerStallMs ?? []).map((x) => n(x)).join(' / ')} ms, waits for a core ${(s.workerRunQueueWaitMs ?? []).map((x) => n(x)).join(' / ')} ms` +
      `${s.loadAverage === undefined ? '' : `; 1-minute load average ${n(s.loadAverage, 1)} when the step began`}` +
      `${s.joinMs === undefined ? '' : `; the clients joined in ${n(s.joinMs / 1000, 1)} s`}` +
      `${s.longestStalls?.some((x) => x.cpuMs !== undefined) ? `; the hub's longest stalls ${s.longestStalls.slice(0, 3).map(stallBreakdown).join(', ')}` : ''}` +
      `${s.disconnects && Object.keys(s.disconnects).length ? `; clients disconnected during the run: ${Object.entries(s.disconnects).map(([why, k]) => `${k} (${why})`).join(', ')}` : ''}.`,
  );
  return `| clients | round | round (ms) | coordination | start to first model | spread to last | late update | last ack | ack to commit | longest stall (outside evaluations) | hub CPU / waiting for a core |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

${processes.join('\n')}`;
}

/** The meanings of the capacity figures. */
export function capacityMeaning(steps: CapacityStep[] | undefined): string {
  const s = steps?.find((x) => x.trainMs !== undefined);
  const tried = (steps ?? []).map((x) => count(x.clients)).join(', ');
  return `- **maxClients**: the largest number of lightweight clients the hub took through every round of a ${s?.rounds ?? 'R'}-round run with
  every client in every round, no update refused, p95 coordination < ${CAPACITY_LIMITS.p95CoordinationMs} ms and peak hub RSS < ${CAPACITY_LIMITS.peakRssMiB} MiB, trying ${tried || 'growing steps'}
  (each step is run whatever the one before it showed). A lightweight client joins, waits for its model (in round:start, or the
  round's model broadcast), "trains" for ${s ? `${s.trainMs} ms` : 'a fixed time'} and sends a valid update. The clients run in load-worker processes
  (one per core, more where one would hold over ${count(MAX_SOCKETS_PER_WORKER)} sockets; at nice 10, so that where they and the hub want the
  same core the hub gets it), the hub in its own process: the figures are the hub's, and the workers' own CPU and stalls are listed.
- **coordination**: a round's wall time as the hub records it (round start to commit) minus the simulated training. Its parts
  are seen from the clients (epoch ms, merged over the workers) and the hub's commit: start to first model (building and encoding
  round:start), spread to last (sending it to every client), late update (the last update going out after its timer; a worker
  starved of CPU shows here), last ack (upload, the hub's checks and fold), ack to commit (the FedAvg finish; slightly negative
  when the hub commits before its ack has reached the client).
- **waiting for a core**: the time the hub's (or a worker's) main thread sat runnable in the run queue while other processes
  had the cores (\`/proc/self/schedstat\`). The bench shares this 2-core machine with other work: a round whose wait is a large
  part of it was slowed by the machine, not by the hub's code.
- **longest stall**: the hub's event loop, from an interval-drift probe (a 10 ms timer; lateness over 20 ms is a stall) that the
  bench loads into the hub process (\`hub/src/bench/hub-probe.ts\`, only with FL_HUB_PROBE=1); in brackets the longest that did not
  overlap the hub's held-out evaluation of a round's model, which runs on the same loop beside the next round. For each step's
  longest stalls the probe also reads the main thread's \`/proc/thread-self/schedstat\` at every tick: the CPU time it ran in the
  stall (the loop's own work: handlers, parsing, garbage collection) and the time it sat runnable without a core.
- **hub RSS per connected idle client**: (hub RSS with every client connected and idle - RSS with none) / clients, each read after
  two garbage collections half a second apart; noisy at small steps, meaningful at thousands.
- **open files**: the hub needs one descriptor per client plus its own (about 20). This machine's limit is 20,000 soft and hard
  (\`ulimit -n\`), and the container may not raise its hard limit (\`ulimit -Hn 200000\`: "Operation not permitted", even as root);
  a process without CAP_SYS_RESOURCE, the bench's hub child included, can only lower it. So the 20,000 step cannot get every client
  connected here. Where it is allowed,
  raise it before the bench: \`ulimit -n 65536 && pnpm bench\` (or \`docker run --ulimit nofile=65536:65536\`,
  or \`LimitNOFILE=65536\` in a systemd unit). The load workers hold at most ${count(MAX_SOCKETS_PER_WORKER)} sockets each, well inside it.`;
}

/** One lightweight overhead round for the misses section. */
export function lightweightRoundLine(x: LightweightRound, i: number): string {
  const hub =
    x.startToFirstMs === undefined || x.startToFirstMs === null
      ? `the remaining ${n(x.restMs)} ms (hub encode, first delivery, FedAvg finish) are not split further`
      : `the hub took ${n(x.startToFirstMs)} ms from the round's start to the first client holding the model and ${n(x.ackToCommitMs)} ms from the last ack to the commit; its longest event-loop stall in the round ${n(x.longestStallMs)} ms`;
  return (
    `  - round ${i + 1}: ${n(x.durationMs)} ms for ${n(x.simulatedTrainMs)} ms of simulated training: the model reached the clients over ` +
    `${n(x.receiveSpreadMs)} ms (first to last); the last update went out ${n(x.lastWaitMs - x.simulatedTrainMs)} ms later than its timer's ${n(x.simulatedTrainMs)} ms; ` +
    `its ack came ${n(x.lastAckMs)} ms after it; ${hub}.`
  );
}

/** Whether overhead rounds are lightweight ones (the 8-client figure was real headless training before the load workers). */
export function isLightweightRounds(rounds: readonly object[]): rounds is LightweightRound[] {
  return rounds.length > 0 && 'receiveSpreadMs' in rounds[0]!;
}
