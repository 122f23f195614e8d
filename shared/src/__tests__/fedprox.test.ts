import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initWasmBackend } from '../tfjs/wasm-backend';
import { compileForTraining, createMnistModel, readWeights, writeWeights } from '../models';
import { trainLocal, type LocalDataset, type TrainOptions } from '../training';
import { createRng } from '../random';
import { MNIST_CLASSES } from '../data/mnist-format';
import type { FlatWeights } from '../weight-codec';

beforeAll(async () => {
  await initWasmBackend();
});

/** Seeded inputs of `features` values per sample with a learnable signal: the label's own band is bright. */
function syntheticSet(size: number, shape: number[], classes: number, seed: number): LocalDataset {
  const features = shape.reduce((a, b) => a * b, 1);
  const rng = createRng(seed);
  const xs = Float32Array.from({ length: size * features }, () => rng() * 0.3);
  const labels = Uint8Array.from({ length: size }, (_, i) => i % classes);
  const band = Math.floor(features / classes);
  for (let i = 0; i < size; i++) for (let f = 0; f < band; f++) xs[i * features + labels[i]! * band + f] = 1;
  return {
    size,
    label: (p) => labels[p]!,
    batch(positions) {
      const n = positions.length;
      const x = new Float32Array(n * features);
      const y = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) {
        x.set(xs.subarray(positions[i]! * features, (positions[i]! + 1) * features), i * features);
        y[i * classes + labels[positions[i]!]!] = 1;
      }
      return { xs: tf.tensor(x, [n, ...shape]), ys: tf.tensor2d(y, [n, classes]) };
    },
  };
}

function tinyModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [6], units: 3, activation: 'softmax' }));
  return model;
}

/** The initial weights of a fresh model, which is then freed. */
function initial(make: () => tf.LayersModel): FlatWeights {
  const model = make();
  const weights = readWeights(model);
  model.dispose();
  return weights;
}

const quiet = { yieldEvery: async () => {}, seed: 7 } satisfies Partial<TrainOptions>;

/** A fresh model holding `weights`, compiled with a fresh optimizer. */
function modelAt(make: () => tf.LayersModel, weights: FlatWeights, optimizer: 'sgd' | 'adam', learningRate: number): tf.LayersModel {
  const model = make();
  writeWeights(model, weights);
  compileForTraining(model, { optimizer, learningRate });
  return model;
}

function distance(a: Float32Array, b: Float32Array): number {
  let sq = 0;
  for (let i = 0; i < a.length; i++) sq += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sq);
}

function dispose(model: tf.LayersModel): void {
  model.optimizer.dispose();
  model.dispose();
}

