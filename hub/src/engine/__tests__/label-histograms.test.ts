import { describe, expect, it } from 'vitest';
import { decodeShard } from '@fl/shared/data/mnist-dataset';
import { partitionByLabel, partitionDirichlet, partitionIid, type ClientView, type LaunchRequest } from '@fl/shared';
import { MNIST_DATA, MNIST_LABELS, fakeHub, joinAll, xrayData, type FakeHub } from './support/fakes';

const mnist = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({ task: 'mnist', rounds: 2, minClients: 3, roundTimeoutSec: 60, seed: 7, ...over });

/** Each client's shard as sent with round:start, decoded. */
function sentShards(hub: FakeHub): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { clientId, payload } of hub.transport.of('round:start')) {
    out.set(clientId, Array.from(decodeShard(payload.shard!)));
  }
  return out;
}

function histogram(rows: ArrayLike<number>): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const row of Array.from(rows)) counts[MNIST_LABELS[row]!]!++;
  return counts;
}

const view = (hub: FakeHub, id: string): ClientView => hub.coordinator.status().clients.find((c) => c.id === id)!;

async function started(partition: LaunchRequest['partition'], dirichletAlpha?: number): Promise<FakeHub> {
  const hub = fakeHub();
  joinAll(hub, [
    ['a', MNIST_DATA],
    ['b', MNIST_DATA],
    ['x', xrayData(10)],
    ['c', MNIST_DATA],
  ]);
  await hub.coordinator.launch(mnist({ partition, ...(dirichletAlpha ? { dirichletAlpha } : {}) }));
  return hub;
}

describe('status: each MNIST client\'s label histogram', () => {
  it.each(['iid', 'by-label', 'dirichlet'] as const)('with partition %s counts the digits of the shard each client was sent, summing to its samples', async (partition) => {
    const hub = await started(partition, 0.3);
    const shards = sentShards(hub);
    expect([...shards.keys()].sort()).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) {
      const client = view(hub, id);
      expect(client.labels).toEqual(histogram(shards.get(id)!));
      expect(client.labels!.reduce((n, c) => n + c, 0)).toBe(client.samples);
      expect(client.samples).toBeGreaterThan(0);
    }
    // A chest X-ray client holds no MNIST shard: the field is absent, not zeros.
    expect('labels' in view(hub, 'x')).toBe(false);
  });

  it('cuts the shards with the partition the run asked for, dirichlet with its alpha', async () => {
    const cases = [
      ['iid', partitionIid(MNIST_LABELS.length, 3, 7)],
      ['by-label', partitionByLabel(MNIST_LABELS, 3, 7)],
      ['dirichlet', partitionDirichlet(MNIST_LABELS, 3, 0.2, 7)],
    ] as const;
    for (const [partition, expected] of cases) {
      const sent = [...sentShards(await started(partition, 0.2)).values()].map((s) => s.join(',')).sort();
      expect(sent).toEqual(expected.map((s) => Array.from(s).join(',')).sort());
    }
    // The alpha is used: another one cuts other shards.
    expect(partitionDirichlet(MNIST_LABELS, 3, 0.2, 7)).not.toEqual(partitionDirichlet(MNIST_LABELS, 3, 50, 7));
  });

  it('keeps the last run\'s histograms once it is stopped and drops them when the next run launches', async () => {
    const hub = await started('dirichlet', 0.3);
    const before = view(hub, 'a').labels;
    hub.coordinator.stop(hub.coordinator.engineState.run!.id);
    expect(hub.coordinator.engineState.run).toBeNull();
    expect(view(hub, 'a').labels).toEqual(before);
    // The next run waits for a fifth client: no shard is cut yet, so no histogram shows.
    await hub.coordinator.launch(mnist({ minClients: 5 }));
    expect('labels' in view(hub, 'a')).toBe(false);
  });

  it('hands out copies: changing a status does not change the next one', async () => {
    const hub = await started('iid');
    const first = view(hub, 'a').labels!;
    const kept = [...first];
    first[0] = 999;
    expect(view(hub, 'a').labels).toEqual(kept);
  });
});
