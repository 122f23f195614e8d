import { describe, expect, it } from 'vitest';
import { resolveSettings, type ClientData, type LaunchRequest, type RunSettings } from '@fl/shared';
import type { Effect, EngineEvent, EngineState, Transition } from '../engine-types';
import { MAX_ROUND_ATTEMPTS, eligibleClients, hubPhase, initialEngineState, reduce } from '../round-reducer';
import { checkUpdate } from '../update-validator';

// ---------------------------------------------------------------- helpers

const RUN = 'run-1';
const T_LAUNCH = 100_000;
const TIMEOUT_SEC = 60;

const MNIST: ClientData = { task: 'mnist' };
const xray = (normal: number, pneumonia: number): ClientData => ({
  task: 'chest-xray',
  imageSize: 64,
  train: { normal, pneumonia },
  test: { normal: 5, pneumonia: 5 },
});

function settings(overrides: Partial<LaunchRequest> = {}): RunSettings {
  return resolveSettings({ task: 'mnist', rounds: 3, minClients: 2, roundTimeoutSec: TIMEOUT_SEC, ...overrides });
}

function joinEvent(id: string, at: number, data: ClientData | null = MNIST): EngineEvent {
  return { type: 'client-joined', at, client: { id, name: `name-${id}`, kind: 'headless', data, backend: { name: 'cpu' } } };
}

const launchEvent = (s: RunSettings, at = T_LAUNCH, runId = RUN): EngineEvent => ({ type: 'run-launched', at, runId, settings: s });

const update = (clientId: string, at: number, round = 1, samples = 100, runId = RUN): EngineEvent => ({
  type: 'update-accepted',
  at,
  clientId,
  runId,
  round,
  samples,
  metrics: { loss: 0.5, accuracy: 0.8 },
});

const timer = (at: number, round = 1, phase: 'waiting' | 'training' | 'aggregating' | 'evaluating' = 'training', runId = RUN): EngineEvent => ({
  type: 'timer',
  at,
  runId,
  round,
  phase,
});

const left = (clientId: string, at: number): EngineEvent => ({ type: 'client-left', at, clientId });
const completed = (at: number, round = 1, runId = RUN): EngineEvent => ({ type: 'round-completed', at, runId, round });

/** Applies events in order; returns the last transition. */
function apply(state: EngineState, ...events: EngineEvent[]): Transition {
  let t: Transition = { state, effects: [] };
  for (const e of events) t = reduce(t.state, e);
  return t;
}

/** Joins clients in the given order, 1 ms apart, starting at t = 1000. */
function joined(ids: string[], data: ClientData | null = MNIST): EngineState {
  return apply(initialEngineState, ...ids.map((id, i) => joinEvent(id, 1000 + i, data))).state;
}

/** A run in round 1 training with the given clients as participants. */
function training(ids: string[], s: RunSettings = settings(), data: ClientData | null = MNIST): EngineState {
  const state = apply(joined(ids, data), launchEvent(s)).state;
  expect(state.run?.phase).toBe('training');
  return state;
}

const deadline1 = T_LAUNCH + TIMEOUT_SEC * 1000;

function effectsOf<K extends Effect['type']>(t: Transition, type: K): Extract<Effect, { type: K }>[] {
  return t.effects.filter((e): e is Extract<Effect, { type: K }> => e.type === type);
}

function only<K extends Effect['type']>(t: Transition, type: K): Extract<Effect, { type: K }> {
  const found = effectsOf(t, type);
  expect(found, `exactly one ${type} effect in ${JSON.stringify(t.effects)}`).toHaveLength(1);
  return found[0]!;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

// ---------------------------------------------------------------- launch

describe('run-launched', () => {
  it('starts round 1 at once with enough MNIST clients, participants in join order, shards assigned, timer at the deadline', () => {
    const before = joined(['c', 'a', 'b']);
    const t = reduce(before, launchEvent(settings({ minClients: 2 })));
    const run = t.state.run!;
    expect(run.phase).toBe('training');
    expect(run.round).toBe(1);
    expect(run.id).toBe(RUN);
    expect(run.participants).toEqual(['c', 'a', 'b']);
    expect(run.deadline).toBe(deadline1);
    expect(run.roundStartedAt).toBe(T_LAUNCH);
    expect(run.shardOwners).toEqual(['c', 'a', 'b']);
    expect(hubPhase(t.state)).toBe('training');
    expect(t.effects).toEqual([
      // The deadline is armed first: a start-round that throws must not leave the round without one.
      { type: 'set-timer', runId: RUN, round: 1, phase: 'training', at: deadline1 },
      { type: 'start-round', runId: RUN, round: 1, participants: ['c', 'a', 'b'], population: 3, deadline: deadline1, assignShards: ['c', 'a', 'b'] },
      { type: 'status-changed' },
    ]);
    for (const id of ['a', 'b', 'c']) expect(t.state.clients.get(id)!.state).toBe('training');
  });

  it('orders clients that joined in the same millisecond by id', () => {
    const state = apply(initialEngineState, joinEvent('zed', 5), joinEvent('amy', 5), joinEvent('first', 1)).state;
    const t = reduce(state, launchEvent(settings({ minClients: 1 })));
    expect(only(t, 'start-round').participants).toEqual(['first', 'amy', 'zed']);
  });

  it('leaves out clients without data or with data of another task', () => {
    const state = apply(
      initialEngineState,
      joinEvent('m1', 1),
      joinEvent('none', 2, null),
      joinEvent('x', 3, xray(10, 10)),
      joinEvent('m2', 4),
    ).state;
    const t = reduce(state, launchEvent(settings({ minClients: 2 })));
    expect(only(t, 'start-round').participants).toEqual(['m1', 'm2']);
    expect(t.state.clients.get('none')!.state).toBe('idle');
    expect(t.state.clients.get('x')!.state).toBe('idle');
  });

  it('waits with a set-timer at launch + roundTimeoutSec when too few clients are connected', () => {
    const t = reduce(joined(['a']), launchEvent(settings({ minClients: 2 })));
    const run = t.state.run!;
    expect(run.phase).toBe('waiting');
    expect(run.round).toBe(1);
    expect(run.deadline).toBe(deadline1);
    expect(run.participants).toEqual([]);
    expect(hubPhase(t.state)).toBe('waiting');
    expect(effectsOf(t, 'start-round')).toEqual([]);
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 1, phase: 'waiting', at: deadline1 });
    expect(t.state.clients.get('a')!.state).toBe('idle');
  });

  it('waits with no clients at all', () => {
    const t = reduce(initialEngineState, launchEvent(settings({ minClients: 1 })));
    expect(t.state.run?.phase).toBe('waiting');
    expect(only(t, 'set-timer').phase).toBe('waiting');
  });

  it('ignores a launch while another run is active', () => {
    const state = training(['a', 'b']);
    const t = reduce(state, launchEvent(settings(), T_LAUNCH + 5, 'run-2'));
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it('does not assign shards for a chest-xray run', () => {
    const s = settings({ task: 'chest-xray', minClients: 2 });
    const t = reduce(joined(['a', 'b'], xray(10, 20)), launchEvent(s));
    const start = only(t, 'start-round');
    expect(start.participants).toEqual(['a', 'b']);
    expect(start.assignShards).toBeNull();
    expect(t.state.run!.shardOwners).toBeNull();
  });
});

// ---------------------------------------------------------------- waiting

describe('waiting for clients', () => {
  it('starts the round when a client joining makes enough', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 2 }))).state;
    const t = reduce(waiting, joinEvent('b', T_LAUNCH + 5000));
    expect(t.state.run!.phase).toBe('training');
    const start = only(t, 'start-round');
    expect(start.participants).toEqual(['a', 'b']);
    expect(start.assignShards).toEqual(['a', 'b']);
    expect(start.round).toBe(1);
    expect(start.deadline).toBe(T_LAUNCH + 5000 + TIMEOUT_SEC * 1000);
    expect(only(t, 'set-timer')).toMatchObject({ phase: 'training', at: T_LAUNCH + 5000 + TIMEOUT_SEC * 1000 });
    expect(t.state.run!.roundStartedAt).toBe(T_LAUNCH + 5000);
  });

  it('keeps the original deadline and sets no second timer when a join still leaves too few', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 3 }))).state;
    const t = reduce(waiting, joinEvent('b', T_LAUNCH + 5000));
    expect(t.state.run!.phase).toBe('waiting');
    expect(t.state.run!.deadline).toBe(deadline1);
    expect(effectsOf(t, 'set-timer')).toEqual([]);
    expect(effectsOf(t, 'start-round')).toEqual([]);
  });

  it('starts the round when a connected client reports data for the task', () => {
    const state = apply(initialEngineState, joinEvent('a', 1), joinEvent('b', 2, null), launchEvent(settings({ minClients: 2 }))).state;
    expect(state.run!.phase).toBe('waiting');
    const t = reduce(state, { type: 'client-data', at: T_LAUNCH + 10, clientId: 'b', data: MNIST });
    expect(only(t, 'start-round').participants).toEqual(['a', 'b']);
  });

  it('retries the round once when the waiting timer fires with too few clients, with a new waiting timer', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 3 }))).state;
    const t = reduce(waiting, timer(deadline1, 1, 'waiting'));
    const run = t.state.run!;
    expect(run.round).toBe(1);
    expect(run.attempt).toBe(2);
    expect(run.phase).toBe('waiting');
    expect(run.deadline).toBe(deadline1 + TIMEOUT_SEC * 1000);
    const retry = only(t, 'round-retry');
    expect(retry).toMatchObject({ runId: RUN, round: 1, attempt: 2 });
    expect(retry.reason).toMatch(/only 1 of the 3 required clients/);
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 1, phase: 'waiting', at: deadline1 + TIMEOUT_SEC * 1000 });
    expect(effectsOf(t, 'round-failed')).toEqual([]);
    expect(effectsOf(t, 'run-finished')).toEqual([]);
    expect(effectsOf(t, 'cancel-round')).toEqual([]);
    expect(effectsOf(t, 'start-round')).toEqual([]);
    expect(t.effects.indexOf(retry)).toBeLessThan(t.effects.findIndex((e) => e.type === 'set-timer'));
    // The old waiting timer is spent; the new one is not due before its own deadline.
    expect(reduce(t.state, timer(deadline1 + 1, 1, 'waiting')).effects).toEqual([]);
  });

  it('fails the run when the waiting timer fires with too few clients on the second attempt, naming the counts', () => {
    const waiting = apply(joined(['a']), launchEvent(settings({ minClients: 3 })), timer(deadline1, 1, 'waiting')).state;
    expect(waiting.run!.attempt).toBe(2);
    const t = reduce(waiting, timer(deadline1 + TIMEOUT_SEC * 1000, 1, 'waiting'));
    expect(t.state.run).toBeNull();
    expect(effectsOf(t, 'round-retry')).toEqual([]);
    expect(hubPhase(t.state)).toBe('idle');
    const failed = only(t, 'round-failed');
    expect(failed).toMatchObject({ runId: RUN, round: 1, roundStartedAt: T_LAUNCH });
    expect(failed.reason).toMatch(/only 1 of the 3 required clients/);
    const finished = only(t, 'run-finished');
    expect(finished.status).toBe('failed');
    expect(finished.reason).toMatch(/round 1/);
    expect(finished.reason).toMatch(/1 of the 3/);
    expect(effectsOf(t, 'cancel-round')).toEqual([]);
    expect(t.effects.indexOf(failed)).toBeLessThan(t.effects.indexOf(finished));
    expect(t.state.clients.get('a')!.state).toBe('idle');
  });

  it('ignores the waiting timer before its deadline', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 2 }))).state;
    const t = reduce(waiting, timer(deadline1 - 1, 1, 'waiting'));
    expect(t.state).toBe(waiting);
    expect(t.effects).toEqual([]);
  });

  it('ignores a stale waiting timer after the round has started', () => {
    const started = apply(joined(['a']), launchEvent(settings({ minClients: 2 })), joinEvent('b', T_LAUNCH + 10)).state;
    const t = reduce(started, timer(deadline1, 1, 'waiting'));
    expect(t.state).toBe(started);
    expect(t.effects).toEqual([]);
  });
});

