import { describe, expect, it } from 'vitest';
import type { ClientView, HubStatus } from '@fl/shared/api';
import { clientCounts, clientView } from './support/client-view';
import { runSummary } from './support/run-fixtures';
import { takePartLine } from '../launch-rules';
import { departureLine, roundDepartures } from '../round-departures';

const client = clientView;

function hub(clients: ClientView[], participants: string[] | null, status: HubStatus['status'] = 'training'): HubStatus {
  return { status, run: participants && runSummary({ participants }), clients, ...clientCounts(clients), now: 0 };
}

describe('roundDepartures', () => {
  it('names a participant of the round in flight whose connection was lost', () => {
    const status = hub([client('a'), client('b', { state: 'lost' })], ['a', 'b']);
    expect(roundDepartures(status)).toEqual([{ id: 'b', name: 'tab-b' }]);
    expect(departureLine(roundDepartures(status), 2)).toBe('tab-b left during round 2; the round carries on without it.');
  });

  it('counts a participant the hub already forgot, and ignores lost clients that were not picked', () => {
    const status = hub([client('a'), client('c', { state: 'lost' })], ['a', 'gone']);
    expect(roundDepartures(status)).toEqual([{ id: 'gone', name: null }]);
  });

  it('says nothing with no run, while waiting for clients, or when everyone is still there', () => {
    expect(roundDepartures(hub([client('a', { state: 'lost' })], null, 'idle'))).toEqual([]);
    expect(roundDepartures(hub([client('a', { state: 'lost' })], [], 'waiting'))).toEqual([]);
    expect(roundDepartures(hub([client('a'), client('b', { state: 'done' })], ['a', 'b']))).toEqual([]);
    expect(departureLine([], 1)).toBeNull();
  });
});

describe('takePartLine', () => {
  const chest = { task: 'chest-xray' as const, imageSize: 64, train: { normal: 3, pneumonia: 4 }, test: { normal: 1, pneumonia: 1 } };

  it("says how many connected clients hold the form's task", () => {
    const status = hub([client('a'), client('b'), client('c', { task: 'chest-xray', data: chest }), client('d', { state: 'lost' })], null, 'idle');
    expect(takePartLine(status, 'mnist')).toEqual({ eligible: 2, total: 3, text: '2 of 3 clients hold MNIST data and would take part.' });
    expect(takePartLine(status, 'chest-xray')?.text).toBe('1 of 3 clients hold chest X-ray data and would take part.');
  });

  it('does not count a chest tab without training images, and says when nobody is connected', () => {
    const empty = { ...chest, train: { normal: 0, pneumonia: 0 } };
    expect(takePartLine(hub([client('a', { task: 'chest-xray', data: empty })], null, 'idle'), 'chest-xray')?.eligible).toBe(0);
    expect(takePartLine(hub([], null, 'idle'), 'mnist')?.text).toBe('No client is connected yet.');
    expect(takePartLine(null, 'mnist')).toBeNull();
  });
});
