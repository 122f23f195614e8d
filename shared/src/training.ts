import * as tf from '@tensorflow/tfjs';
import { createRng, shuffleInPlace } from './random';
import { ProximalStep, type ProximalTerm } from './proximal';

/** A batch of inputs and one-hot labels; whoever receives it disposes it. */
export interface Batch {
  xs: tf.Tensor;
  ys: tf.Tensor;
}

/** Training data held by a client, built into tensors one batch at a time to keep memory flat. */
export interface LocalDataset {
  readonly size: number;
  /** Builds the batch for these sample positions (0..size-1). */
  batch(positions: ArrayLike<number>): Batch;
  /** Sample positions of one epoch; defaults to a seeded shuffle. Balanced datasets override it. */
  epochOrder?(rng: () => number): number[];
  /** Labels as class indices, for evaluation metrics. */
  label(position: number): number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Lets the page paint and sockets breathe between batches (browser: tf.nextFrame). */
  yieldEvery: () => Promise<void>;
  /**
   * Yield only once this many ms passed since the last yield (default 50): a yield per batch would cost a
   * whole animation frame (~16 ms) on every 25 ms batch, as TF.js's own fit avoids with yieldEvery 'auto'.
   */
  yieldIntervalMs?: number;
  onProgress?: (progress: TrainProgress) => void;
  /** Checked between batches; training stops early when it returns true. */
  shouldStop?: () => boolean;
  /** FedProx: pull towards the round's global model. Absent or mu 0: plain trainOnBatch. */
  proximal?: ProximalTerm;
}

export interface TrainResult {
  loss: number;
  accuracy: number;
  batches: number;
  trainMs: number;
  stopped: boolean;
}

function epochPositions(dataset: LocalDataset, rng: () => number): number[] {
  if (dataset.epochOrder) return dataset.epochOrder(rng);
  const order = Array.from({ length: dataset.size }, (_, i) => i);
  return shuffleInPlace(order, rng);
}

/** Local training of a compiled model; one trainOnBatch per batch (a FedProx step with mu > 0), progress after each. */
export async function trainLocal(model: tf.LayersModel, dataset: LocalDataset, options: TrainOptions): Promise<TrainResult> {
  const proximal = options.proximal && options.proximal.mu > 0 ? ProximalStep.create(model, options.proximal) : null;
  try {
    return await trainBatches(dataset, options, proximal ? (xs, ys) => proximal.run(xs, ys) : (xs, ys) => model.trainOnBatch(xs, ys));
  } finally {
    proximal?.dispose();
  }
}

async function trainBatches(
  dataset: LocalDataset,
  options: TrainOptions,
  step: (xs: tf.Tensor, ys: tf.Tensor) => Promise<number | number[]>,
): Promise<TrainResult> {
  const rng = createRng(options.seed);
  const started = performance.now();
  const yieldInterval = options.yieldIntervalMs ?? 50;
  let lastYield = started;
  let loss = NaN;
  let accuracy = NaN;
  let batches = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const order = epochPositions(dataset, rng);
    const perEpoch = Math.ceil(order.length / options.batchSize);
    let lossSum = 0;
    let accSum = 0;
    for (let b = 0; b < perEpoch; b++) {
      if (options.shouldStop?.()) return { loss, accuracy, batches, trainMs: performance.now() - started, stopped: true };
      const { xs, ys } = dataset.batch(order.slice(b * options.batchSize, (b + 1) * options.batchSize));
      let result: number | number[];
      try {
        result = await step(xs, ys);
      } finally {
        xs.dispose();
        ys.dispose();
      }
      const [batchLoss, batchAcc] = Array.isArray(result) ? result : [result, NaN];
      lossSum += batchLoss!;
      accSum += batchAcc!;
      batches++;
      loss = lossSum / (b + 1);
      accuracy = accSum / (b + 1);
      options.onProgress?.({ epoch, epochs: options.epochs, batch: b + 1, batches: perEpoch, loss, accuracy });
      if (performance.now() - lastYield >= yieldInterval) {
        await options.yieldEvery();
        lastYield = performance.now();
      }
    }
  }
  return { loss, accuracy, batches, trainMs: performance.now() - started, stopped: false };
}

export interface EvaluationResult {
  loss: number;
  accuracy: number;
  /** Predicted probability of each class, row-major [samples x classes]. */
  probabilities: Float32Array;
  labels: Uint8Array;
}

/** Scores a model on a whole dataset in batches, without keeping more than one batch of tensors. */
export async function evaluateModel(
  model: tf.LayersModel,
  dataset: LocalDataset,
  batchSize: number,
  yieldEvery: () => Promise<void> = async () => {},
): Promise<EvaluationResult> {
  const classes = (model.outputs[0]!.shape[1] ?? 1) as number;
  const probabilities = new Float32Array(dataset.size * classes);
  const labels = new Uint8Array(dataset.size);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < dataset.size; start += batchSize) {
    const positions = Array.from({ length: Math.min(batchSize, dataset.size - start) }, (_, i) => start + i);
    const { xs, ys } = dataset.batch(positions);
    const [probs, losses] = tf.tidy(() => {
      const p = model.predict(xs) as tf.Tensor;
      const l = tf.metrics.categoricalCrossentropy(ys, p);
      return [p, l];
    });
    const probData = (await probs.data()) as Float32Array;
    const lossData = await losses.data();
    tf.dispose([xs, ys, probs, losses]);
    probabilities.set(probData, start * classes);
    for (let i = 0; i < positions.length; i++) {
      const label = dataset.label(start + i);
      labels[start + i] = label;
      lossSum += lossData[i]!;
      let best = 0;
      for (let c = 1; c < classes; c++) if (probData[i * classes + c]! > probData[i * classes + best]!) best = c;
      if (best === label) correct++;
    }
    await yieldEvery();
  }
  return {
    loss: dataset.size ? lossSum / dataset.size : NaN,
    accuracy: dataset.size ? correct / dataset.size : 0,
    probabilities,
    labels,
  };
}
