import * as tf from '@tensorflow/tfjs';
import { createRng, localEpochs, resolveSettings, rocAuc, seedFromString, type FlatWeights, type LaunchRequest, type RunSettings } from '@fl/shared';
import { CHEST_XRAY_DEFAULT_SIZE, compileForTraining, createModel, readWeights, writeWeights } from '@fl/shared/models';
import { evaluateModel, trainLocal } from '@fl/shared/training';
import { createChestXrayDataset } from '@fl/shared/data/chest-xray-dataset';
import { capShares } from '../aggregation/client-weights';
import { createAggregator } from '../aggregation/aggregator';
import { createServerOptimizer } from '../aggregation/server-optimizer';
import { planChestImages, tabInput, type ChestSplit, type ClassCounts } from '../sim/synthetic-chest';

/**
 * A chest X-ray run of browser tabs, simulated in one Node process as the hub and the tabs would run it:
 * every tab holds the same e2e fixture folder, all start from the hub's fresh weights, each trains with
 * the run's settings and the batch seed the hub sends it, the hub takes the sample-weighted FedAvg mean
 * (then its server optimiser's step), and the model after each round is scored on the fixture's test split.
 * Callers set up the wasm backend (initWasmBackend) first.
 */

/** The e2e fixture's defaults (e2e/support/chest-fixture.ts). */
export const FIXTURE_DEFAULTS = { train: { normal: 30, pneumonia: 90 }, test: { normal: 20, pneumonia: 30 }, colorShare: 0.15, seed: 20_260_301 } as const;

export interface ChestFixtureData {
  train: ChestSplit;
  test: ChestSplit;
}

/** The fixture's images as the tab's 64x64 input: same plan, same seed, area-resized instead of JPEG + canvas. */
export function fixtureData(options: { train?: ClassCounts; test?: ClassCounts; colorShare?: number; seed?: number } = {}): ChestFixtureData {
  const planned = planChestImages(
    createRng(options.seed ?? FIXTURE_DEFAULTS.seed),
    options.train ?? FIXTURE_DEFAULTS.train,
    options.test ?? FIXTURE_DEFAULTS.test,
    options.colorShare ?? FIXTURE_DEFAULTS.colorShare,
  );
  return { train: tabInput(planned, 'train', CHEST_XRAY_DEFAULT_SIZE), test: tabInput(planned, 'test', CHEST_XRAY_DEFAULT_SIZE) };
}

/**
 * The hub's fresh chest model (ModelService.freshWeights: TF.js's default initialisers), made repeatable:
 * TF.js seeds each unseeded initialiser from Math.random, which is swapped for a seeded stream while the model is built.
 */
export function seededFreshWeights(seed: number): FlatWeights {
  const original = Math.random;
  Math.random = createRng(seed);
  try {
    const model = createModel('chest-xray', { imageSize: CHEST_XRAY_DEFAULT_SIZE });
    try {
      return readWeights(model);
    } finally {
      model.dispose();
    }
  } finally {
    Math.random = original;
  }
}

export interface RoundScore {
  round: number;
  accuracy: number;
  loss: number;
  /** Ranking quality of the PNEUMONIA probability: near 1 with a constant argmax means the classes separate but one bias wins. */
  auc: number;
  /** The averaged model gives every test image the same class. */
  constant: boolean;
  /** Local training steps of each client this round. */
  steps: number[];
  /** Each client's training accuracy over its last epoch. */
  trainAccuracy: number[];
  /** Each client's own trained model on the test split, before averaging. */
  clientTest: number[];
  /** Wall time of the round here: the clients train one after another in this process. */
  ms: number;
}

export interface ChestRunOptions {
  /** The run's seed: the fresh weights and every client's batch order follow from it. */
  seed: number;
  rounds: number;
  clients?: number;
  /** Settings to launch with, over the task's defaults. */
  launch?: Partial<Omit<LaunchRequest, 'task' | 'rounds' | 'seed'>>;
  data?: ChestFixtureData;
}

