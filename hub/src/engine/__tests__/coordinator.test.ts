import { describe, expect, it, vi } from 'vitest';
import { decodeShard } from '@fl/shared/data/mnist-dataset';
import { ROUND_START_SLICE } from '../coordinator';
import { decodeWeights, resolveSettings, toBytes, type EvalMetrics, type LaunchRequest, type UpdateSubmit } from '@fl/shared';
import type { CompletedRound } from '../../store/store';
import {
  FakeClock,
  MNIST_DATA,
  MemoryStore,
  SHAPES,
  fakeHub,
  frame,
  joinAll,
  xrayData,
  type FakeHub,
  refusal, refusalOf,
} from './support/fakes';

// ---------------------------------------------------------------- helpers

const TIMEOUT_MS = 60_000;
// Plain FedAvg on the server, so the committed model is exactly the average these tests compute.
const mnist = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({ task: 'mnist', rounds: 2, minClients: 1, roundTimeoutSec: 60, seed: 7, serverOptimizer: { name: 'fedavg' }, ...over });
const xray = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({ task: 'chest-xray', rounds: 2, minClients: 1, roundTimeoutSec: 60, seed: 7, ...over });
const fill = (v: number): number[] => Array.from({ length: 6 }, () => v);

/** An update of the round in progress from `clientId`, claiming the samples it holds unless told otherwise. */
function updateOf(hub: FakeHub, clientId: string, values: ArrayLike<number>, over: Partial<UpdateSubmit> & { shapes?: number[][] } = {}): UpdateSubmit {
  const run = hub.coordinator.engineState.run!;
  const round = over.round ?? run.round;
  const { shapes, ...rest } = over;
  return {
    runId: run.id,
    round,
    samples: hub.coordinator.engineState.clients.get(clientId)!.samples,
    weights: frame(values, { runId: run.id, round, ...(shapes ? { shapes } : {}) }),
    metrics: { loss: 0.5, accuracy: 0.8, trainMs: 5 },
    ...rest,
  };
}

/** FedAvg computed here in float64, independently of the aggregator. */
function fedAvg(updates: { values: number[]; weight: number }[]): number[] {
  const total = updates.reduce((n, u) => n + u.weight, 0);
  return updates[0]!.values.map((_, i) => updates.reduce((s, u) => s + u.values[i]! * u.weight, 0) / total);
}

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  Array.from(actual).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
}

const committed = (hub: FakeHub, round: number): CompletedRound =>
  hub.store.callsTo('completeRound').map((args) => args[0] as CompletedRound).find((r) => r.round === round)!;

const roundStarts = (hub: FakeHub, round: number) => hub.transport.of('round:start').filter((s) => s.payload.round === round);
const globalSent = (hub: FakeHub, round: number) => decodeWeights(hub.transport.modelFor(roundStarts(hub, round)[0]!.clientId, round)).values;

const score = (hub: FakeHub, clientId: string, round: number, metrics: EvalMetrics) =>
  hub.coordinator.submitEvaluation(clientId, { runId: hub.coordinator.engineState.run!.id, round, metrics });