// ---------------------------------------------------------------- training

describe('training round', () => {
  it('marks a submitting participant done and keeps training while others are pending', () => {
    const state = training(['a', 'b', 'c']);
    const t = reduce(state, update('b', T_LAUNCH + 10));
    expect(t.state.run!.phase).toBe('training');
    expect(t.state.run!.submitted.toObject()).toEqual({ b: 100 });
    expect(t.state.clients.get('b')!.state).toBe('done');
    expect(t.state.clients.get('b')!.lastMetrics).toEqual({ loss: 0.5, accuracy: 0.8 });
    expect(t.effects).toEqual([{ type: 'status-changed' }]);
  });

  it('aggregates with every contributor once all participants have submitted', () => {
    const state = training(['a', 'b', 'c']);
    const t = apply(state, update('c', T_LAUNCH + 10, 1, 30), update('a', T_LAUNCH + 20, 1, 10), update('b', T_LAUNCH + 30, 1, 20));
    expect(t.state.run!.phase).toBe('aggregating');
    expect(hubPhase(t.state)).toBe('aggregating');
    const agg = only(t, 'aggregate');
    expect(agg).toMatchObject({ runId: RUN, round: 1, roundStartedAt: T_LAUNCH });
    expect([...agg.contributors].sort()).toEqual(['a', 'b', 'c']);
    expect(effectsOf(t, 'cancel-round')).toEqual([]);
    expect(t.state.run!.submitted.toObject()).toEqual({ a: 10, b: 20, c: 30 });
  });

  it('ignores an update the checks refuse (a duplicate) without changing state', () => {
    const state = apply(training(['a', 'b']), update('a', T_LAUNCH + 10)).state;
    const t = reduce(state, update('a', T_LAUNCH + 20, 1, 999));
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it('closes the round at the deadline with enough updates: aggregates them and cancels the late participants', () => {
    const state = apply(training(['a', 'b', 'c', 'd'], settings({ minClients: 2 })), update('a', T_LAUNCH + 1), update('c', T_LAUNCH + 2)).state;
    const t = reduce(state, timer(deadline1));
    const cancel = only(t, 'cancel-round');
    expect(cancel).toMatchObject({ runId: RUN, round: 1, clients: ['b', 'd'] });
    expect(cancel.reason).toMatch(/deadline/);
    const agg = only(t, 'aggregate');
    expect([...agg.contributors].sort()).toEqual(['a', 'c']);
    expect(t.effects.indexOf(cancel)).toBeLessThan(t.effects.indexOf(agg));
    expect(t.state.run!.phase).toBe('aggregating');
    expect(t.state.clients.get('b')!.state).toBe('idle');
    expect(t.state.clients.get('d')!.state).toBe('idle');
    expect(t.state.clients.get('a')!.state).toBe('done');
  });

  it('retries the round at a deadline with too few updates: cancels the late ones and re-picks the participants', () => {
    const state = apply(training(['a', 'b', 'c'], settings({ minClients: 2 })), update('b', T_LAUNCH + 1)).state;
    const t = reduce(state, timer(deadline1));
    const cancel = only(t, 'cancel-round');
    expect(cancel).toMatchObject({ runId: RUN, round: 1, clients: ['a', 'c'] });
    const retry = only(t, 'round-retry');
    expect(retry).toMatchObject({ runId: RUN, round: 1, attempt: 2 });
    expect(retry.reason).toMatch(/1 of the 2 required updates/);
    const deadline2 = deadline1 + TIMEOUT_SEC * 1000;
    const start = only(t, 'start-round');
    expect(start).toEqual({ type: 'start-round', runId: RUN, round: 1, participants: ['a', 'b', 'c'], population: 3, deadline: deadline2, assignShards: null });
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 1, phase: 'training', at: deadline2 });
    expect(t.effects.indexOf(cancel)).toBeLessThan(t.effects.indexOf(retry));
    expect(t.effects.indexOf(retry)).toBeLessThan(t.effects.indexOf(start));
    expect(effectsOf(t, 'round-failed')).toEqual([]);
    expect(effectsOf(t, 'run-finished')).toEqual([]);
    expect(effectsOf(t, 'aggregate')).toEqual([]);
    const run = t.state.run!;
    expect(run).toMatchObject({ round: 1, attempt: 2, phase: 'training', deadline: deadline2, roundStartedAt: deadline1, dropped: [] });
    expect(run.submitted.size).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(t.state.clients.get(id)!.state).toBe('training');
    // b's update of the first attempt does not count: it has to deliver again.
    expect(checkUpdate(t.state, 'b', RUN, 1)).toBeNull();
  });

  it('fails the round and the run when the second attempt also ends at its deadline with too few updates', () => {
    const s = settings({ minClients: 2 });
    const state = apply(training(['a', 'b', 'c'], s), update('b', T_LAUNCH + 1), timer(deadline1), update('c', deadline1 + 1)).state;
    expect(state.run!.attempt).toBe(2);
    const deadline2 = deadline1 + TIMEOUT_SEC * 1000;
    const t = reduce(state, timer(deadline2));
    const cancel = only(t, 'cancel-round');
    expect(cancel.clients).toEqual(['a', 'b']);
    expect(effectsOf(t, 'round-retry')).toEqual([]);
    const failed = only(t, 'round-failed');
    expect(failed).toMatchObject({ runId: RUN, round: 1, roundStartedAt: deadline1 });
    expect(failed.reason).toMatch(/1 of the 2 required updates/);
    const finished = only(t, 'run-finished');
    expect(finished).toMatchObject({ runId: RUN, status: 'failed' });
    expect(finished.reason).toMatch(/^round 1: /);
    expect(effectsOf(t, 'aggregate')).toEqual([]);
    expect(t.state.run).toBeNull();
    for (const id of ['a', 'b', 'c']) expect(t.state.clients.get(id)!.state).toBe('idle');
  });

  it('fails the round at the deadline when no update arrived at all, after one retry', () => {
    const first = reduce(training(['a'], settings({ minClients: 1 })), timer(deadline1));
    expect(only(first, 'round-retry')).toMatchObject({ round: 1, attempt: 2 });
    expect(only(first, 'round-retry').reason).toMatch(/0 of the 1 required updates/);
    expect(only(first, 'cancel-round').clients).toEqual(['a']);
    expect(only(first, 'start-round').participants).toEqual(['a']);
    expect(effectsOf(first, 'run-finished')).toEqual([]);
    const t = reduce(first.state, timer(deadline1 + TIMEOUT_SEC * 1000));
    expect(only(t, 'round-failed').reason).toMatch(/0 of the 1 required updates/);
    expect(only(t, 'run-finished')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^round 1: deadline/) });
    expect(only(t, 'cancel-round').clients).toEqual(['a']);
    expect(t.state.run).toBeNull();
  });

  it('fires the deadline timer at exactly the deadline', () => {
    const state = apply(training(['a', 'b', 'c']), update('a', 1), update('b', 2)).state;
    const t = reduce(state, timer(deadline1));
    expect(t.state.run!.phase).toBe('aggregating');
    expect(only(t, 'cancel-round').clients).toEqual(['c']);
  });

  it.each<[string, EngineEvent]>([
    ['before the deadline', timer(deadline1 - 1)],
    ['for another run', timer(deadline1 + 1, 1, 'training', 'run-0')],
    ['for an older round', timer(deadline1 + 1, 0)],
    ['for a later round', timer(deadline1 + 1, 2)],
    ['for another phase', timer(deadline1 + 1, 1, 'waiting')],
  ])('ignores a timer %s: no effects, same state', (_name, event) => {
    const state = apply(training(['a', 'b', 'c']), update('a', T_LAUNCH + 1)).state;
    const t = reduce(state, event);
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it('ignores any timer while no run is active', () => {
    const state = joined(['a']);
    const t = reduce(state, timer(deadline1));
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it("ignores round 1's training timer once round 2 is running", () => {
    const round2 = apply(training(['a', 'b']), update('a', 1), update('b', 2), completed(T_LAUNCH + 100)).state;
    expect(round2.run!.round).toBe(2);
    const t = reduce(round2, timer(deadline1 + 10 * 60_000, 1));
    expect(t.state).toBe(round2);
    expect(t.effects).toEqual([]);
  });

  it('records progress of a participant and ignores progress of a non-participant', () => {
    const state = apply(training(['a', 'b']), joinEvent('late', T_LAUNCH + 5)).state;
    const progress = { epoch: 1, epochs: 2, batch: 3, batches: 10 };
    const t = reduce(state, { type: 'client-progress', at: T_LAUNCH + 6, clientId: 'a', progress });
    expect(t.state.clients.get('a')!.progress).toEqual(progress);
    const ignored = reduce(state, { type: 'client-progress', at: T_LAUNCH + 6, clientId: 'late', progress });
    expect(ignored.state).toBe(state);
    expect(ignored.effects).toEqual([]);
  });

  it('fails the round and the run at once, without a retry, when the coordinator aborts it (e.g. aggregation error)', () => {
    const state = apply(training(['a', 'b']), update('a', 1), update('b', 2)).state;
    expect(state.run!.attempt).toBe(1);
    const t = reduce(state, { type: 'round-aborted', at: T_LAUNCH + 5, runId: RUN, round: 1, reason: 'disk full' });
    expect(effectsOf(t, 'round-retry')).toEqual([]);
    expect(effectsOf(t, 'start-round')).toEqual([]);
    expect(effectsOf(t, 'cancel-round')).toEqual([]);
    expect(only(t, 'round-failed').reason).toBe('disk full');
    expect(only(t, 'run-finished')).toMatchObject({ status: 'failed', reason: 'round 1: disk full' });
    expect(t.state.run).toBeNull();
  });
});

// ---------------------------------------------------------------- round completion

describe('round-completed', () => {
  it('finishes the run as completed after the last round, with clients back to idle', () => {
    const state = apply(training(['a', 'b'], settings({ rounds: 1 })), update('a', 1), update('b', 2)).state;
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(t.state.run).toBeNull();
    expect(hubPhase(t.state)).toBe('idle');
    expect(only(t, 'run-finished')).toEqual({ type: 'run-finished', runId: RUN, status: 'completed', reason: null });
    expect(effectsOf(t, 'start-round')).toEqual([]);
    for (const id of ['a', 'b']) {
      expect(t.state.clients.get(id)!.state).toBe('idle');
      expect(t.state.clients.get(id)!.progress).toBeNull();
    }
  });

  it('starts round 2 with the same shard owners and no shard assignment', () => {
    const state = apply(training(['a', 'b'], settings({ rounds: 3 })), update('a', 1), update('b', 2)).state;
    const at = T_LAUNCH + 500;
    const t = reduce(state, completed(at));
    const run = t.state.run!;
    expect(run.round).toBe(2);
    expect(run.phase).toBe('training');
    expect(run.submitted.toObject()).toEqual({});
    expect(run.dropped).toEqual([]);
    expect(run.roundStartedAt).toBe(at);
    expect(only(t, 'start-round')).toEqual({
      type: 'start-round',
      runId: RUN,
      round: 2,
      participants: ['a', 'b'], population: 2,
      deadline: at + TIMEOUT_SEC * 1000,
      assignShards: null,
    });
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 2, phase: 'training', at: at + TIMEOUT_SEC * 1000 });
    expect(t.state.clients.get('a')!.state).toBe('training');
  });

  it('lets an MNIST client that joined mid-run take part from the next round, reassigning the shards', () => {
    const state = apply(training(['a', 'b']), joinEvent('late', T_LAUNCH + 1), update('a', 2), update('b', 3)).state;
    expect(state.run!.participants).toEqual(['a', 'b']); // not in the round it joined during
    expect(state.clients.get('late')!.state).toBe('idle');
    const t = reduce(state, completed(T_LAUNCH + 500));
    const start = only(t, 'start-round');
    expect(start.participants).toEqual(['a', 'b', 'late']);
    expect(start.assignShards).toEqual(['a', 'b', 'late']);
    expect(t.state.run!.shardOwners).toEqual(['a', 'b', 'late']);
    expect(eligibleClients(t.state, t.state.run!)).toContain('late');
    expect(t.state.clients.get('late')!.state).toBe('training');
  });

  it('lets a chest-xray client that joined mid-run take part from the next round', () => {
    const s = settings({ task: 'chest-xray', minClients: 1 });
    const state = apply(training(['a'], s, xray(3, 4)), joinEvent('late', T_LAUNCH + 1, xray(1, 1)), update('a', 2)).state;
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(only(t, 'start-round').participants).toEqual(['a', 'late']);
  });

  it('waits in round 2, with a new waiting timer, when too few clients remain', () => {
    const state = apply(
      training(['a', 'b'], settings({ rounds: 3, minClients: 2 })),
      update('a', 1),
      update('b', 2),
      left('b', 3), // after submitting: kept as lost until the round ends
    ).state;
    const at = T_LAUNCH + 500;
    const t = reduce(state, completed(at));
    expect(t.state.run!.round).toBe(2);
    expect(t.state.run!.phase).toBe('waiting');
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 2, phase: 'waiting', at: at + TIMEOUT_SEC * 1000 });
    expect(t.state.clients.get('b')).toBeUndefined();
    expect(t.state.run!.attempt).toBe(1);
    const retried = reduce(t.state, timer(at + TIMEOUT_SEC * 1000, 2, 'waiting'));
    expect(only(retried, 'round-retry')).toMatchObject({ round: 2, attempt: 2, reason: expect.stringMatching(/^only 1 of the 2/) });
    expect(effectsOf(retried, 'run-finished')).toEqual([]);
    expect(retried.state.run).toMatchObject({ round: 2, attempt: 2, phase: 'waiting' });
    const failed = reduce(retried.state, timer(at + 2 * TIMEOUT_SEC * 1000, 2, 'waiting'));
    expect(only(failed, 'round-failed')).toMatchObject({ round: 2 });
    expect(only(failed, 'run-finished').reason).toMatch(/^round 2: only 1 of the 2/);
    expect(failed.state.run).toBeNull();
  });

  it.each<[string, EngineEvent]>([
    ['for another run', completed(T_LAUNCH + 500, 1, 'run-0')],
    ['for another round', completed(T_LAUNCH + 500, 2)],
  ])('ignores a round-completed %s', (_name, event) => {
    const state = apply(training(['a', 'b']), update('a', 1), update('b', 2)).state;
    const t = reduce(state, event);
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it('ignores a round-completed while the round is still training', () => {
    const state = apply(training(['a', 'b']), update('a', 1)).state;
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });
});