export interface ChestRunResult {
  seed: number;
  settings: Pick<RunSettings, 'epochs' | 'minLocalSteps' | 'batchSize' | 'learningRate' | 'optimizer' | 'serverOptimizer'>;
  initial: { accuracy: number; constant: boolean };
  rounds: RoundScore[];
}

/** Accuracy, loss and whether the model predicts a single class, on a split. */
async function score(model: tf.LayersModel, split: ChestSplit): Promise<{ accuracy: number; loss: number; auc: number; constant: boolean }> {
  const result = await evaluateModel(model, createChestXrayDataset(split, { balanced: false }), 64);
  const pneumonia = Array.from(split.labels, (_, i) => result.probabilities[i * 2 + 1]!);
  const positives = pneumonia.filter((p, i) => p > result.probabilities[i * 2]!).length;
  return { accuracy: result.accuracy, loss: result.loss, auc: rocAuc(split.labels, pneumonia), constant: positives === 0 || positives === split.labels.length };
}

/** One simulated run: `rounds` rounds of `clients` tabs on the same fixture folder, scored after every round. */
export async function simulateChestRun(options: ChestRunOptions): Promise<ChestRunResult> {
  const clients = options.clients ?? 2;
  const data = options.data ?? fixtureData();
  const settings = resolveSettings({ ...options.launch, task: 'chest-xray', rounds: options.rounds, init: 'fresh', minClients: clients, seed: options.seed });
  const train = createChestXrayDataset(data.train, { balanced: true });
  const epochs = localEpochs(settings, train.size);
  const runId = `chest-study-${options.seed}`;
  const initial = seededFreshWeights(seedFromString(`${runId}:init`));
  const shares = capShares(Array.from({ length: clients }, () => train.size), settings.maxClientShare);
  // Each tab keeps one model across rounds and compiles a fresh optimiser every round, as FederatedClient does.
  const models = Array.from({ length: clients }, () => createModel('chest-xray', { imageSize: CHEST_XRAY_DEFAULT_SIZE }));
  const scorer = createModel('chest-xray', { imageSize: CHEST_XRAY_DEFAULT_SIZE });
  try {
    writeWeights(scorer, initial);
    const start = await score(scorer, data.test);
    let global = initial.values;
    const server = createServerOptimizer(settings.serverOptimizer, global.length);
    const rounds: RoundScore[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const began = performance.now();
      const aggregator = createAggregator(settings, global);
      const steps: number[] = [];
      const trainAccuracy: number[] = [];
      const clientTest: number[] = [];
      for (let c = 0; c < clients; c++) {
        const model = models[c]!;
        writeWeights(model, { shapes: initial.shapes, values: global });
        compileForTraining(model, settings);
        const optimizer = model.optimizer;
        try {
          const result = await trainLocal(model, train, {
            epochs,
            batchSize: settings.batchSize,
            // roundStartFor: the run's seed, the round and the client's place among the participants.
            seed: seedFromString(`${settings.seed}:${round}:${c}`),
            yieldEvery: async () => {},
          });
          steps.push(result.batches);
          trainAccuracy.push(result.accuracy);
          clientTest.push((await score(model, data.test)).accuracy);
          aggregator.add(readWeights(model).values, Math.min(train.size, shares[c]!));
        } finally {
          optimizer.dispose();
        }
      }
      const step = server.step(global, aggregator.finish().values);
      server.restore(step.state);
      global = step.values;
      writeWeights(scorer, { shapes: initial.shapes, values: global });
      const scored = await score(scorer, data.test);
      rounds.push({ round, ...scored, steps, trainAccuracy, clientTest, ms: performance.now() - began });
    }
    const { epochs: e, minLocalSteps, batchSize, learningRate, optimizer, serverOptimizer } = settings;
    return { seed: options.seed, settings: { epochs: e, minLocalSteps, batchSize, learningRate, optimizer, serverOptimizer }, initial: { accuracy: start.accuracy, constant: start.constant }, rounds };
  } finally {
    for (const model of models) model.dispose();
    scorer.dispose();
  }
}