/** Lets queued microtasks and the aggregation's setImmediate run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------- item 14: effects

describe('Coordinator: effects (item 14)', () => {
  it('arms the round deadline even when sending round:start throws, and closes the round when it passes', async () => {
    const hub = fakeHub();
    hub.transport.throwOn.add('round:start');
    joinAll(hub, [['a', MNIST_DATA]]);
    const launchedAt = hub.clock.now();
    const { id } = await hub.coordinator.launch(mnist());
    expect(hub.coordinator.engineState.run).toMatchObject({ phase: 'training', round: 1, attempt: 1 });
    expect(hub.clock.live).toBe(1);
    expect(hub.clock.nextAt).toBe(launchedAt + TIMEOUT_MS);
    expect(hub.log.errors()).toContain('effect failed');

    hub.clock.advance(TIMEOUT_MS);
    expect(hub.coordinator.engineState.run).toMatchObject({ phase: 'training', round: 1, attempt: 2 });
    expect(hub.clock.live).toBe(1);

    hub.clock.advance(TIMEOUT_MS);
    expect(hub.store.callsTo('failRound')).toEqual([[id, 1, expect.stringContaining('deadline of 60s reached'), TIMEOUT_MS, launchedAt + 2 * TIMEOUT_MS]]);
    expect(hub.store.run(id)).toMatchObject({ status: 'failed' });
    expect(hub.coordinator.engineState.run).toBeNull();
    expect(hub.clock.live).toBe(0);
  });

  it('sends a large round in slices of ROUND_START_SLICE, each model before its starts, and no slice after the run stopped', async () => {
    const count = 2 * ROUND_START_SLICE + 10;
    const ids = Array.from({ length: count }, (_, i) => `c${i}`);
    const twice = fakeHub();
    joinAll(twice, ids.map((id): [string, typeof MNIST_DATA] => [id, MNIST_DATA]));
    await twice.coordinator.launch(mnist({ minClients: count }));
    // The first slice goes out at once, the rest on later turns of the event loop.
    expect(twice.transport.of('round:start')).toHaveLength(ROUND_START_SLICE);
    await flush();
    await flush();
    const order = twice.transport.sent.filter((s) => s.event === 'round:model' || s.event === 'round:start').map((s) => `${s.event} ${s.clientId}`);
    expect(twice.transport.of('round:start').map((s) => s.clientId)).toEqual(ids);
    for (const id of ids) expect(order.indexOf(`round:model ${id}`)).toBeLessThan(order.indexOf(`round:start ${id}`));

    const stopped = fakeHub();
    joinAll(stopped, ids.map((id): [string, typeof MNIST_DATA] => [id, MNIST_DATA]));
    const { id } = await stopped.coordinator.launch(mnist({ minClients: count }));
    stopped.coordinator.stop(id);
    await flush();
    await flush();
    expect(stopped.transport.of('round:start')).toHaveLength(ROUND_START_SLICE);
    expect(stopped.transport.of('round:model')).toHaveLength(ROUND_START_SLICE);
  });

  it('a run listener that throws after the commit does not abort the round: the next round starts', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', MNIST_DATA]]);
    let thrown = 0;
    hub.coordinator.onRunChanged(() => {
      if (hub.store.callsTo('completeRound').length === 0) return;
      thrown += 1;
      throw new Error('dashboard gone');
    });
    const { id } = await hub.coordinator.launch(mnist());
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(1)));
    await hub.coordinator.idle();
    expect(thrown).toBeGreaterThan(0);
    expect(hub.store.callsTo('completeRound')).toHaveLength(1);
    expect(hub.store.callsTo('failRound')).toEqual([]);
    expect(hub.store.callsTo('finishRun')).toEqual([]);
    expect(hub.coordinator.engineState.run).toMatchObject({ id, round: 2, phase: 'training' });
    expect(roundStarts(hub, 2).map((s) => s.clientId)).toEqual(['a']);
  });

  it('a status listener that throws neither escapes the timer nor keeps other listeners from the push', async () => {
    const hub = fakeHub();
    const seen: string[] = [];
    hub.coordinator.onStatus(() => {
      throw new Error('socket closed');
    });
    hub.coordinator.onStatus((status) => seen.push(status.status));
    joinAll(hub, [['a', MNIST_DATA]]);
    await hub.coordinator.launch(mnist());
    expect(() => hub.clock.advance(200)).not.toThrow();
    expect(seen).toEqual(['training']);
  });

  it('folds only accepted updates: the next global model is the FedAvg of the accepted ones, whatever was refused', async () => {
    const hub = fakeHub();
    joinAll(hub, [
      ['a', MNIST_DATA],
      ['b', MNIST_DATA],
      ['c', MNIST_DATA],
    ]);
    await hub.coordinator.launch(mnist({ minClients: 3 }));
    const held = (id: string) => hub.coordinator.engineState.clients.get(id)!.samples;
    expect(held('a') + held('b') + held('c')).toBe(40);
    const bad = fill(100);

    const A = [1, 2, 3, 4, 5, 6];
    const B = [2, 2, 2, -2, -2, -2];
    const C = [-1, 0, 1, -1, 0, 1];
    expect(hub.coordinator.submit('a', updateOf(hub, 'a', A))).toEqual({ accepted: true, received: 1 });
    expect(refusal(() => hub.coordinator.submit('a', updateOf(hub, 'a', bad)))).toBe('HUB_ERR_DUPLICATE_UPDATE');
    expect(refusal(() => hub.coordinator.submit('b', updateOf(hub, 'b', bad, { shapes: [[4], [2]] })))).toBe('HUB_ERR_SHAPE_MISMATCH');
    expect(refusal(() => hub.coordinator.submit('b', updateOf(hub, 'b', [Number.NaN, ...bad.slice(1)])))).toBe('HUB_ERR_NON_FINITE');
    expect(refusal(() => hub.coordinator.submit('b', updateOf(hub, 'b', bad, { samples: held('b') + 1 })))).toBe('HUB_ERR_INVALID_PAYLOAD');
    expect(hub.coordinator.submit('b', updateOf(hub, 'b', B))).toEqual({ accepted: true, received: 2 });
    expect(hub.coordinator.submit('c', updateOf(hub, 'c', C))).toEqual({ accepted: true, received: 3 });
    await hub.coordinator.idle();

    const round1 = fedAvg([
      { values: A, weight: held('a') },
      { values: B, weight: held('b') },
      { values: C, weight: held('c') },
    ]);
    expectClose(committed(hub, 1).weights.values, round1);
    expectClose(globalSent(hub, 2), round1);
    expect(committed(hub, 1).participants.map((p) => p.clientId)).toEqual(['a', 'b', 'c']);

    // Round 2: an update of round 1 arriving late is refused and not folded.
    const stale = updateOf(hub, 'c', bad, { round: 1 });
    expect(refusal(() => hub.coordinator.submit('c', stale))).toBe('HUB_ERR_STALE_ROUND');
    const D = [0, 0, 0, 1, 1, 1];
    const E = [3, 3, 3, 3, 3, 3];
    const F = [-3, 1, -3, 1, -3, 1];
    hub.coordinator.submit('a', updateOf(hub, 'a', D));
    hub.coordinator.submit('b', updateOf(hub, 'b', E));
    hub.coordinator.submit('c', updateOf(hub, 'c', F));
    await hub.coordinator.idle();
    expectClose(
      committed(hub, 2).weights.values,
      fedAvg([
        { values: D, weight: held('a') },
        { values: E, weight: held('b') },
        { values: F, weight: held('c') },
      ]),
    );
  });
});

// ---------------------------------------------------------------- item 15: shutdown

describe('Coordinator: after close() (item 15)', () => {
  it('leaves no timer armed, whether the run is training, waiting or scoring its final model', async () => {
    const training = fakeHub();
    training.coordinator.onStatus(() => {});
    joinAll(training, [['a', MNIST_DATA]]);
    await training.coordinator.launch(mnist());
    expect(training.clock.live).toBe(2); // the round deadline and the status push
    training.coordinator.close();
    expect(training.clock.live).toBe(0);

    const waiting = fakeHub();
    await waiting.coordinator.launch(mnist({ minClients: 2 }));
    expect(waiting.clock.live).toBe(1);
    waiting.coordinator.close();
    expect(waiting.clock.live).toBe(0);

    const scoring = fakeHub();
    joinAll(scoring, [['a', xrayData(100)]]);
    await scoring.coordinator.launch(xray({ rounds: 1 }));
    scoring.coordinator.submit('a', updateOf(scoring, 'a', fill(1)));
    await scoring.coordinator.idle();
    expect(scoring.coordinator.engineState.run?.phase).toBe('evaluating');
    expect(scoring.clock.live).toBe(1);
    scoring.coordinator.close();
    expect(scoring.clock.live).toBe(0);
  });

  it('ignores every event: joins, departures, stops, data changes and old timers change nothing', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist());
    hub.coordinator.close();
    const state = hub.coordinator.engineState;
    const counts = () => ({ sent: hub.transport.attempts, armed: hub.clock.armed.length, store: hub.store.calls.length });
    const before = counts();
    hub.coordinator.join('b', { name: 'b', kind: 'headless', data: MNIST_DATA, backend: { name: 'cpu' } });
    hub.coordinator.changeData('a', { data: xrayData(10) });
    hub.coordinator.leave('a');
    hub.coordinator.stop(id);
    hub.clock.advance(10 * TIMEOUT_MS);
    expect(hub.coordinator.engineState).toBe(state);
    expect(counts()).toEqual(before);
  });

  it('refuses launches, updates and scores without touching the closed store', async () => {
    const hub = fakeHub();
    joinAll(hub, [
      ['a', xrayData(100)],
      ['b', xrayData(100)],
    ]);
    await hub.coordinator.launch(xray({ minClients: 2 }));
    const update = updateOf(hub, 'a', fill(1));
    hub.coordinator.close();
    hub.store.close();
    expect(refusal(() => hub.coordinator.submit('a', update))).toBe('HUB_ERR_INTERNAL');
    expect(refusal(() => score(hub, 'a', 0, { samples: 10, accuracy: 0.5 }))).toBe('HUB_ERR_INTERNAL');
    expect(hub.store.callsAfterClose).toEqual([]);

    const idle = fakeHub();
    idle.coordinator.close();
    idle.store.close();
    expect(await refusalOf(idle.coordinator.launch(mnist()))).toBe('HUB_ERR_INTERNAL');
    expect(idle.store.callsAfterClose).toEqual([]);
  });

  it('an aggregation in flight when close() is called commits nothing and starts no round', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', MNIST_DATA]]);
    await hub.coordinator.launch(mnist());
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(1)));
    expect(hub.coordinator.engineState.run?.phase).toBe('aggregating');
    hub.coordinator.close();
    hub.store.close();
    await hub.coordinator.idle();
    await flush();
    expect(hub.store.callsAfterClose).toEqual([]);
    expect(roundStarts(hub, 2)).toEqual([]);
    expect(hub.clock.live).toBe(0);
  });

  it('an evaluation in flight when close() is called stores nothing and notifies nobody', async () => {
    const hub = fakeHub();
    hub.evaluator.hold = true;
    joinAll(hub, [['a', MNIST_DATA]]);
    const changed: string[] = [];
    hub.coordinator.onRunChanged((runId) => changed.push(runId));
    await hub.coordinator.launch(mnist({ rounds: 3 }));
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(1)));
    await vi.waitFor(() => expect(hub.evaluator.calls).toHaveLength(1));
    hub.coordinator.close();
    hub.store.close();
    const notified = changed.length;
    hub.evaluator.calls[0]!.resolve({ accuracy: 0.9, loss: 0.1 });
    await hub.coordinator.idle();
    await flush();
    expect(hub.store.callsAfterClose).toEqual([]);
    expect(changed).toHaveLength(notified);
    expect(hub.clock.live).toBe(0);
  });
});

// ---------------------------------------------------------------- item 5: one client's share

describe('Coordinator: maxClientShare (item 5)', () => {
  /** Two honest chest X-ray clients of 100 images and one declaring 10,000,000; the big one sends ones, the others zeros. */
  async function roundWithBigClaim(maxClientShare?: number): Promise<Float32Array> {
    const hub = fakeHub();
    joinAll(hub, [
      ['a', xrayData(100)],
      ['b', xrayData(100)],
      ['big', xrayData(10_000_000)],
    ]);
    await hub.coordinator.launch(xray({ rounds: 1, minClients: 3, ...(maxClientShare !== undefined ? { maxClientShare } : {}) }));
    expect(hub.coordinator.engineState.clients.get('big')!.samples).toBe(10_000_000);
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(0)));
    hub.coordinator.submit('b', updateOf(hub, 'b', fill(0)));
    hub.coordinator.submit('big', updateOf(hub, 'big', fill(1)));
    await hub.coordinator.idle();
    return committed(hub, 1).weights.values;
  }

  it('weighs a client that declares 10,000,000 images at most half of the round (the default)', async () => {
    // Each value is the big client's share of the round's weight.
    expectClose(await roundWithBigClaim(), fill(0.5), 6);
  });

  it('with maxClientShare 1 is plain FedAvg by declared samples', async () => {
    expectClose(await roundWithBigClaim(1), fill(10_000_000 / 10_000_200), 6);
  });
});