// ---------------------------------------------------------------- departures

describe('client-left', () => {
  it('marks a participant that leaves mid-round as lost and keeps it until the round ends, then removes it', () => {
    const state = training(['a', 'b', 'c']);
    const t = reduce(state, left('b', T_LAUNCH + 10));
    const b = t.state.clients.get('b')!;
    expect(b.connected).toBe(false);
    expect(b.state).toBe('lost');
    expect(b.lastSeen).toBe(T_LAUNCH + 10);
    expect(t.state.run!.dropped).toEqual(['b']);
    expect(t.state.run!.phase).toBe('training');
    expect(eligibleClients(t.state, t.state.run!)).toEqual(['a', 'c']);

    const aggregating = apply(t.state, update('a', T_LAUNCH + 20), update('c', T_LAUNCH + 30));
    expect(aggregating.state.run!.phase).toBe('aggregating');
    expect([...only(aggregating, 'aggregate').contributors].sort()).toEqual(['a', 'c']);
    expect(effectsOf(aggregating, 'cancel-round')).toEqual([]);
    expect(aggregating.state.clients.get('b')?.state).toBe('lost');

    const next = reduce(aggregating.state, completed(T_LAUNCH + 40));
    expect(next.state.clients.get('b')).toBeUndefined();
    expect(only(next, 'start-round').participants).toEqual(['a', 'c']);
  });

  it('aggregates at once when the last pending participant leaves and enough have submitted', () => {
    const state = apply(training(['a', 'b', 'c']), update('a', 1), update('b', 2)).state;
    const t = reduce(state, left('c', T_LAUNCH + 10));
    expect([...only(t, 'aggregate').contributors].sort()).toEqual(['a', 'b']);
    expect(t.state.run!.phase).toBe('aggregating');
  });

  it('keeps a participant that leaves after submitting as a contributor', () => {
    const state = apply(training(['a', 'b']), update('a', 1)).state;
    const t = reduce(state, left('a', T_LAUNCH + 10));
    expect(t.state.clients.get('a')!.state).toBe('lost');
    expect(t.state.run!.dropped).toEqual([]);
    expect(t.state.run!.submitted.toObject()).toEqual({ a: 100 });
    const closed = reduce(t.state, update('b', T_LAUNCH + 20));
    expect([...only(closed, 'aggregate').contributors].sort()).toEqual(['a', 'b']);
  });

  it('removes a client that is not participating immediately', () => {
    const state = apply(training(['a', 'b']), joinEvent('late', T_LAUNCH + 1)).state;
    const t = reduce(state, left('late', T_LAUNCH + 2));
    expect(t.state.clients.get('late')).toBeUndefined();
    expect(t.state.run).toBe(state.run);
    expect(t.effects).toEqual([{ type: 'status-changed' }]);
  });

  it('removes a client immediately when no run is active', () => {
    const t = reduce(joined(['a', 'b']), left('a', 5000));
    expect([...t.state.clients.keys()]).toEqual(['b']);
  });

  it('removes a client immediately while the run is waiting', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 2 }))).state;
    const t = reduce(waiting, left('a', T_LAUNCH + 1));
    expect(t.state.clients.get('a')).toBeUndefined();
    expect(t.state.run!.phase).toBe('waiting');
  });

  it('ignores a leave of an unknown client', () => {
    const state = training(['a', 'b']);
    const t = reduce(state, left('ghost', T_LAUNCH + 1));
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it('retries the round early when so many participants leave that minClients is out of reach', () => {
    const state = apply(training(['a', 'b', 'c'], settings({ minClients: 3 })), update('a', 1)).state;
    const at = T_LAUNCH + 10;
    const t = reduce(state, left('b', at));
    expect(only(t, 'cancel-round').clients).toEqual(['c']);
    const retry = only(t, 'round-retry');
    expect(retry).toMatchObject({ runId: RUN, round: 1, attempt: 2 });
    expect(retry.reason).toMatch(/too many participants left: 2 can still answer, 3 required/);
    expect(effectsOf(t, 'round-failed')).toEqual([]);
    expect(effectsOf(t, 'run-finished')).toEqual([]);
    // Only a and c remain: the retried round waits for a third client.
    expect(t.state.run).toMatchObject({ round: 1, attempt: 2, phase: 'waiting', deadline: at + TIMEOUT_SEC * 1000, participants: [] });
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 1, phase: 'waiting', at: at + TIMEOUT_SEC * 1000 });
    expect(t.state.clients.get('b')).toBeUndefined();
    expect(t.state.clients.get('a')!.state).toBe('idle');
    expect(t.state.clients.get('c')!.state).toBe('idle');
  });

  it('fails the run when participants leave in the second attempt so that minClients is out of reach', () => {
    const first = apply(training(['a', 'b', 'c'], settings({ minClients: 3 })), left('b', T_LAUNCH + 10), joinEvent('d', T_LAUNCH + 20));
    expect(only(first, 'start-round')).toMatchObject({ round: 1, participants: ['a', 'c', 'd'], assignShards: ['a', 'c', 'd'] });
    expect(first.state.run!.attempt).toBe(2);
    const t = reduce(first.state, left('c', T_LAUNCH + 30));
    expect(only(t, 'cancel-round').clients).toEqual(['a', 'd']);
    expect(effectsOf(t, 'round-retry')).toEqual([]);
    expect(only(t, 'round-failed').reason).toMatch(/too many participants left: 2 can still answer, 3 required/);
    expect(only(t, 'run-finished')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^round 1: too many participants left/) });
    expect(t.state.run).toBeNull();
    expect(t.state.clients.get('c')).toBeUndefined();
    expect(t.state.clients.get('a')!.state).toBe('idle');
    expect(t.state.clients.get('d')!.state).toBe('idle');
  });

  it('does not fail early while minClients can still be reached', () => {
    const state = training(['a', 'b', 'c'], settings({ minClients: 2 }));
    const t = reduce(state, left('b', T_LAUNCH + 10));
    expect(t.state.run!.phase).toBe('training');
    expect(effectsOf(t, 'round-failed')).toEqual([]);
    expect(effectsOf(t, 'run-finished')).toEqual([]);
  });

  it('keeps a participant that leaves while aggregating as lost until the round completes', () => {
    const state = apply(training(['a', 'b']), update('a', 1), update('b', 2)).state;
    const t = reduce(state, left('a', T_LAUNCH + 10));
    expect(t.state.run!.phase).toBe('aggregating');
    expect(t.state.clients.get('a')!.state).toBe('lost');
    expect(effectsOf(t, 'round-failed')).toEqual([]);
    const done = reduce(t.state, completed(T_LAUNCH + 20));
    expect(done.state.clients.get('a')).toBeUndefined();
  });
});

