import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { RunDetail } from '@fl/shared';
import { createMnistDataset } from '@fl/shared/data/mnist-dataset';
import { evaluateModel } from '@fl/shared/training';
import { loadMnistSplit, defaultMnistDir } from '../data/mnist-files';
import { ADMIN_TOKEN, launch, runDetail, startMnistClients, startTestHub, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';
import { sqliteOf } from '../app';

/** Every run here from the same seed: the same shards and batch order each time the file runs. */
const SEED = 1;

async function launchAndWait(hub: TestHub, body: object): Promise<RunDetail> {
  const response = await launch(hub, { task: 'mnist', seed: SEED, ...body });
  expect(response.statusCode).toBe(201);
  return waitForRunEnd(hub, (response.json() as { id: string }).id);
}

describe('a federated MNIST run with 3 headless clients', () => {
  let hub: TestHub;
  let clients: ReturnType<typeof startMnistClients> = [];
  // The run every test of this block reads; none of them changes the hub it ran on.
  let run: RunDetail;

  beforeAll(async () => {
    hub = await startTestHub();
    clients = startMnistClients(hub, 3);
    await waitForClients(hub, 3);
    run = await launchAndWait(hub, { rounds: 3 });
  });

  afterAll(async () => {
    for (const { client } of clients) client.close();
    await hub?.close();
  });

  it('completes 3 rounds with held-out accuracy rising every round and ending >= 0.90', async () => {
    expect(run.status).toBe('completed');
    expect(run.rounds).toHaveLength(3);
    const accuracy = run.rounds.map((r) => r.accuracy!);
    expect(accuracy[1]).toBeGreaterThan(accuracy[0]!);
    expect(accuracy[2]).toBeGreaterThan(accuracy[1]!);
    expect(accuracy[2]).toBeGreaterThanOrEqual(0.9);
    for (const round of run.rounds) {
      expect(round.clients).toBe(3);
      // Disjoint IID shards cover the 8,000 client digits.
      expect(round.samples).toBe(8000);
      expect(round.weightsHash).toMatch(/^[0-9a-f]{64}$/);
    }
    const participation = (await hub.app.inject({ url: `/api/runs/${run.id}/rounds/1/clients` })).json() as { samples: number }[];
    expect(participation.map((p) => p.samples).sort()).toEqual([2666, 2667, 2667]);
  });

  it('exports a model that tf.loadLayersModel loads and that scores what the hub reported', async () => {
    const model = await tf.loadLayersModel(`${hub.url}/api/models/mnist/model.json`);
    const test = await loadMnistSplit(defaultMnistDir(), 'test');
    const result = await evaluateModel(model, createMnistDataset(test.images, test.labels), 500);
    model.dispose();
    expect(result.accuracy).toBeCloseTo(run.rounds[2]!.accuracy!, 6);
    const models = (await hub.app.inject({ url: '/api/models' })).json() as { task: string; runId: string; round: number; sha256: string }[];
    expect(models).toEqual([expect.objectContaining({ task: 'mnist', runId: run.id, round: 3, sha256: run.rounds[2]!.weightsHash })]);
    const weights = await hub.app.inject({ url: '/api/models/mnist/weights.bin' });
    expect(weights.headers['content-disposition']).toContain('filename="weights.bin"');
  });

  it('starts from new weights with init "fresh"', async () => {
    const fresh = await launch(hub, { task: 'mnist', rounds: 1, init: 'fresh', minClients: 50, roundTimeoutSec: 5, seed: SEED });
    expect(fresh.statusCode).toBe(201);
    const id = (fresh.json() as { id: string }).id;
    try {
      expect(sqliteOf(hub.app).checkpoint(id, 0)!.sha256).not.toBe(run.rounds[2]!.weightsHash);
    } finally {
      await hub.app.inject({ method: 'POST', url: `/api/runs/${id}/stop`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    }
  });
});

describe('a hub restarted on the same DATA_DIR', () => {
  let hub: TestHub | null = null;
  let clients: ReturnType<typeof startMnistClients> = [];

  afterEach(async () => {
    for (const { client } of clients) client.close();
    await hub?.close();
  });

  it('keeps the history and the global weights across a hub restart, and continues from them', async () => {
    hub = await startTestHub();
    clients = startMnistClients(hub, 3);
    await waitForClients(hub, 3);
    const first = await launchAndWait(hub, { rounds: 2 });
    expect(first.status).toBe('completed');
    const before = await runDetail(hub, first.id);
    const lastHash = before.rounds[1]!.weightsHash;
    for (const { client } of clients) client.close();
    await hub.close();

    hub = await startTestHub({ dataDir: hub.dataDir });
    const after = await runDetail(hub, first.id);
    expect(after).toEqual(before);
    expect(sqliteOf(hub.app).latestCheckpoint('mnist')!.sha256).toBe(lastHash);

    clients = startMnistClients(hub, 3, 'again');
    await waitForClients(hub, 3);
    const next = await launch(hub, { task: 'mnist', rounds: 1, seed: SEED });
    expect(next.statusCode).toBe(201);
    const nextId = (next.json() as { id: string }).id;
    // The new run starts from the task's latest global model, not from fresh weights.
    expect(sqliteOf(hub.app).checkpoint(nextId, 0)!.sha256).toBe(lastHash);
    const continued = await waitForRunEnd(hub, nextId);
    expect(continued.status).toBe('completed');
    // A third epoch on top of two: the model goes on improving rather than starting over.
    expect(continued.rounds[0]!.accuracy!).toBeGreaterThan(before.rounds[1]!.accuracy!);
  });
});
