import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientView, FlatWeights, HubStatus, RunDetail } from '@fl/shared';
import { modelShapes } from '@fl/shared/models';
import { createRng } from '@fl/shared/random';
import { participation } from './support/scenario';
import { launch, sequentialIds, startMnistClients, startTestHub, status, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';
import { waitFor } from './support/wait-for';

/** Seeded shards, batch orders and initial weights: the run repeats exactly (measured 0.5625, 0.8705, 0.9285 for mu 0.01). */
const SEED = 1;
/** Measured on this seed and seeds 2 and 3 over 3 rounds: mu 0.01 ended at 0.9285, 0.9295, 0.920; mu 0 at 0.915, 0.9275, 0.890; mu 0.1 at 0.916, 0.919, 0.913. */
const MU = 0.01;
const ALPHA = 0.3;
/** The figures above were measured with the clients on Adam at 0.002 and plain FedAvg on the server (MNIST's defaults before issue 12's study): pinned. */
const uneven = { task: 'mnist', rounds: 3, minClients: 4, seed: SEED, partition: 'dirichlet', dirichletAlpha: ALPHA, init: 'fresh', optimizer: 'adam', learningRate: 0.002, serverOptimizer: { name: 'fedavg' } } as const;

/** Fan-in-scaled uniform kernels and zero biases from a seeded stream, so that the initial model is the same in every process. */
function seededMnistWeights(seed: number): FlatWeights {
  const shapes = modelShapes('mnist');
  const rng = createRng(seed);
  const values = new Float32Array(shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0));
  let at = 0;
  for (const shape of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.length > 1) {
      const limit = Math.sqrt(3 / shape.slice(0, -1).reduce((a, b) => a * b, 1));
      for (let i = 0; i < size; i++) values[at + i] = (rng() * 2 - 1) * limit;
    }
    at += size;
  }
  return { shapes, values };
}

const total = (counts: number[]): number => counts.reduce((n, c) => n + c, 0);

async function launchRun(hub: TestHub, body: object): Promise<string> {
  const response = await launch(hub, body);
  expect(response.statusCode).toBe(201);
  return (response.json() as { id: string }).id;
}

describe('uneven data: 4 headless MNIST clients on Dirichlet(0.3) shards, trained with FedProx', () => {
  let hub: TestHub;
  let clients: ReturnType<typeof startMnistClients> = [];
  let run: RunDetail;
  /** The status while the run trained, once every client had its shard. */
  let during: HubStatus;

  beforeAll(async () => {
    let initial: FlatWeights | null = null;
    // Made on first use: the hub sets up the TF.js backend that modelShapes needs.
    hub = await startTestHub({ newId: sequentialIds(), initialWeights: () => (initial ??= seededMnistWeights(SEED)) });
    clients = startMnistClients(hub, 4);
    await waitForClients(hub, 4);
    const id = await launchRun(hub, { ...uneven, proximalMu: MU });
    during = await waitFor(
      async () => {
        const s = await status(hub);
        return s.run?.id === id && s.clients.filter((c) => c.labels).length === 4 ? s : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'four label histograms' },
    );
    run = await waitForRunEnd(hub, id, 280_000);
  }, 300_000);

  afterAll(async () => {
    for (const { client } of clients) client.close();
    await hub?.close();
  });

  it('completes 3 rounds and learns: held-out accuracy rises every round and ends >= 0.88', () => {
    expect(run.status).toBe('completed');
    expect(run.settings.proximalMu).toBe(MU);
    const accuracy = run.rounds.map((r) => r.accuracy!);
    expect(accuracy).toHaveLength(3);
    expect(accuracy[1]).toBeGreaterThan(accuracy[0]!);
    expect(accuracy[2]).toBeGreaterThan(accuracy[1]!);
    expect(accuracy[2]).toBeGreaterThanOrEqual(0.88);
    for (const round of run.rounds) expect(round.samples).toBe(8000);
  });

  it('showed each client\'s label histogram, summing to the shard it trained on, and keeps it after the run', async () => {
    const trained = new Map((await participation(hub, run.id, 1)).map((p) => [p.clientId, p.samples]));
    const shown = during.clients.filter((c): c is ClientView & { labels: number[] } => c.labels !== undefined);
    expect(shown).toHaveLength(4);
    for (const client of shown) {
      expect(client.labels).toHaveLength(10);
      expect(total(client.labels)).toBe(client.samples);
      expect(total(client.labels)).toBe(trained.get(client.id));
    }
    expect(total(shown.map((c) => total(c.labels)))).toBe(8000);
    // Label skew: on IID shards no digit holds much more than a tenth of a client's shard.
    const largestShare = Math.max(...shown.map((c) => Math.max(...c.labels) / total(c.labels)));
    expect(largestShare).toBeGreaterThan(0.4);
    const after = await status(hub);
    expect(after.run).toBeNull();
    for (const client of shown) expect(after.clients.find((c) => c.id === client.id)!.labels).toEqual(client.labels);
  });

  it('trains with the proximal term: the same first round again with mu 0.01, another one with mu 0', async () => {
    const firstRound = async (proximalMu: number) => {
      const ended = await waitForRunEnd(hub, await launchRun(hub, { ...uneven, rounds: 1, proximalMu }), 110_000);
      expect(ended.status).toBe('completed');
      return ended.rounds[0]!.weightsHash;
    };
    // The control: the seed fixes shards, batch orders and weights, so only mu can change the model.
    expect(await firstRound(MU)).toBe(run.rounds[0]!.weightsHash);
    expect(await firstRound(0)).not.toBe(run.rounds[0]!.weightsHash);
  }, 240_000);
});