describe('a dropped participant rejoining', () => {
  it('is pending again within the same round, gets the round resent and may still deliver its update', () => {
    const state = apply(training(['a', 'b', 'c']), left('b', T_LAUNCH + 10)).state;
    expect(checkUpdate(state, 'b', RUN, 1)).toBe('HUB_ERR_NOT_PARTICIPANT');
    const t = reduce(state, joinEvent('b', T_LAUNCH + 20));
    expect(t.effects).toEqual([
      { type: 'resend-round', runId: RUN, round: 1, clientId: 'b', deadline: deadline1 },
      { type: 'status-changed' },
    ]);
    expect(t.state.run!.deadline).toBe(deadline1); // the round keeps its deadline
    expect(t.state.run!.participants).toEqual(['a', 'b', 'c']);
    expect(t.state.run!.dropped).toEqual([]);
    const b = t.state.clients.get('b')!;
    expect(b.connected).toBe(true);
    expect(b.state).toBe('training');
    expect(b.joinedAt).toBe(1001); // keeps its original join time, hence its place in the order
    expect(checkUpdate(t.state, 'b', RUN, 1)).toBeNull();
    const closed = apply(t.state, update('a', 1), update('c', 2));
    expect(closed.state.run!.phase).toBe('training'); // still waiting for b
    const all = reduce(closed.state, update('b', 3));
    expect([...only(all, 'aggregate').contributors].sort()).toEqual(['a', 'b', 'c']);
  });

  // Formerly a bug: the 'done' case only ran for clients in run.dropped, where a contributor never is.
  it('shows a contributor that reconnects within the round as done, not idle, without resending the round', () => {
    const state = apply(training(['a', 'b', 'c']), update('a', T_LAUNCH + 1), left('a', T_LAUNCH + 2)).state;
    expect(state.clients.get('a')!.state).toBe('lost');
    const t = reduce(state, joinEvent('a', T_LAUNCH + 3));
    expect(effectsOf(t, 'resend-round')).toEqual([]);
    expect(t.state.clients.get('a')!.connected).toBe(true);
    expect(t.state.run!.submitted.has('a')).toBe(true);
    expect(checkUpdate(t.state, 'a', RUN, 1)).toBe('HUB_ERR_DUPLICATE_UPDATE');
    expect(t.state.clients.get('a')!.state).toBe('done');
  });

  it('keeps the MNIST shard size of a client across a reconnect', () => {
    const state = apply(training(['a', 'b', 'c']), { type: 'shards-assigned', at: T_LAUNCH, runId: RUN, sizes: { a: 700, b: 300, c: 1 } }).state;
    expect(state.clients.get('a')!.samples).toBe(700);
    const t = apply(state, left('a', T_LAUNCH + 1), joinEvent('a', T_LAUNCH + 2));
    expect(t.state.clients.get('a')!.samples).toBe(700);
  });

  it('gets no resend when it comes back after the round closed at its deadline (it counts as dropped)', () => {
    const state = apply(training(['a', 'b', 'c'], settings({ minClients: 2 })), update('a', 1), update('c', 2), left('b', T_LAUNCH + 5), timer(deadline1)).state;
    expect(state.run!.phase).toBe('aggregating');
    const t = reduce(state, joinEvent('b', deadline1 + 1));
    expect(effectsOf(t, 'resend-round')).toEqual([]);
    expect(t.state.clients.get('b')!.state).toBe('idle');
    expect(t.state.run!.dropped).toEqual(['b']);
  });

  it('gets the round again when it joins on a new connection before its old one was seen to close', () => {
    // The round:start may have gone to the old connection; a client still training ignores the repeat.
    const state = training(['a', 'b']);
    const t = reduce(state, joinEvent('b', T_LAUNCH + 2));
    expect(effectsOf(t, 'resend-round')).toEqual([{ type: 'resend-round', runId: RUN, round: 1, clientId: 'b', deadline: state.run!.deadline }]);
    expect(t.state.clients.get('b')!.state).toBe('training');
    expect(t.state.run!.participants).toEqual(['a', 'b']);
    expect(t.state.run!.dropped).toEqual([]);
    expect(checkUpdate(t.state, 'b', RUN, 1)).toBeNull(); // still pending: its update is accepted
  });

  it('gets no resend when the client joining mid-round was never a participant', () => {
    const state = apply(training(['a', 'b']), joinEvent('late', T_LAUNCH + 1)).state;
    const t = reduce(state, joinEvent('late', T_LAUNCH + 2));
    expect(effectsOf(t, 'resend-round')).toEqual([]);
    expect(t.state.run!.participants).toEqual(['a', 'b']);
  });
});