// ---------------------------------------------------------------- items 8 and 9: held-out evaluation

describe('Coordinator: held-out evaluation (items 8, 9)', () => {
  it('queues a committed MNIST round for evaluation and stores its result on that round', async () => {
    const hub = fakeHub();
    hub.evaluator.hold = true;
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist());
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(2)));
    await vi.waitFor(() => expect(hub.evaluator.calls).toHaveLength(1));
    expect(committed(hub, 1).evaluation).toBe('pending');
    expect(Array.from(hub.evaluator.calls[0]!.weights.values)).toEqual(Array.from(committed(hub, 1).weights.values));
    expect(hub.store.callsTo('setRoundEvaluation')).toEqual([]);
    hub.evaluator.calls[0]!.resolve({ accuracy: 0.9, loss: 0.3 });
    await hub.coordinator.idle();
    expect(hub.store.callsTo('setRoundEvaluation')).toEqual([[id, 1, 0.9, 0.3]]);
  });

  it('does not queue chest X-ray rounds: only the clients score them', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', xrayData(100)]]);
    await hub.coordinator.launch(xray());
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(2)));
    await hub.coordinator.idle();
    expect(committed(hub, 1).evaluation).toBe('none');
    expect(hub.evaluator.calls).toEqual([]);
  });

  it('on construction evaluates every round the store holds as pending, from its checkpoint', async () => {
    const store = new MemoryStore();
    const settings = resolveSettings(mnist({ rounds: 2 }), 7);
    store.createRun('old', settings, 1, { shapes: SHAPES, values: Float32Array.from(fill(0)) });
    for (const round of [1, 2]) {
      store.completeRound({ runId: 'old', task: 'mnist', round, weights: { shapes: SHAPES, values: Float32Array.from(fill(round)) }, evaluation: 'pending', durationMs: 1, participants: [], at: 1 + round });
    }
    store.finishRun('old', 'completed', null, 10);
    const hub = fakeHub({ store });
    await hub.coordinator.idle();
    expect(hub.evaluator.calls.map((c) => c.weights.values[0])).toEqual([1, 2]);
    expect(hub.store.callsTo('setRoundEvaluation')).toEqual([
      ['old', 1, 0.5, 1],
      ['old', 2, 0.5, 1],
    ]);
    expect(hub.coordinator.engineState.run).toBeNull();
  });

  it('resumes an interrupted run from its last checkpoint, shards and all, and evaluates the round left pending', async () => {
    const first = fakeHub({ ids: ['r'] });
    first.evaluator.hold = true;
    joinAll(first, [
      ['a', MNIST_DATA],
      ['b', MNIST_DATA],
    ]);
    await first.coordinator.launch(mnist({ rounds: 3, minClients: 2 }));
    const shards = roundStarts(first, 1).map((s) => [s.clientId, Array.from(decodeShard(s.payload.shard!))]);
    first.coordinator.submit('a', updateOf(first, 'a', fill(1)));
    first.coordinator.submit('b', updateOf(first, 'b', fill(3)));
    await vi.waitFor(() => expect(first.evaluator.calls).toHaveLength(1));
    first.coordinator.close(); // the hub dies before the evaluation is stored

    const second = fakeHub({ store: first.store, clock: new FakeClock(first.clock.now() + 1000) });
    await second.coordinator.idle();
    expect(second.store.callsTo('setRoundEvaluation')).toEqual([['r', 1, 0.5, 1]]);
    expect(second.coordinator.engineState.run).toMatchObject({ id: 'r', round: 2, phase: 'waiting' });
    joinAll(second, [
      ['b', MNIST_DATA],
      ['a', MNIST_DATA],
    ]);
    expect(second.coordinator.engineState.run).toMatchObject({ round: 2, phase: 'training' });
    expectClose(globalSent(second, 2), Array.from(committed(first, 1).weights.values));
    expect(roundStarts(second, 2).map((s) => [s.clientId, Array.from(decodeShard(s.payload.shard!))]).sort()).toEqual(shards.sort());
  });

  it('stop() while an evaluation is pending ends the run in the store at once; the result is stored when it comes', async () => {
    const hub = fakeHub();
    hub.evaluator.hold = true;
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist({ rounds: 3 }));
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(2)));
    await vi.waitFor(() => expect(hub.evaluator.calls).toHaveLength(1));
    hub.coordinator.stop(id);
    expect(hub.store.callsTo('finishRun')).toEqual([[id, 'stopped', 'stopped by the operator', hub.clock.now()]]);
    expect(hub.store.callsTo('setRoundEvaluation')).toEqual([]);
    expect(hub.clock.live).toBe(0);
    hub.evaluator.calls[0]!.resolve({ accuracy: 0.7, loss: 0.6 });
    await hub.coordinator.idle();
    expect(hub.store.callsTo('setRoundEvaluation')).toEqual([[id, 1, 0.7, 0.6]]);
  });
});

