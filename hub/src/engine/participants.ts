import type { RunState } from './engine-types';

/**
 * Membership and place of a client among a round's participants in O(1). `participants` arrays are never
 * mutated (every change makes a new one), so an index built once per array and kept in a WeakMap stays true;
 * it is a cache, not state: the reducer's results do not depend on it.
 */
const indexes = new WeakMap<readonly string[], Map<string, number>>();

function indexOf(participants: readonly string[]): Map<string, number> {
  let index = indexes.get(participants);
  if (!index) {
    index = new Map(participants.map((id, i) => [id, i]));
    indexes.set(participants, index);
  }
  return index;
}

export function isParticipant(run: Pick<RunState, 'participants'>, clientId: string): boolean {
  return indexOf(run.participants).has(clientId);
}

/** The client's place among the participants (its batch seed follows from it), or -1. */
export function participantIndex(run: Pick<RunState, 'participants'>, clientId: string): number {
  return indexOf(run.participants).get(clientId) ?? -1;
}