// ---------------------------------------------------------------- stop

describe('stop', () => {
  it('finishes the run as stopped and cancels the round for participants still training', () => {
    const state = apply(training(['a', 'b', 'c']), update('b', 1)).state;
    const t = reduce(state, { type: 'stop', at: T_LAUNCH + 10, runId: RUN });
    const cancel = only(t, 'cancel-round');
    expect(cancel).toMatchObject({ runId: RUN, round: 1, clients: ['a', 'c'], reason: 'run stopped' });
    expect(only(t, 'run-finished')).toEqual({ type: 'run-finished', runId: RUN, status: 'stopped', reason: 'stopped by the operator' });
    expect(t.effects.indexOf(cancel)).toBeLessThan(t.effects.findIndex((e) => e.type === 'run-finished'));
    expect(t.state.run).toBeNull();
    for (const id of ['a', 'b', 'c']) expect(t.state.clients.get(id)!.state).toBe('idle');
  });

  it('stops a waiting run without cancelling anything', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 2 }))).state;
    const t = reduce(waiting, { type: 'stop', at: T_LAUNCH + 10, runId: RUN });
    expect(effectsOf(t, 'cancel-round')).toEqual([]);
    expect(only(t, 'run-finished').status).toBe('stopped');
    expect(t.state.run).toBeNull();
  });

  it('removes lost participants when the run stops', () => {
    const state = apply(training(['a', 'b', 'c']), left('a', T_LAUNCH + 1)).state;
    const t = reduce(state, { type: 'stop', at: T_LAUNCH + 10, runId: RUN });
    expect([...t.state.clients.keys()].sort()).toEqual(['b', 'c']);
    expect(only(t, 'cancel-round').clients).toEqual(['b', 'c']);
  });

  it('ignores a stop for another run', () => {
    const state = training(['a', 'b']);
    const t = reduce(state, { type: 'stop', at: T_LAUNCH + 10, runId: 'run-0' });
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });
});

// ---------------------------------------------------------------- checkUpdate

describe('checkUpdate', () => {
  it('accepts an update from a pending participant for the current run and round', () => {
    expect(checkUpdate(training(['a', 'b']), 'a', RUN, 1)).toBeNull();
  });

  it('rejects an update from a client that never joined with HUB_ERR_NOT_JOINED', () => {
    expect(checkUpdate(training(['a', 'b']), 'ghost', RUN, 1)).toBe('HUB_ERR_NOT_JOINED');
    expect(checkUpdate(initialEngineState, 'ghost', RUN, 1)).toBe('HUB_ERR_NOT_JOINED');
  });

  it('rejects an update when no run is active with HUB_ERR_NO_RUN', () => {
    expect(checkUpdate(joined(['a']), 'a', RUN, 1)).toBe('HUB_ERR_NO_RUN');
  });

  it('rejects an update for another run with HUB_ERR_WRONG_RUN', () => {
    expect(checkUpdate(training(['a', 'b']), 'a', 'run-0', 1)).toBe('HUB_ERR_WRONG_RUN');
  });

  it('rejects an update for a stale round with HUB_ERR_STALE_ROUND', () => {
    const round2 = apply(training(['a', 'b']), update('a', 1), update('b', 2), completed(T_LAUNCH + 100)).state;
    expect(round2.run!.round).toBe(2);
    expect(checkUpdate(round2, 'a', RUN, 1)).toBe('HUB_ERR_STALE_ROUND');
    expect(checkUpdate(round2, 'a', RUN, 2)).toBeNull();
  });

  it('rejects an update while the round is aggregating with HUB_ERR_ROUND_CLOSED', () => {
    const state = apply(training(['a', 'b', 'c'], settings({ minClients: 2 })), update('a', 1), update('b', 2), timer(deadline1)).state;
    expect(state.run!.phase).toBe('aggregating');
    expect(checkUpdate(state, 'c', RUN, 1)).toBe('HUB_ERR_ROUND_CLOSED');
  });

  it('rejects an update while the run is waiting, or for a future round, with HUB_ERR_ROUND_CLOSED', () => {
    const waiting = reduce(joined(['a']), launchEvent(settings({ minClients: 2 }))).state;
    expect(checkUpdate(waiting, 'a', RUN, 1)).toBe('HUB_ERR_ROUND_CLOSED');
    expect(checkUpdate(training(['a', 'b']), 'a', RUN, 2)).toBe('HUB_ERR_ROUND_CLOSED');
  });

  it('rejects an update from a joined client outside the round with HUB_ERR_NOT_PARTICIPANT', () => {
    const state = apply(training(['a', 'b']), joinEvent('late', T_LAUNCH + 1)).state;
    expect(checkUpdate(state, 'late', RUN, 1)).toBe('HUB_ERR_NOT_PARTICIPANT');
  });

  it('rejects an update from a participant that dropped out with HUB_ERR_NOT_PARTICIPANT', () => {
    const state = apply(training(['a', 'b', 'c']), left('c', T_LAUNCH + 1)).state;
    expect(checkUpdate(state, 'c', RUN, 1)).toBe('HUB_ERR_NOT_PARTICIPANT');
  });

  it('rejects a second update from the same participant with HUB_ERR_DUPLICATE_UPDATE', () => {
    const state = apply(training(['a', 'b']), update('a', 1)).state;
    expect(checkUpdate(state, 'a', RUN, 1)).toBe('HUB_ERR_DUPLICATE_UPDATE');
    expect(checkUpdate(state, 'b', RUN, 1)).toBeNull();
  });
});