describe('FedProx in trainLocal', () => {
  it('adds exactly mu * (w - w0) to the gradient: one SGD step lands lr * mu * (w0 - w) away from the plain step', async () => {
    const start = initial(tinyModel);
    // The anchor sits a known offset away from where training starts.
    const rng = createRng(11);
    const anchor = Float32Array.from(start.values, (v) => v + (rng() - 0.5));
    const data = syntheticSet(8, [6], 3, 5);
    const lr = 0.1;
    const mu = 0.7;
    const one = { ...quiet, epochs: 1, batchSize: 8 };
    const plain = modelAt(tinyModel, start, 'sgd', lr);
    const prox = modelAt(tinyModel, start, 'sgd', lr);
    await trainLocal(plain, data, one);
    await trainLocal(prox, data, { ...one, proximal: { mu, anchor } });
    const p = readWeights(plain).values;
    const q = readWeights(prox).values;
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(q[i]! - p[i]! - lr * mu * (anchor[i]! - start.values[i]!)));
    expect(worst).toBeLessThan(1e-6);
    // The plain step itself moved: the comparison is not between two unmoved models.
    expect(distance(p, start.values)).toBeGreaterThan(1e-3);
    dispose(plain);
    dispose(prox);
  });

  it('mirrors trainOnBatch on the MNIST model under Adam: a vanishing mu gives the same weights, loss and accuracy', async () => {
    const start = initial(createMnistModel);
    const data = syntheticSet(96, [28, 28, 1], MNIST_CLASSES, 3);
    const options = { ...quiet, epochs: 1, batchSize: 32 };
    const plain = modelAt(createMnistModel, start, 'adam', 0.002);
    const prox = modelAt(createMnistModel, start, 'adam', 0.002);
    const a = await trainLocal(plain, data, options);
    const b = await trainLocal(prox, data, { ...options, proximal: { mu: 1e-30, anchor: start.values } });
    expect(b.batches).toBe(3);
    expect(b.loss).toBeCloseTo(a.loss, 5);
    expect(b.accuracy).toBeCloseTo(a.accuracy, 6);
    expect(distance(readWeights(prox).values, readWeights(plain).values)).toBeLessThan(1e-5);
    expect(distance(readWeights(plain).values, start.values)).toBeGreaterThan(0.01);
    dispose(plain);
    dispose(prox);
  });

  it('keeps the trained weights closer to the global model than mu = 0 from the same seed', async () => {
    const start = initial(createMnistModel);
    const data = syntheticSet(320, [28, 28, 1], MNIST_CLASSES, 9);
    const options = { ...quiet, epochs: 2, batchSize: 32 };
    const moved: number[] = [];
    for (const mu of [0, 0.1, 1]) {
      const model = modelAt(createMnistModel, start, 'adam', 0.002);
      await trainLocal(model, data, { ...options, proximal: { mu, anchor: start.values } });
      moved.push(distance(readWeights(model).values, start.values));
      dispose(model);
    }
    expect(moved[1]).toBeLessThan(moved[0]!);
    expect(moved[2]).toBeLessThan(moved[1]!);
  });

  it('takes the plain trainOnBatch path with mu = 0 and never calls it with mu > 0', async () => {
    const start = initial(tinyModel);
    const data = syntheticSet(16, [6], 3, 1);
    const options = { ...quiet, epochs: 1, batchSize: 4 };
    for (const [mu, calls] of [
      [0, 4],
      [0.5, 0],
    ] as const) {
      const model = modelAt(tinyModel, start, 'sgd', 0.1);
      const spy = vi.spyOn(model, 'trainOnBatch');
      await trainLocal(model, data, { ...options, proximal: { mu, anchor: start.values } });
      expect(spy).toHaveBeenCalledTimes(calls);
      dispose(model);
    }
  });

  it('leaks no tensor: the count is flat across batches and back to where mu = 0 leaves it', async () => {
    const start = initial(createMnistModel);
    const data = syntheticSet(160, [28, 28, 1], MNIST_CLASSES, 4);
    const grown: number[] = [];
    for (const mu of [0, 0.05]) {
      const model = modelAt(createMnistModel, start, 'adam', 0.002);
      const counts: number[] = [];
      const before = tf.memory().numTensors;
      await trainLocal(model, data, {
        ...quiet,
        epochs: 2,
        batchSize: 16,
        proximal: { mu, anchor: start.values },
        onProgress: () => counts.push(tf.memory().numTensors),
      });
      grown.push(tf.memory().numTensors - before);
      expect(counts).toHaveLength(20);
      // Adam makes its slots on the first step; from then on every batch ends with as many tensors as the first.
      expect(new Set(counts).size).toBe(1);
      dispose(model);
    }
    // Only the optimizer's slots stay (disposed with it); the anchors went with the training.
    expect(grown[1]).toBe(grown[0]);
    expect(grown[0]).toBeGreaterThan(0);
  });

  it('refuses an anchor that is not the model\'s size with HUB_ERR_SHAPE_MISMATCH', async () => {
    const model = modelAt(tinyModel, initial(tinyModel), 'sgd', 0.1);
    const data = syntheticSet(4, [6], 3, 1);
    await expect(trainLocal(model, data, { ...quiet, epochs: 1, batchSize: 4, proximal: { mu: 1, anchor: new Float32Array(3) } })).rejects.toMatchObject({
      code: 'HUB_ERR_SHAPE_MISMATCH',
    });
    dispose(model);
  });
});
