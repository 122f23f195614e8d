import { afterEach, describe, expect, it } from 'vitest';
import type { ClientData, RoundStart, RunDetail } from '@fl/shared';
import { createModel, writeWeights } from '@fl/shared/models';
import { createRng } from '@fl/shared/random';
import { createChestXrayDataset, type ChestImages } from '@fl/shared/data/chest-xray-dataset';
import { scoreBinary, type DataProvider } from '@fl/shared/federated-client';
import type { Evaluator } from '../engine/ports';
import type { ModelService } from '../model/model-service';
import { startHeadlessClient } from '../sim/headless-client';
import { launch, runDetail, startMnistClients, startTestHub, tempDataDir, waitForRunEnd, type TestHub } from './support/test-hub';
import { waitFor } from './support/wait-for';
import { sqliteOf } from '../app';

/** The real evaluator, except that evaluations wait until released: the hub can be stopped between a commit and its evaluation. */
function heldEvaluator(models: ModelService): Evaluator & { held: number } {
  const gate = {
    held: 0,
    shapes: (task: Parameters<Evaluator['shapes']>[0]) => models.shapes(task),
    freshWeights: (task: Parameters<Evaluator['freshWeights']>[0]) => models.freshWeights(task),
    evaluates: (task: Parameters<Evaluator['evaluates']>[0]) => models.evaluates(task),
    evaluate: () => {
      gate.held += 1;
      return new Promise<never>(() => {});
    },
  };
  return gate;
}

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

function track<T extends { close(): unknown }>(thing: T): T {
  opened.push(thing);
  return thing;
}

async function roundsStored(hub: TestHub, runId: string, count: number): Promise<RunDetail> {
  return waitFor(
    async () => {
      const run = await runDetail(hub, runId);
      return run.rounds.filter((r) => r.status === 'completed').length >= count ? run : null;
    },
    { timeoutMs: 120_000, what: `${count} rounds of ${runId}` },
  );
}

describe('records that survive a stop between a commit and its evaluation', () => {
  it('evaluates at the next start every committed round whose evaluation was never stored (item 8)', async () => {
    const dataDir = tempDataDir();
    let gate: ReturnType<typeof heldEvaluator> | null = null;
    const first = await startTestHub({ dataDir, evaluator: (m) => (gate = heldEvaluator(m)) });
    const [client] = startMnistClients(first, 1, 'eval');
    const { id } = (await launch(first, { task: 'mnist', rounds: 3, seed: 1, init: 'fresh' })).json() as { id: string };
    const committed = await roundsStored(first, id, 1);
    expect(committed.rounds[0]).toMatchObject({ round: 1, evaluation: 'pending', accuracy: null });
    expect(gate!.held).toBeGreaterThan(0);
    client!.client.close();
    await first.close();

    const second = track(await startTestHub({ dataDir }));
    const evaluated = await waitFor(
      async () => {
        const run = await runDetail(second, id);
        return run.rounds[0]?.evaluation === 'done' ? run : null;
      },
      { timeoutMs: 60_000, what: 'round 1 evaluated after the restart' },
    );
    expect(evaluated.rounds[0]!.accuracy).toBeGreaterThan(0.5);
    expect(evaluated.rounds[0]!.weightsHash).toBe(committed.rounds[0]!.weightsHash);
  });

  it('stores a stopped run as stopped at once, so a hub that dies before its evaluations end does not resume it (item 9)', async () => {
    const dataDir = tempDataDir();
    const first = await startTestHub({ dataDir, evaluator: heldEvaluator });
    const [client] = startMnistClients(first, 1, 'stop');
    const { id } = (await launch(first, { task: 'mnist', rounds: 3, seed: 1, init: 'fresh' })).json() as { id: string };
    await roundsStored(first, id, 1);
    const stopped = await first.app.inject({ method: 'POST', url: `/api/runs/${id}/stop`, headers: { authorization: 'Bearer test-admin-token' } });
    expect(stopped.statusCode).toBe(200);
    expect(sqliteOf(first.app).run(id)!.status).toBe('stopped');
    expect(sqliteOf(first.app).run(id)!.rounds[0]!.evaluation).toBe('pending');
    client!.client.close();
    await first.close();

    const second = track(await startTestHub({ dataDir }));
    const run = await waitFor(
      async () => {
        const r = await runDetail(second, id);
        return r.rounds[0]?.evaluation === 'done' ? r : null;
      },
      { timeoutMs: 60_000, what: 'the stopped run evaluated' },
    );
    expect(run.status).toBe('stopped');
    expect((await second.app.inject({ url: '/api/status' })).json()).toMatchObject({ status: 'idle', run: null });
  });
});

