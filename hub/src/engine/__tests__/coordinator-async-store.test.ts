import { describe, expect, it } from 'vitest';
import type { LaunchRequest, UpdateSubmit } from '@fl/shared';
import type { EngineStore } from '../ports';
import { MNIST_DATA, MemoryStore, fakeHub, frame, joinAll, refusalOf, type FakeHub } from './support/fakes';

// The engine on a store that answers later (PostgreSQL's case): writes reach the store one at a time in the
// order the engine decided them, whichever answers first, and nothing starts before its record is stored.

const mnist = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({ task: 'mnist', rounds: 2, minClients: 1, roundTimeoutSec: 60, seed: 7, serverOptimizer: { name: 'fedavg' }, ...over });

/**
 * `inner` behind promises: each call is applied to it after `delayMs[method]` (default 1 ms) of real time, so a
 * write with a shorter delay that an engine issued later would land first if the engine did not wait.
 */
function later(inner: MemoryStore, delayMs: Partial<Record<keyof EngineStore, number>> = {}): EngineStore {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        new Promise((resolve, reject) => {
          setTimeout(() => {
            try {
              resolve((value as (...a: unknown[]) => unknown).apply(target, args));
            } catch (error) {
              reject(error);
            }
          }, delayMs[key as keyof EngineStore] ?? 1);
        });
    },
  }) as unknown as EngineStore;
}

function laterHub(delayMs: Partial<Record<keyof EngineStore, number>> = {}): FakeHub {
  const store = new MemoryStore();
  return fakeHub({ store, deps: { store: later(store, delayMs) } });
}

function update(hub: FakeHub, value: number): UpdateSubmit {
  const run = hub.coordinator.engineState.run!;
  return {
    runId: run.id,
    round: run.round,
    samples: hub.coordinator.engineState.clients.get('a')!.samples,
    weights: frame(Array.from({ length: 6 }, () => value), { runId: run.id, round: run.round }),
    metrics: { loss: 0.5, accuracy: 0.8, trainMs: 5 },
  };
}

const WRITES = new Set(['createRun', 'completeRound', 'failRound', 'finishRun', 'setShardOwners']);
const writes = (hub: FakeHub) => hub.store.calls.filter((c) => WRITES.has(c.method)).map((c) => (c.method === 'completeRound' ? `completeRound ${(c.args[0] as { round: number }).round}` : c.method));

describe('Coordinator on a store that answers later', () => {
  it('runs 2 rounds with the writes applied in the order decided, and tells listeners of a change only once it is stored', async () => {
    const hub = laterHub({ finishRun: 0, completeRound: 5 });
    await hub.coordinator.ready;
    joinAll(hub, [['a', MNIST_DATA]]);
    const seen: string[] = [];
    hub.coordinator.onRunChanged((runId) => seen.push(hub.store.calls.length ? `${hub.store.run(runId)?.status}:${hub.store.run(runId)?.rounds.length}` : 'none'));
    const { id } = await hub.coordinator.launch(mnist());
    expect(hub.store.run(id)).toMatchObject({ status: 'running' });
    expect(hub.coordinator.engineState.run).toMatchObject({ id, round: 1, phase: 'training' });
    await hub.coordinator.submit('a', update(hub, 1));
    await hub.coordinator.idle();
    expect(hub.coordinator.engineState.run).toMatchObject({ round: 2 });
    await hub.coordinator.submit('a', update(hub, 2));
    await hub.coordinator.idle();

    expect(writes(hub)).toEqual(['createRun', 'setShardOwners', 'completeRound 1', 'completeRound 2', 'finishRun']);
    expect(hub.store.run(id)).toMatchObject({ status: 'completed', rounds: [{ round: 1 }, { round: 2 }] });
    // The last notice follows the run's end: a listener that reads the store then sees it ended.
    expect(seen.at(-1)).toBe('completed:2');
    expect(hub.coordinator.engineState.run).toBeNull();
  });

  it('applies a failed round before the end of the run that followed it, although the store answers the end first', async () => {
    const hub = laterHub({ failRound: 30, finishRun: 0 });
    await hub.coordinator.ready;
    joinAll(hub, [['a', MNIST_DATA]]);
    const { id } = await hub.coordinator.launch(mnist({ rounds: 3 }));
    // Round 1 reaches its deadline twice without an update: retried once, then failed and the run ends.
    hub.clock.advance(60_000);
    hub.clock.advance(60_000);
    expect(hub.coordinator.engineState.run).toBeNull();
    await hub.coordinator.written();
    expect(writes(hub)).toEqual(['createRun', 'setShardOwners', 'failRound', 'finishRun']);
    expect(hub.store.run(id)).toMatchObject({ status: 'failed', rounds: [{ round: 1, status: 'failed' }] });
  });

  it('refuses a second launch while the first waits for its record, and starts nothing when the store refuses the run', async () => {
    const hub = laterHub({ createRun: 20 });
    await hub.coordinator.ready;
    joinAll(hub, [['a', MNIST_DATA]]);
    const first = hub.coordinator.launch(mnist());
    expect(await refusalOf(hub.coordinator.launch(mnist()))).toBe('HUB_ERR_RUN_ACTIVE');
    expect(hub.transport.of('round:start')).toEqual([]);
    const { id } = await first;
    expect(hub.transport.of('round:start').map((s) => s.payload.runId)).toEqual([id]);

    const refused = laterHub();
    await refused.coordinator.ready;
    joinAll(refused, [['a', MNIST_DATA]]);
    refused.store.failNext.add('createRun');
    await expect(refused.coordinator.launch(mnist())).rejects.toThrow('createRun failed');
    expect(refused.coordinator.engineState.run).toBeNull();
    expect(refused.transport.of('round:start')).toEqual([]);
    // The refusal leaves the hub able to launch.
    const { id: next } = await refused.coordinator.launch(mnist());
    expect(refused.coordinator.engineState.run).toMatchObject({ id: next, round: 1 });
  });
});