// ---------------------------------------------------------------- chest-xray eligibility

describe('chest-xray eligibility', () => {
  const s = settings({ task: 'chest-xray', minClients: 2 });

  it('does not count chest-xray clients without training images as eligible', () => {
    const state = apply(
      initialEngineState,
      joinEvent('empty', 1, xray(0, 0)),
      joinEvent('full', 2, xray(10, 5)),
      joinEvent('mnist', 3, MNIST),
    ).state;
    const t = reduce(state, launchEvent(s));
    expect(t.state.run!.phase).toBe('waiting');
    expect(eligibleClients(t.state, t.state.run!)).toEqual(['full']);
  });

  it('counts a client with only pneumonia (or only normal) training images', () => {
    const state = apply(initialEngineState, joinEvent('p', 1, xray(0, 3)), joinEvent('n', 2, xray(4, 0))).state;
    const t = reduce(state, launchEvent(s));
    expect(only(t, 'start-round').participants).toEqual(['p', 'n']);
  });

  it('starts the round when a client without images loads some, and records its sample count', () => {
    const state = apply(initialEngineState, joinEvent('empty', 1, xray(0, 0)), joinEvent('full', 2, xray(10, 5)), launchEvent(s)).state;
    expect(state.clients.get('empty')!.samples).toBe(0);
    expect(state.clients.get('full')!.samples).toBe(15);
    const t = reduce(state, { type: 'client-data', at: T_LAUNCH + 1, clientId: 'empty', data: xray(6, 1) });
    expect(only(t, 'start-round').participants).toEqual(['empty', 'full']);
    expect(t.state.clients.get('empty')!.samples).toBe(7);
  });
});

// ---------------------------------------------------------------- retries

describe('round retry', () => {
  const abort = (at: number, round = 1, reason = 'aggregation failed'): EngineEvent => ({ type: 'round-aborted', at, runId: RUN, round, reason });

  it('tries a round twice in all', () => {
    expect(MAX_ROUND_ATTEMPTS).toBe(2);
  });

  it('starts every run at attempt 1', () => {
    expect(training(['a', 'b']).run!.attempt).toBe(1);
    expect(reduce(joined(['a']), launchEvent(settings({ minClients: 2 }))).state.run!.attempt).toBe(1);
  });

  it('re-picks the participants for the retry: a departed one is left out and forgotten, a newcomer takes part with a shard', () => {
    const state = apply(
      training(['a', 'b', 'c'], settings({ minClients: 2 })),
      update('a', T_LAUNCH + 1),
      left('c', T_LAUNCH + 2), // dropped: 2 can still answer, enough
      joinEvent('d', T_LAUNCH + 3), // not in this round
    ).state;
    expect(state.run!.participants).toEqual(['a', 'b', 'c']);
    const t = reduce(state, timer(deadline1));
    expect(only(t, 'cancel-round').clients).toEqual(['b']); // c is no longer pending: it left
    expect(only(t, 'round-retry')).toMatchObject({ round: 1, attempt: 2 });
    const start = only(t, 'start-round');
    expect(start).toMatchObject({ round: 1, participants: ['a', 'b', 'd'], assignShards: ['a', 'b', 'd'] });
    expect(t.state.run!.shardOwners).toEqual(['a', 'b', 'd']);
    expect(t.state.clients.get('c')).toBeUndefined();
    for (const id of ['a', 'b', 'd']) expect(t.state.clients.get(id)!.state).toBe('training');
  });

  it('does not let the first attempt\'s training timer close a retry that started early', () => {
    const retryAt = T_LAUNCH + 10;
    const retried = apply(training(['a', 'b', 'c'], settings({ minClients: 3 })), left('c', retryAt), joinEvent('d', retryAt + 1)).state;
    expect(retried.run).toMatchObject({ attempt: 2, phase: 'training', deadline: retryAt + 1 + TIMEOUT_SEC * 1000 });
    const t = reduce(retried, timer(deadline1));
    expect(t.state).toBe(retried);
    expect(t.effects).toEqual([]);
  });

  it('starts the retried round when a client joins during its waiting period', () => {
    const state = apply(joined(['a']), launchEvent(settings({ minClients: 2 })), timer(deadline1, 1, 'waiting')).state;
    expect(state.run).toMatchObject({ attempt: 2, phase: 'waiting' });
    const at = deadline1 + 500;
    const t = reduce(state, joinEvent('b', at));
    expect(only(t, 'start-round')).toEqual({
      type: 'start-round',
      runId: RUN,
      round: 1,
      participants: ['a', 'b'], population: 2,
      deadline: at + TIMEOUT_SEC * 1000,
      assignShards: ['a', 'b'],
    });
    expect(t.state.run).toMatchObject({ round: 1, attempt: 2, phase: 'training', roundStartedAt: at });
  });

  it('completes a round normally when its retry succeeds, and resets the attempt for the next round', () => {
    const s = settings({ rounds: 3, minClients: 2 });
    const retried = apply(training(['a', 'b'], s), update('a', 1), timer(deadline1)).state;
    expect(retried.run!.attempt).toBe(2);
    const aggregating = apply(retried, update('a', deadline1 + 1), update('b', deadline1 + 2));
    expect(only(aggregating, 'aggregate')).toMatchObject({ round: 1, roundStartedAt: deadline1 });
    const at = deadline1 + 100;
    const round2 = reduce(aggregating.state, completed(at));
    expect(round2.state.run).toMatchObject({ round: 2, attempt: 1, phase: 'training', startedAt: T_LAUNCH });
    // Round 2 fails once: it is retried, not the end of the run, because round 1's retry does not count against it.
    const failedOnce = reduce(round2.state, timer(at + TIMEOUT_SEC * 1000, 2));
    expect(only(failedOnce, 'round-retry')).toMatchObject({ round: 2, attempt: 2 });
    expect(effectsOf(failedOnce, 'run-finished')).toEqual([]);
    expect(failedOnce.state.run).toMatchObject({ round: 2, attempt: 2, phase: 'training' });
  });

  it('fails the run at once when an aggregation error aborts a round on its first attempt, also after a deadline close', () => {
    const state = apply(training(['a', 'b', 'c'], settings({ minClients: 2 })), update('a', 1), update('b', 2), timer(deadline1)).state;
    expect(state.run!.attempt).toBe(1);
    const t = reduce(state, abort(deadline1 + 5));
    expect(effectsOf(t, 'round-retry')).toEqual([]);
    expect(only(t, 'round-failed')).toMatchObject({ round: 1, reason: 'aggregation failed' });
    expect(only(t, 'run-finished')).toEqual({ type: 'run-finished', runId: RUN, status: 'failed', reason: 'round 1: aggregation failed' });
    expect(t.state.run).toBeNull();
  });

  it('does not cancel late participants twice: a deadline close then an abort sends no second cancel-round', () => {
    const state = apply(training(['a', 'b', 'c', 'd'], settings({ minClients: 2 })), update('a', 1), update('c', 2)).state;
    const closed = reduce(state, timer(deadline1));
    expect(only(closed, 'cancel-round').clients).toEqual(['b', 'd']);
    expect(closed.state.run!.dropped).toEqual(['b', 'd']);
    expect(checkUpdate(closed.state, 'b', RUN, 1)).toBe('HUB_ERR_ROUND_CLOSED');
    const aborted = reduce(closed.state, abort(deadline1 + 5));
    expect(effectsOf(aborted, 'cancel-round')).toEqual([]);
    expect(only(aborted, 'run-finished').status).toBe('failed');
  });

  it('keeps dropped participants (left mid-round) together with the late ones, once each', () => {
    const state = apply(training(['a', 'b', 'c', 'd'], settings({ minClients: 2 })), update('a', 1), left('b', 2), update('c', 3)).state;
    const closed = reduce(state, timer(deadline1));
    expect(only(closed, 'cancel-round').clients).toEqual(['d']);
    expect(closed.state.run!.dropped).toEqual(['b', 'd']);
  });

  it('fails a retried round 2 with the reason prefixed by its round number, round-failed before run-finished', () => {
    const s = settings({ rounds: 3, minClients: 2 });
    const at = T_LAUNCH + 500;
    const round2 = apply(training(['a', 'b'], s), update('a', 1), update('b', 2), completed(at)).state;
    const d1 = at + TIMEOUT_SEC * 1000;
    const d2 = d1 + TIMEOUT_SEC * 1000;
    const retried = reduce(round2, timer(d1, 2));
    expect(only(retried, 'round-retry')).toEqual({
      type: 'round-retry',
      runId: RUN,
      round: 2,
      attempt: 2,
      reason: 'deadline of 60s reached: 0 of the 2 required updates arrived',
    });
    const t = reduce(retried.state, timer(d2, 2));
    const failed = only(t, 'round-failed');
    const finished = only(t, 'run-finished');
    expect(failed).toEqual({
      type: 'round-failed',
      runId: RUN,
      round: 2,
      reason: 'deadline of 60s reached: 0 of the 2 required updates arrived',
      roundStartedAt: d1,
    });
    expect(finished).toEqual({
      type: 'run-finished',
      runId: RUN,
      status: 'failed',
      reason: 'round 2: deadline of 60s reached: 0 of the 2 required updates arrived',
    });
    expect(t.effects.indexOf(failed)).toBeLessThan(t.effects.indexOf(finished));
    expect(t.state.run).toBeNull();
    for (const id of ['a', 'b']) expect(t.state.clients.get(id)!.state).toBe('idle');
  });
});

