import type { FoldStallResults } from './fold-bench';

declare module './report' {
  interface BenchResults {
    /** Aggregation off the event loop: the loop's longest stall in a 1,000-update round, folding there and in the worker. */
    foldStall?: FoldStallResults;
  }
}

/** The event loop's longest stall while a round's updates are folded, with the fold worker (issue 13). */
export const FOLD_STALL_TARGET_MS = 50;

const ms = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(1));

export function foldStallRows(s: FoldStallResults | undefined): [string, string, string, string][] {
  const n = s ? s.updates.toLocaleString('en-US') : '1,000';
  const name = s && s.updates !== 1000 ? `eventLoopStallMs (${n} updates: --quick size)` : 'eventLoopStallMs1000';
  return [
    [name, ms(s?.worker.stallWhileFoldingMs), `< ${FOLD_STALL_TARGET_MS}`, s ? (s.worker.stallWhileFoldingMs < FOLD_STALL_TARGET_MS ? 'met' : '**missed**') : 'not measured'],
    ['  the same with the fold on the event loop (before issue 13)', ms(s?.eventLoop.stallWhileFoldingMs), '(no target)', ''],
    ["  the block that commits the round (SHA-256, SQLite write), with the fold worker", ms(s?.worker.stallToCommitMs), '(no target)', ''],
    ['  decode + check + fold MB/s, fold worker / event loop', s ? `${s.throughputMBs.worker.toFixed(0)} / ${s.throughputMBs.eventLoop.toFixed(0)}` : 'n/a', '(no target)', ''],
  ];
}

export function foldStallMeaning(s: FoldStallResults | undefined): string {
  if (!s) return '- **eventLoopStallMs1000**: not measured in this run (`pnpm bench --only folds`).';
  const mb = ((s.params * 4) / 1e6).toFixed(2);
  return `- **eventLoopStallMs1000**: the hub's longest event-loop stall (a 1 ms interval probe, hub/src/bench/loop-stalls.ts) while a
  round of ${s.updates.toLocaleString('en-US')} updates of ${s.params.toLocaleString('en-US')} values (${mb} MB frames) arrives and is decoded, checked
  and folded, on a real hub (buildApp, coordinator.submit with real frames), from the first update to the commit, less the
  block that commits (its own row). The frames
  come from a producer thread in bursts of ${s.burst} (what one turn of a busy socket loop can deliver), at most three bursts
  unanswered. With the fold worker the event loop only moves each frame's bytes (hub/src/engine/fold-worker.ts); before, it
  decoded and folded every burst itself. Median of ${s.trials} rounds in each place, alternating. The longest GC pause of the
  event loop's thread in those rounds was ${ms(s.worker.longestGcMs)} ms with the worker (${ms(s.eventLoop.longestGcMs)} before), and the thread waited
  ${ms(s.worker.runQueueWaitMs)} ms for a core in a round (${ms(s.eventLoop.runQueueWaitMs)} before): on a busy 2-core machine that is the rest of a stall.
  Rounds took ${s.worker.roundMs.toFixed(0)} ms with the worker, ${s.eventLoop.roundMs.toFixed(0)} ms before. The commit after the sum (SHA-256 and the SQLite
  write of the new model) still runs on the event loop: its block is the next row (before, the last burst's folds ran in that
  same block, ${ms(s.eventLoop.stallToCommitMs)} ms). Throughput: frame MB decoded, checked and
  folded per CPU second of the thread that does it (Linux schedstat), ${Math.min(s.updates, 200)} updates; the worker decodes a moved
  frame in place, the event loop copies it out of the socket's buffer first.`;
}