// ---------------------------------------------------------------- chest X-ray: who scored which model

const SIZE = 16;

/** A seeded synthetic chest set: PNEUMONIA images carry a bright blob, NORMAL ones do not. */
function chestImages(count: number, seed: number): ChestImages {
  const rng = createRng(seed);
  const area = SIZE * SIZE;
  const pixels = new Uint8Array(count * area);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    labels[i] = label;
    for (let p = 0; p < area; p++) {
      const x = p % SIZE;
      const y = Math.floor(p / SIZE);
      const blob = label === 1 && Math.hypot(x - 8, y - 8) < 5 ? 150 : 0;
      pixels[i * area + p] = Math.min(255, 40 + blob + Math.floor(rng() * 60));
    }
  }
  return { pixels, labels, imageSize: SIZE };
}

function chestProvider(seed: number): { provider: DataProvider; test: ChestImages } {
  const train = chestImages(48, seed);
  const test = chestImages(20, seed + 1000);
  const data: ClientData = { task: 'chest-xray', imageSize: SIZE, train: { normal: 24, pneumonia: 24 }, test: { normal: 10, pneumonia: 10 } };
  return {
    test,
    provider: {
      describe: () => data,
      trainingSet: async (_start: RoundStart) => createChestXrayDataset(train, { balanced: true }),
      testSet: async () => createChestXrayDataset(test, { balanced: false }),
    },
  };
}

describe("chest X-ray accuracy is the clients' score of the model it is shown for (item 11)", () => {
  it('attributes each score to the model scored, and the run ends with the clients scoring its final model', async () => {
    const hub = track(await startTestHub());
    const sets = [chestProvider(11), chestProvider(22)];
    for (const [i, { provider }] of sets.entries()) {
      track(startHeadlessClient({ hubUrl: hub.url, name: `chest-${i + 1}`, data: provider }).client);
    }
    await waitFor(async () => ((await hub.app.inject({ url: '/api/status' })).json() as { clients: unknown[] }).clients.length === 2, { what: 'two chest clients' });
    const body = { task: 'chest-xray', rounds: 2, epochs: 4, minLocalSteps: 0, batchSize: 16, learningRate: 0.01, seed: 3, init: 'fresh', minClients: 2 };
    const { id } = (await launch(hub, body)).json() as { id: string };
    const run = await waitForRunEnd(hub, id, 240_000);
    expect(run.status).toBe('completed');

    // Score every stored model independently on the clients' test sets: the record of model r must be that score.
    async function scoreOf(round: number): Promise<number> {
      const checkpoint = sqliteOf(hub.app).checkpoint(id, round)!;
      const model = createModel('chest-xray', { imageSize: SIZE });
      try {
        writeWeights(model, checkpoint);
        let correct = 0;
        let total = 0;
        for (const { test } of sets) {
          const metrics = await scoreBinary(model, createChestXrayDataset(test, { balanced: false }), 32, async () => {});
          correct += metrics.accuracy * metrics.samples;
          total += metrics.samples;
        }
        return correct / total;
      } finally {
        model.dispose();
      }
    }
    expect(run.initialTest!.accuracy).toBeCloseTo(await scoreOf(0), 6);
    expect(run.rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(run.rounds[0]!.accuracy).toBeCloseTo(await scoreOf(1), 6);
    expect(run.rounds[1]!.accuracy).toBeCloseTo(await scoreOf(2), 6);
    expect(run.rounds[1]!.clientTest).toMatchObject({ samples: 40 });
    // The final model learned the pattern.
    expect(run.rounds[1]!.accuracy).toBeGreaterThanOrEqual(0.8);
  });
});