// ---------------------------------------------------------------- MNIST shards

describe('MNIST shards follow the participants', () => {
  it('reassigns the shards when an owner departed: the next round assigns them to the remaining participants', () => {
    const state = apply(training(['a', 'b', 'c']), update('a', 1), update('b', 2), update('c', 3), left('c', 4)).state;
    expect(state.run!.shardOwners).toEqual(['a', 'b', 'c']);
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(only(t, 'start-round')).toMatchObject({ round: 2, participants: ['a', 'b'], assignShards: ['a', 'b'] });
    expect(t.state.run!.shardOwners).toEqual(['a', 'b']);
  });

  it('does not reassign when an owner reconnects and keeps its place in the order', () => {
    const state = apply(training(['a', 'b', 'c']), update('a', 1), update('b', 2), update('c', 3), left('b', 4), joinEvent('b', 5)).state;
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(only(t, 'start-round')).toMatchObject({ participants: ['a', 'b', 'c'], assignShards: null });
    expect(t.state.run!.shardOwners).toEqual(['a', 'b', 'c']);
  });

  it('reassigns each time the participants change: a replacement, then a departed owner back as a newcomer', () => {
    const state = apply(training(['a', 'b']), update('a', 1), update('b', 2), left('b', 3), joinEvent('z', T_LAUNCH + 4)).state;
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(only(t, 'start-round')).toMatchObject({ round: 2, participants: ['a', 'z'], assignShards: ['a', 'z'] });
    const back = apply(t.state, joinEvent('b', T_LAUNCH + 501), update('a', T_LAUNCH + 502, 2), update('z', T_LAUNCH + 503, 2), completed(T_LAUNCH + 600, 2));
    // b was forgotten when its round ended, so it rejoins as a newcomer, last in the order.
    expect(only(back, 'start-round')).toMatchObject({ round: 3, participants: ['a', 'z', 'b'], assignShards: ['a', 'z', 'b'] });
    expect(back.state.run!.shardOwners).toEqual(['a', 'z', 'b']);
  });

  it('does not assign shards for a chest-xray run even when the participants change', () => {
    const s = settings({ task: 'chest-xray', minClients: 1 });
    const state = apply(training(['a'], s, xray(3, 4)), joinEvent('late', T_LAUNCH + 1, xray(1, 1)), update('a', 2)).state;
    const t = reduce(state, completed(T_LAUNCH + 500));
    expect(only(t, 'start-round')).toMatchObject({ participants: ['a', 'late'], assignShards: null });
    expect(t.state.run!.shardOwners).toBeNull();
  });
});

// ---------------------------------------------------------------- resume

describe('run-resumed', () => {
  const resumed = (round: number, s: RunSettings = settings({ rounds: 5, minClients: 2 }), at = T_LAUNCH, startedAt = 42): EngineEvent => ({
    type: 'run-resumed',
    at,
    runId: RUN,
    settings: s,
    round,
    startedAt,
    shardOwners: null,
    privacySpent: [],
  });

  it('resumes at the given round in training when enough clients are connected, keeping startedAt', () => {
    const t = reduce(joined(['a', 'b']), resumed(3));
    const run = t.state.run!;
    expect(run).toMatchObject({ id: RUN, round: 3, attempt: 1, phase: 'training', startedAt: 42, roundStartedAt: T_LAUNCH, deadline: deadline1 });
    expect(run.participants).toEqual(['a', 'b']);
    expect(t.effects).toEqual([
      { type: 'set-timer', runId: RUN, round: 3, phase: 'training', at: deadline1 },
      { type: 'start-round', runId: RUN, round: 3, participants: ['a', 'b'], population: 2, deadline: deadline1, assignShards: ['a', 'b'] },
      { type: 'status-changed' },
    ]);
    expect(hubPhase(t.state)).toBe('training');
  });

  it('resumes waiting, with a waiting timer for that round, when too few clients are connected', () => {
    const t = reduce(joined(['a']), resumed(4));
    expect(t.state.run).toMatchObject({ round: 4, attempt: 1, phase: 'waiting', startedAt: 42, deadline: deadline1 });
    expect(only(t, 'set-timer')).toEqual({ type: 'set-timer', runId: RUN, round: 4, phase: 'waiting', at: deadline1 });
    expect(effectsOf(t, 'start-round')).toEqual([]);
    const started = reduce(t.state, joinEvent('b', T_LAUNCH + 1));
    expect(only(started, 'start-round')).toMatchObject({ round: 4, participants: ['a', 'b'] });
    expect(started.state.run!.startedAt).toBe(42);
  });

  it('ignores a resume while another run is active', () => {
    const state = training(['a', 'b']);
    const t = reduce(state, { ...resumed(2), runId: 'run-2' } as EngineEvent);
    expect(t.state).toBe(state);
    expect(t.effects).toEqual([]);
  });

  it('finishes a run resumed at its last round once that round completes', () => {
    const state = apply(joined(['a', 'b']), resumed(5), update('a', T_LAUNCH + 1, 5), update('b', T_LAUNCH + 2, 5)).state;
    expect(state.run!.phase).toBe('aggregating');
    const t = reduce(state, completed(T_LAUNCH + 3, 5));
    expect(only(t, 'run-finished')).toEqual({ type: 'run-finished', runId: RUN, status: 'completed', reason: null });
  });

  it('retries and then fails a resumed round with the round number in the reason', () => {
    const state = apply(joined(['a']), resumed(3), timer(deadline1, 3, 'waiting')).state;
    expect(state.run).toMatchObject({ round: 3, attempt: 2, phase: 'waiting' });
    const t = reduce(state, timer(deadline1 + TIMEOUT_SEC * 1000, 3, 'waiting'));
    expect(only(t, 'run-finished').reason).toMatch(/^round 3: only 1 of the 2 required clients/);
  });
});

// ---------------------------------------------------------------- purity

