import { describe, expect, it } from 'vitest';
import type { LaunchRequest } from '@fl/shared';
import type { PartialSource } from '../coordinator';
import type { PartialSum } from '../../cluster/relay-protocol';
import type { CompletedRound } from '../../store/store';
import { MNIST_DATA, fakeHub, frame, joinAll, type FakeHub } from './support/fakes';

// The leader's side of hierarchical FedAvg: a relaying node checks its clients' updates and keeps them; the engine
// accepts their envelopes (submitHeld), and when the round closes adds the node's partial sum to its own.

const mnist = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({ task: 'mnist', rounds: 1, minClients: 3, roundTimeoutSec: 60, seed: 7, serverOptimizer: { name: 'fedavg' }, ...over });
const METRICS = { loss: 0.5, accuracy: 0.8, trainMs: 5 };
const CLIENTS: [string, typeof MNIST_DATA][] = [
  ['a', MNIST_DATA],
  ['b', MNIST_DATA],
  ['c', MNIST_DATA],
];
const valuesOf = (client: string) => Array.from({ length: 6 }, (_, i) => (client.charCodeAt(0) - 96) * (i + 1));

/** What a relay would answer: the float64 weighted sum of its clients' values, as it folded them. */
function partialOf(partial: string, held: { client: string; weight: number }[]): PartialSum {
  const sum = new Float64Array(6);
  for (const { client, weight } of held) valuesOf(client).forEach((v, i) => (sum[i] = sum[i]! + v * weight));
  return { kind: 'fedavg', partial, clients: held.map((h) => h.client), weight: held.reduce((w, h) => w + h.weight, 0), sum: new Uint8Array(sum.buffer) };
}

/** A source that answers with `answer(request)` and records what it was asked. */
function source(answer: (request: { partial: string; clients: string[] }) => PartialSum | Promise<PartialSum>): PartialSource & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    collect: async (_node, request) => {
      asked.push(request.clients);
      return answer(request);
    },
  };
}

async function launched(hub: FakeHub, over: Partial<LaunchRequest> = {}) {
  await hub.coordinator.ready;
  joinAll(hub, CLIENTS);
  const { id } = await hub.coordinator.launch(mnist(over));
  return hub.coordinator.engineState.run!.id === id ? hub.coordinator.engineState.run! : null;
}

const samplesOf = (hub: FakeHub, id: string) => hub.coordinator.engineState.clients.get(id)!.samples;
const submitHere = (hub: FakeHub, id: string) => {
  const run = hub.coordinator.engineState.run!;
  return hub.coordinator.submit(id, { runId: run.id, round: run.round, samples: samplesOf(hub, id), weights: frame(valuesOf(id), { runId: run.id, round: run.round }), metrics: METRICS });
};
const held = (hub: FakeHub, id: string, node = 'n1') => {
  const run = hub.coordinator.engineState.run!;
  return hub.coordinator.submitHeld(id, { runId: run.id, round: run.round, samples: samplesOf(hub, id), metrics: METRICS, bytes: 100 }, node);
};
const committed = (hub: FakeHub) => hub.store.calls.filter((c) => c.method === 'completeRound').map((c) => c.args[0] as CompletedRound);

describe('Coordinator: updates held on a relaying node', () => {
  it("commits the same model as when every update reached it, from one partial sum for the node's two updates", async () => {
    const alone = fakeHub();
    await launched(alone);
    for (const id of ['a', 'b', 'c']) await submitHere(alone, id);
    await alone.coordinator.idle();

    const weights: Record<string, number> = {};
    const partials = source((request) => partialOf(request.partial, ['b', 'c'].map((client) => ({ client, weight: weights[client]! }))));
    const hub = fakeHub({ deps: { partials } });
    await launched(hub);
    await submitHere(hub, 'a');
    for (const id of ['b', 'c']) {
      const receipt = held(hub, id);
      expect(receipt).toMatchObject({ accepted: true, weight: samplesOf(hub, id), partial: `${hub.coordinator.engineState.run!.id}#1#1` });
      weights[id] = receipt.weight;
    }
    await hub.coordinator.idle();

    expect(partials.asked).toEqual([['b', 'c']]);
    const [mine] = committed(hub);
    const [reference] = committed(alone);
    expect(Array.from(mine!.weights.values)).toEqual(Array.from(reference!.weights.values));
    expect(mine!.participants.map((p) => p.clientId)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a held update that the round would refuse, or for a strategy that needs every update, and changes nothing', async () => {
    const hub = fakeHub({ deps: { partials: source(() => Promise.reject(new Error('not asked'))) } });
    await launched(hub);
    expect(held(hub, 'b').accepted).toBe(true);
    expect(() => held(hub, 'b')).toThrow(expect.objectContaining({ code: 'HUB_ERR_DUPLICATE_UPDATE' }));
    const run = hub.coordinator.engineState.run!;
    expect(() => hub.coordinator.submitHeld('zz', { runId: run.id, round: 1, samples: 1, metrics: METRICS, bytes: 100 }, 'n1')).toThrow(
      expect.objectContaining({ code: 'HUB_ERR_NOT_JOINED' }),
    );
    expect(() => hub.coordinator.submitHeld('c', { runId: run.id, round: 1, samples: samplesOf(hub, 'c') + 1, metrics: METRICS, bytes: 100 }, 'n1')).toThrow(
      expect.objectContaining({ code: 'HUB_ERR_INVALID_PAYLOAD' }),
    );
    expect(hub.coordinator.engineState.run!.submitted.size).toBe(1);

    const robust = fakeHub({ deps: { partials: source(() => Promise.reject(new Error('not asked'))) } });
    await launched(robust, { strategy: 'median' });
    expect(() => held(robust, 'a')).toThrow(expect.objectContaining({ code: 'HUB_ERR_INVALID_PAYLOAD' }));
    expect(robust.coordinator.engineState.run!.submitted.size).toBe(0);
  });

  it('tries the round again, committing nothing, when a partial sum holds other updates than were accepted from the node', async () => {
    const hub = fakeHub({ deps: { partials: source((request) => partialOf(request.partial, [{ client: 'b', weight: samplesOf(hub, 'b') }])) } });
    await launched(hub);
    await submitHere(hub, 'a');
    held(hub, 'b');
    held(hub, 'c');
    await hub.coordinator.idle();
    expect(committed(hub)).toEqual([]);
    expect(hub.coordinator.engineState.run).toMatchObject({ round: 1, attempt: 2 });
    expect(hub.log.entries.some((e) => /other updates than the 2 accepted/.test(JSON.stringify(e)))).toBe(true);
  });

  it('forgets the updates a relaying node held when it goes: their clients send them again, and the round commits without the lost sum', async () => {
    const partials = source(() => Promise.reject(new Error('the node is gone')));
    const hub = fakeHub({ deps: { partials } });
    await launched(hub);
    await submitHere(hub, 'a');
    held(hub, 'b');
    expect([...hub.coordinator.engineState.run!.submitted.keys()]).toEqual(['a', 'b']);
    hub.coordinator.relayLost('n1');
    expect([...hub.coordinator.engineState.run!.submitted.keys()]).toEqual(['a']);
    expect(hub.coordinator.engineState.clients.get('b')!.state).toBe('training');
    // b reconnected to this node and sends its update again; c's arrives here too.
    await submitHere(hub, 'b');
    await submitHere(hub, 'c');
    await hub.coordinator.idle();
    expect(partials.asked).toEqual([]);
    expect(committed(hub).map((r) => r.participants.map((p) => p.clientId))).toEqual([['a', 'b', 'c']]);
  });
});