// ---------------------------------------------------------------- item 11: chest X-ray scores

describe("Coordinator: clients' scores of each model (item 11)", () => {
  it('stores each score on the model it scored, asks the contributors to score the final model and ends the run when all answered', async () => {
    const hub = fakeHub();
    joinAll(hub, [
      ['a', xrayData(100, 10)],
      ['b', xrayData(300, 30)],
      ['c', MNIST_DATA],
    ]);
    const { id } = await hub.coordinator.launch(xray({ rounds: 2, minClients: 2 }));
    expect(hub.coordinator.engineState.run?.participants).toEqual(['a', 'b']);

    // Round 1 trains the initial model: its scores are round 0's, the run's initial score.
    expect(score(hub, 'a', 0, { samples: 10, accuracy: 0.6 })).toEqual({ accepted: true });
    expect(hub.store.callsTo('setClientTest').at(-1)).toEqual([id, 0, { samples: 10, accuracy: 0.6 }]);
    expect(refusal(() => score(hub, 'a', 0, { samples: 10, accuracy: 0.6 }))).toBe('HUB_ERR_DUPLICATE_UPDATE');
    expect(refusal(() => score(hub, 'b', 1, { samples: 30, accuracy: 0.8 }))).toBe('HUB_ERR_STALE_ROUND');
    expect(refusal(() => score(hub, 'c', 0, { samples: 30, accuracy: 0.8 }))).toBe('HUB_ERR_NOT_PARTICIPANT');
    score(hub, 'b', 0, { samples: 30, accuracy: 0.8 });
    const initial = hub.store.callsTo('setClientTest').at(-1)!;
    expect(initial.slice(0, 2)).toEqual([id, 0]);
    expect((initial[2] as EvalMetrics).samples).toBe(40);
    expect((initial[2] as EvalMetrics).accuracy).toBeCloseTo((10 * 0.6 + 30 * 0.8) / 40, 10);
    expect(hub.store.run(id)?.initialTest?.accuracy).toBeCloseTo(0.75, 10);

    hub.coordinator.submit('a', updateOf(hub, 'a', fill(1)));
    hub.coordinator.submit('b', updateOf(hub, 'b', fill(2)));
    await hub.coordinator.idle();
    expect(hub.coordinator.engineState.run).toMatchObject({ round: 2, phase: 'training' });
    expect(committed(hub, 1).participants.map((p) => p.test?.accuracy)).toEqual([0.6, 0.8]);

    // During round 2 a score of round 1's model is stored on round 1.
    expect(refusal(() => score(hub, 'a', 0, { samples: 10, accuracy: 0.6 }))).toBe('HUB_ERR_STALE_ROUND');
    score(hub, 'a', 1, { samples: 10, accuracy: 0.7 });
    expect(hub.store.callsTo('setClientTest').at(-1)).toEqual([id, 1, { samples: 10, accuracy: 0.7 }]);
    expect(hub.store.run(id)?.rounds[0]).toMatchObject({ round: 1, accuracy: 0.7 });

    hub.coordinator.submit('a', updateOf(hub, 'a', fill(3)));
    hub.coordinator.submit('b', updateOf(hub, 'b', fill(5)));
    await hub.coordinator.idle();
    const final = hub.transport.of('model:evaluate');
    expect(final.map((s) => s.clientId)).toEqual(['a', 'b']);
    for (const request of final) {
      expect(request.payload).toMatchObject({ runId: id, round: 2, task: 'chest-xray' });
      expect(Array.from(decodeWeights(toBytes(request.payload.weights)).values)).toEqual(Array.from(committed(hub, 2).weights.values));
    }
    expect(hub.coordinator.engineState.run?.phase).toBe('evaluating');
    expect(refusal(() => score(hub, 'a', 1, { samples: 10, accuracy: 0.7 }))).toBe('HUB_ERR_STALE_ROUND');

    score(hub, 'a', 2, { samples: 10, accuracy: 0.5 });
    expect(hub.store.callsTo('finishRun')).toEqual([]);
    score(hub, 'b', 2, { samples: 30, accuracy: 0.9 });
    const last = hub.store.callsTo('setClientTest').at(-1)!;
    expect(last.slice(0, 2)).toEqual([id, 2]);
    expect((last[2] as EvalMetrics).accuracy).toBeCloseTo((10 * 0.5 + 30 * 0.9) / 40, 10);
    expect(hub.store.callsTo('finishRun')).toEqual([[id, 'completed', null, hub.clock.now()]]);
    expect(hub.clock.live).toBe(0);
  });

  it('ends the run at the scoring deadline when a contributor never answers', async () => {
    const hub = fakeHub();
    joinAll(hub, [
      ['a', xrayData(100)],
      ['b', xrayData(100)],
    ]);
    const { id } = await hub.coordinator.launch(xray({ rounds: 1, minClients: 2 }));
    hub.coordinator.submit('a', updateOf(hub, 'a', fill(1)));
    hub.coordinator.submit('b', updateOf(hub, 'b', fill(1)));
    await hub.coordinator.idle();
    score(hub, 'a', 1, { samples: 10, accuracy: 0.5 });
    hub.clock.advance(TIMEOUT_MS);
    expect(hub.store.callsTo('finishRun')).toEqual([[id, 'completed', null, expect.any(Number)]]);
  });
});

