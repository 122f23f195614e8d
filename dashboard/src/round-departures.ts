import type { HubStatus } from '@fl/shared/api';

/** A participant of the round in flight that the hub lost: named while the hub still lists it. */
export interface Departure {
  id: string;
  name: string | null;
}

/** Participants of the round in flight whose connection was lost (or whom the hub already forgot). */
export function roundDepartures(status: HubStatus | null): Departure[] {
  const run = status?.run;
  if (!status || !run || status.status === 'waiting') return [];
  return run.participants.flatMap((id) => {
    const client = status.clients.find((c) => c.id === id);
    if (client && client.state !== 'lost') return [];
    return [{ id, name: client?.name ?? null }];
  });
}

/** "e2e-tab-1 left during round 2; the round carries on without it." */
export function departureLine(departures: Departure[], round: number): string | null {
  if (departures.length === 0) return null;
  const named = departures.map((d) => d.name ?? 'a client');
  const who = named.length === 1 ? named[0]! : `${named.slice(0, -1).join(', ')} and ${named.at(-1)!}`;
  return `${who} left during round ${round}; the round carries on without ${named.length === 1 ? 'it' : 'them'}.`;
}
