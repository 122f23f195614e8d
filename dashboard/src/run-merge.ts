import type { RunDetail } from '@fl/shared/api';

/**
 * Where a copy of a run came from. The hub pushes `run:update` after every stored change and pushes arrive in
 * order, so a push is always the newest copy. An answer to a request (the list, one run, Stop) may have been
 * read before a push that arrived first, so it replaces a copy only when it is at least as far along.
 */
export type RunSource = 'push' | 'answer';

/** How far a copy of a run has got: rounds recorded, rounds evaluated, ended. Compared in that order. */
export function runProgress(run: RunDetail): [number, number, number] {
  const evaluated = run.rounds.filter((r) => r.accuracy !== null || r.clientTest !== null).length;
  return [run.rounds.length, evaluated, run.endedAt !== null ? 1 : 0];
}

function notBehind(incoming: RunDetail, known: RunDetail): boolean {
  const a = runProgress(incoming);
  const b = runProgress(known);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/** The runs after `incoming` arrived from `source`, newest first. */
export function mergeRuns(current: RunDetail[], incoming: RunDetail[], source: RunSource): RunDetail[] {
  const byId = new Map(current.map((r) => [r.id, r]));
  for (const run of incoming) {
    const known = byId.get(run.id);
    byId.set(run.id, !known || source === 'push' || notBehind(run, known) ? run : known);
  }
  return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt);
}
