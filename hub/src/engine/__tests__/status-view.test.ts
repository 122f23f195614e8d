import { describe, expect, it } from 'vitest';
import { STATUS_ROWS } from '@fl/shared';
import type { EngineEvent, EngineState } from '../engine-types';
import { initialEngineState, reduce } from '../round-reducer';
import { statusView } from '../status-view';

function joined(count: number): EngineState {
  let state = initialEngineState;
  for (let i = 0; i < count; i++) {
    const event: EngineEvent = { type: 'client-joined', at: 1000 + i, client: { id: `c${i}`, name: `c${i}`, kind: 'headless', data: { task: 'mnist' }, backend: { name: 'cpu' } } };
    state = reduce(state, event).state;
  }
  return state;
}

describe('statusView at scale', () => {
  it('holds the first rows in join order and counts every client by state', () => {
    let state = joined(STATUS_ROWS + 50);
    state = reduce(state, { type: 'client-left', at: 9000, clientId: 'c3' }).state;
    const status = statusView(state, 10_000, null, () => undefined, STATUS_ROWS);
    expect(status.clients).toHaveLength(STATUS_ROWS);
    expect(status.clients[0]!.id).toBe('c0');
    expect(status.clients.map((c) => c.id)).not.toContain('c3');
    expect(status.clientCount).toBe(STATUS_ROWS + 49);
    expect(status.clientStates).toEqual({ idle: STATUS_ROWS + 49, training: 0, done: 0, evaluating: 0, lost: 0 });
  });

  it('holds every row when asked for all of them', () => {
    const status = statusView(joined(STATUS_ROWS + 5), 0);
    expect(status.clients).toHaveLength(STATUS_ROWS + 5);
    expect(status.clientCount).toBe(STATUS_ROWS + 5);
  });

  it('picks the same first rows as sorting every client by join time would, ties in table order', () => {
    // Join times out of order and repeated: a hub restart brings clients back in any order.
    let state = initialEngineState;
    let x = 12345;
    for (let i = 0; i < 3 * STATUS_ROWS; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const event: EngineEvent = { type: 'client-joined', at: x % 400, client: { id: `c${i}`, name: `c${i}`, kind: 'headless', data: { task: 'mnist' }, backend: { name: 'cpu' } } };
      state = reduce(state, event).state;
    }
    const sorted = [...state.clients.values()].sort((a, b) => a.joinedAt - b.joinedAt).slice(0, STATUS_ROWS);
    const status = statusView(state, 0, null, () => undefined, STATUS_ROWS);
    expect(status.clients.map((c) => c.id)).toEqual(sorted.map((c) => c.id));
  });
});
