import { describe, expect, it } from 'vitest';
import { decodeWeights, type LaunchRequest, type ServerOptimizerRequest } from '@fl/shared';
import type { CompletedRound } from '../../store/store';
import { decodeOptimizerState } from '../../aggregation/server-optimizer-state';
import { FRESH, MNIST_DATA, MemoryStore, fakeHub, frame, joinAll, type FakeHub } from './support/fakes';

// The coordinator's side of the server optimiser: applied to the round's combined model, stored with the round, restored on resume.

const mnist = (serverOptimizer: ServerOptimizerRequest, over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  task: 'mnist',
  rounds: 3,
  minClients: 1,
  roundTimeoutSec: 60,
  seed: 7,
  init: 'fresh',
  serverOptimizer,
  ...over,
});

const committed = (hub: FakeHub, runId: string, round: number): CompletedRound =>
  hub.store
    .callsTo('completeRound')
    .map((args) => args[0] as CompletedRound)
    .find((r) => r.runId === runId && r.round === round)!;

/** The global model the round's participants received. */
function sent(hub: FakeHub, round: number): Float32Array {
  const start = hub.transport.of('round:start').filter((s) => s.payload.round === round).at(-1)!;
  return decodeWeights(hub.transport.modelFor(start.clientId, round)).values;
}

/** Client 'a' sends the model it received plus `delta` for the round in progress. */
async function submitDelta(hub: FakeHub, delta: (i: number) => number): Promise<void> {
  const run = hub.coordinator.engineState.run!;
  const values = Float32Array.from(sent(hub, run.round), (x, i) => x + delta(i));
  hub.coordinator.submit('a', {
    runId: run.id,
    round: run.round,
    samples: hub.coordinator.engineState.clients.get('a')!.samples,
    weights: frame(values, { runId: run.id, round: run.round }),
    metrics: { loss: 0.5, accuracy: 0.8, trainMs: 5 },
  });
  await hub.coordinator.idle();
}

const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
/** Round r's change: a different small step per coordinate and round. */
const change = (round: number) => (i: number) => 0.01 * (round + 1) * (i % 2 ? -1 : 1) + 0.003 * i;

describe('Coordinator: server optimiser', () => {
  it('commits plain FedAvg exactly as aggregated, with no state and no note', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist({ name: 'fedavg' }));
    await submitDelta(hub, change(1));
    const record = committed(hub, id, 1);
    expect(record.optimizerState).toBeNull();
    expect(record.note).toBeNull();
    expect(bits(record.weights.values)).toEqual(bits(Float32Array.from(sent(hub, 1), (x, i) => x + change(1)(i))));
  });

  it('steps fedavgm along the round changes, stores its momentum with each round and notes it', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist({ name: 'fedavgm', momentum: 0.5, learningRate: 1 }));
    // Round 1: delta d; m = d; x1 = FRESH + d. Round 2: delta 0; m = 0.5 d; x2 = x1 + 0.5 d.
    const d = (i: number) => 0.25 - FRESH[i]!;
    await submitDelta(hub, d);
    await submitDelta(hub, () => 0);
    const x2 = committed(hub, id, 2).weights.values;
    FRESH.forEach((f, i) => expect(x2[i]!).toBeCloseTo(f + 1.5 * d(i), 6));
    expect(bits(sent(hub, 3))).toEqual(bits(x2));
    const state = decodeOptimizerState(committed(hub, id, 2).optimizerState!);
    expect(state).toMatchObject({ name: 'fedavgm', step: 2, v: null });
    Array.from(state.m).forEach((m, i) => expect(m).toBeCloseTo(0.5 * d(i), 6));
    expect(committed(hub, id, 2).note).toBe('server fedavgm lr 1');
    expect(hub.store.checkpoint(id, 2)!.optimizerState).toEqual(committed(hub, id, 2).optimizerState);
  });

  it('starts each run with a fresh optimiser: the last run\'s momentum does not carry over', async () => {
    const hub = fakeHub();
    joinAll(hub, [['a', MNIST_DATA]]);
    const first = await hub.coordinator.launch(mnist({ name: 'fedavgm' }, { rounds: 1 }));
    await submitDelta(hub, change(1));
    const second = await hub.coordinator.launch(mnist({ name: 'fedavgm' }, { rounds: 1 }));
    await submitDelta(hub, change(1));
    expect(hub.store.run(first.id)!.status).toBe('completed');
    expect(decodeOptimizerState(committed(hub, second.id, 1).optimizerState!).step).toBe(1);
    expect(bits(committed(hub, second.id, 1).weights.values)).toEqual(bits(committed(hub, first.id, 1).weights.values));
  });

  /** A fedadam run of 3 rounds; with `crashAfter`, a new coordinator on the same store takes over after that round. */
  async function adamRun(crashAfter: number | null, tamper: (store: MemoryStore, runId: string) => void = () => {}) {
    const store = new MemoryStore();
    let hub = fakeHub({ store });
    await hub.coordinator.ready;
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist({ name: 'fedadam', learningRate: 0.05 }));
    for (let round = 1; round <= 3; round++) {
      await submitDelta(hub, change(round));
      if (round === crashAfter) {
        hub.coordinator.close();
        tamper(store, id);
        hub = fakeHub({ store });
        await hub.coordinator.ready;
        joinAll(hub, [['a', MNIST_DATA]]);
      }
    }
    expect(store.run(id)!.status).toBe('completed');
    return { hub, store, id, final: store.checkpoint(id, 3)!.values };
  }

  it('resumes a fedadam run from the state stored with its last round: the same weights as a run that never stopped', async () => {
    const straight = await adamRun(null);
    const resumed = await adamRun(2);
    expect(bits(resumed.final)).toEqual(bits(straight.final));
    expect(resumed.store.checkpoint(resumed.id, 3)!.optimizerState).toEqual(straight.store.checkpoint(straight.id, 3)!.optimizerState);
  });

  it('restarts the optimiser with a warning and a note when the state was lost, which gives other weights', async () => {
    const straight = await adamRun(null);
    const lost = await adamRun(2, (store, runId) => store.setOptimizerState(runId, 2, null));
    expect(bits(lost.final)).not.toEqual(bits(straight.final));
    expect(lost.store.run(lost.id)!.rounds[2]!.note).toBe('server fedadam lr 0.05; server optimiser restarted: fedadam state after round 2 was not stored');
    expect(lost.hub.log.entries.filter((e) => e.level === 'warn').map((e) => e.msg)).toContain('the server optimiser restarts from its initial state');
    expect(decodeOptimizerState(lost.store.checkpoint(lost.id, 3)!.optimizerState!).step).toBe(1);
  });
});