describe('purity', () => {
  it('never mutates its input state across a full run (deep-frozen inputs)', () => {
    const t1 = T_LAUNCH + 1;
    const scenario: EngineEvent[] = [
      joinEvent('a', 1),
      joinEvent('b', 2),
      joinEvent('c', 3, null),
      joinEvent('x', 4, xray(1, 1)),
      launchEvent(settings({ rounds: 2, minClients: 3 })), // waiting: only a and b hold MNIST data
      { type: 'client-data', at: T_LAUNCH, clientId: 'c', data: MNIST }, // starts round 1 with a, b, c
      joinEvent('d', t1), // joins mid-round: not a participant
      { type: 'shards-assigned', at: t1, runId: RUN, sizes: { a: 10, b: 20, c: 30 } },
      { type: 'client-progress', at: t1 + 1, clientId: 'a', progress: { epoch: 0, epochs: 1, batch: 1, batches: 2 } },
      update('a', t1 + 2),
      left('d', t1 + 3),
      { type: 'client-data', at: t1 + 4, clientId: 'x', data: null },
      update('b', t1 + 5),
      update('c', t1 + 6), // all in: aggregating
      left('x', t1 + 7),
      completed(t1 + 8), // round 2 with a, b, c
      update('a', t1 + 9, 2),
      left('b', t1 + 10), // 2 can still answer, 3 required: retried (attempt 2), waiting
      joinEvent('b', t1 + 11), // back: attempt 2 starts with a, b, c
      update('c', t1 + 12, 2),
      timer(t1 + 11 + TIMEOUT_SEC * 1000, 2), // 1 of 3 updates in attempt 2: fails the run
      joinEvent('e', t1 + 200_000),
      { type: 'run-resumed', at: t1 + 200_001, runId: 'run-2', settings: settings({ rounds: 3, minClients: 2 }), round: 2, startedAt: 50, shardOwners: null, privacySpent: [] },
      update('a', t1 + 200_002, 2, 10, 'run-2'),
      left('e', t1 + 200_003), // dropped
      joinEvent('e', t1 + 200_004), // back within the round: gets it again
      update('b', t1 + 200_005, 2, 10, 'run-2'),
      update('c', t1 + 200_006, 2, 10, 'run-2'),
      update('e', t1 + 200_007, 2, 10, 'run-2'), // all in: aggregating
      { type: 'round-aborted', at: t1 + 200_008, runId: 'run-2', round: 2, reason: 'aggregation failed' }, // no retry
      launchEvent(settings({ rounds: 1, minClients: 5 }), t1 + 300_000, 'run-3'), // waiting
      { type: 'stop', at: t1 + 300_001, runId: 'run-3' },
    ];
    // The persistent maps are frozen too (their nodes included); the snapshot compares their contents.
    const plain = (s: EngineState) => structuredClone({ ...s, clients: s.clients.toJS(), run: s.run && { ...s.run, submitted: s.run.submitted.toJS() } });
    let state: EngineState = deepFreeze(initialEngineState);
    const phases: string[] = [];
    const effectTypes = new Set<string>();
    for (const event of scenario) {
      const snapshot = plain(state);
      const t = reduce(deepFreeze(state), deepFreeze(event));
      expect(plain(state)).toEqual(snapshot);
      phases.push(hubPhase(t.state));
      for (const e of t.effects) effectTypes.add(e.type);
      state = t.state;
    }
    // The scenario really exercised what it claims to.
    expect(phases.slice(4, 6)).toEqual(['waiting', 'training']);
    expect(phases).toContain('aggregating');
    expect(phases.at(-1)).toBe('idle');
    expect([...effectTypes].sort()).toEqual(
      [
        'aggregate',
        'cancel-round',
        'resend-round',
        'round-failed',
        'round-retry',
        'run-finished',
        'set-timer',
        'start-round',
        'status-changed',
      ].sort(),
    );
  });

  it('does not mutate the shared initialEngineState', () => {
    const before = structuredClone(initialEngineState);
    apply(initialEngineState, joinEvent('a', 1), launchEvent(settings({ minClients: 1 })));
    expect(initialEngineState).toEqual(before);
  });
});

// ---------------------------------------------------------------- final evaluation (clients score the last model)

describe('final evaluation', () => {
  const chest = () => settings({ task: 'chest-xray', rounds: 1, minClients: 1 });
  const scored = (clientId: string, at: number, round = 1): EngineEvent => ({
    type: 'evaluation-accepted',
    at,
    clientId,
    runId: RUN,
    round,
    metrics: { samples: 10, accuracy: 0.9 },
  });

  function lastRoundAggregated(): EngineState {
    const s = training(['a', 'b'], chest(), xray(10, 10));
    return apply(s, update('a', T_LAUNCH + 10), update('b', T_LAUNCH + 20)).state;
  }

  it('asks the contributors of a chest X-ray run to score the final model before the run ends', () => {
    const t = reduce(lastRoundAggregated(), completed(T_LAUNCH + 30));
    expect(t.state.run).toMatchObject({ phase: 'evaluating', participants: ['a', 'b'] });
    expect(t.state.run!.submitted.size).toBe(0);
    expect(hubPhase(t.state)).toBe('evaluating');
    expect(only(t, 'request-evaluation')).toEqual({ type: 'request-evaluation', runId: RUN, round: 1, clients: ['a', 'b'] });
    expect(only(t, 'set-timer')).toMatchObject({ phase: 'evaluating', round: 1 });
    expect(effectsOf(t, 'run-finished')).toEqual([]);
  });

  it('ends the run completed once every asked client has scored it', () => {
    const asking = reduce(lastRoundAggregated(), completed(T_LAUNCH + 30)).state;
    const first = reduce(asking, scored('a', T_LAUNCH + 40));
    expect(effectsOf(first, 'run-finished')).toEqual([]);
    const second = reduce(first.state, scored('b', T_LAUNCH + 50));
    expect(only(second, 'run-finished')).toMatchObject({ status: 'completed', reason: null });
    expect(second.state.run).toBeNull();
    expect(second.state.clients.get('b')!.lastMetrics?.test).toEqual({ samples: 10, accuracy: 0.9 });
  });

  it('ends the run at the deadline, or when the clients still owing a score leave', () => {
    const asking = reduce(lastRoundAggregated(), completed(T_LAUNCH + 30)).state;
    const deadline = asking.run!.deadline;
    expect(only(reduce(asking, timer(deadline, 1, 'evaluating')), 'run-finished')).toMatchObject({ status: 'completed' });
    const afterScore = reduce(asking, scored('a', T_LAUNCH + 40)).state;
    expect(only(reduce(afterScore, left('b', T_LAUNCH + 41)), 'run-finished')).toMatchObject({ status: 'completed' });
  });

  it('ends an MNIST run at once: the hub scores MNIST models itself', () => {
    const s = training(['a', 'b'], settings({ rounds: 1 }));
    const aggregated = apply(s, update('a', T_LAUNCH + 10), update('b', T_LAUNCH + 20)).state;
    const t = reduce(aggregated, completed(T_LAUNCH + 30));
    expect(effectsOf(t, 'request-evaluation')).toEqual([]);
    expect(only(t, 'run-finished')).toMatchObject({ status: 'completed' });
  });
});

describe('a round that fails twice', () => {
  it("names both attempts' reasons in the run's failure", () => {
    const s = training(['a', 'b']);
    const aborted = reduce(s, { type: 'round-aborted', at: T_LAUNCH + 10, runId: RUN, round: 1, reason: 'HUB_ERR_SECAGG_TOO_FEW: 1 survivor', retry: true });
    expect(only(aborted, 'round-retry')).toMatchObject({ attempt: 2 });
    const gone = reduce(aborted.state, left('a', T_LAUNCH + 20));
    const failed = only(gone, 'run-finished');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toContain('HUB_ERR_SECAGG_TOO_FEW');
    expect(failed.reason).toContain('attempt 1');
  });
});

describe('ten thousand clients', () => {
  it('counts who may still answer without scanning: 10,000 join, 2 leave, 1 is excluded, the rest submit, and the round closes once', () => {
    const n = 10_000;
    const ids = Array.from({ length: n }, (_, i) => `c${String(i).padStart(5, '0')}`);
    let t = apply(joined(ids), launchEvent(settings({ minClients: n - 10 })));
    expect(t.state.run!.participants).toHaveLength(n);
    t = apply(t.state, left(ids[5]!, T_LAUNCH + 1), left(ids[6]!, T_LAUNCH + 2));
    t = reduce(t.state, { type: 'client-excluded', at: T_LAUNCH + 3, runId: RUN, round: 1, clientId: ids[7]! });
    const rest = ids.filter((_, i) => i < 5 || i > 7);
    const aggregated: Transition[] = [];
    for (const [i, id] of rest.entries()) {
      t = reduce(t.state, update(id, T_LAUNCH + 10 + i));
      if (effectsOf(t, 'aggregate').length) aggregated.push(t);
    }
    // Only the last update closed the round, with every contributor and nobody left pending.
    expect(aggregated).toHaveLength(1);
    expect(only(aggregated[0]!, 'aggregate').contributors).toHaveLength(n - 3);
    expect(effectsOf(aggregated[0]!, 'cancel-round')).toEqual([]);
    expect(t.state.run!.phase).toBe('aggregating');
    expect(t.state.run!.submitted.size).toBe(n - 3);
  });
});