// ---------------------------------------------------------------- determinism

describe('Coordinator: repeatable runs', () => {
  /** The per-client seeds and shards of rounds 1 and 2 of a run launched with `seed`. */
  async function seedsOf(seed: number, runId: string, start: number) {
    const hub = fakeHub({ ids: [runId], clock: new FakeClock(start) });
    joinAll(hub, [
      ['a', MNIST_DATA],
      ['b', MNIST_DATA],
      ['c', MNIST_DATA],
    ]);
    await hub.coordinator.launch(mnist({ minClients: 3, seed }));
    // A repeated join mid-round resends the round: the same seed.
    hub.coordinator.join('b', { name: 'b', kind: 'headless', data: MNIST_DATA, backend: { name: 'cpu' } });
    for (const id of ['a', 'b', 'c']) hub.coordinator.submit(id, updateOf(hub, id, fill(1)));
    await hub.coordinator.idle();
    return hub.transport.of('round:start').map((s) => ({ client: s.clientId, round: s.payload.round, seed: s.payload.seed, shard: Array.from(decodeShard(s.payload.shard!)) }));
  }

  it('sends the same batch seeds and shards for the same seed and join order, whatever the run id and time', async () => {
    const one = await seedsOf(42, 'alpha', 5_000);
    const two = await seedsOf(42, 'beta', 9_999_999);
    expect(one.map((s) => [s.client, s.round])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['b', 1],
      ['a', 2],
      ['b', 2],
      ['c', 2],
    ]);
    expect(two).toEqual(one);
    const distinct = new Set(one.map((s) => s.seed));
    expect(distinct.size).toBe(6); // one per client and round; the resend repeats b's
    expect(one[3]!.seed).toBe(one[1]!.seed);
    const other = await seedsOf(43, 'alpha', 5_000);
    expect(other.map((s) => s.seed)).not.toEqual(one.map((s) => s.seed));
  });
});
