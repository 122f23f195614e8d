import * as tf from '@tensorflow/tfjs';
import { compileForTraining, createChestXrayModel, createMnistModel } from '@fl/shared/models';
import { createMnistDataset } from '@fl/shared/data/mnist-dataset';
import { createChestXrayDataset } from '@fl/shared/data/chest-xray-dataset';
import type { LocalDataset } from '@fl/shared/training';
import { createRng } from '@fl/shared';

export type BenchModel = 'mnist' | 'chest-xray';

/** Batch sizes as runs use them: MNIST's bench batch and the chest task's default. */
export const BENCH_BATCH: Record<BenchModel, number> = { mnist: 64, 'chest-xray': 32 };
const CHEST_SIZE = 64;

function randomBytes(count: number, seed: number, max: number): Uint8Array {
  const rng = createRng(seed);
  return Uint8Array.from({ length: count }, () => Math.floor(rng() * max));
}

function benchData(model: BenchModel, samples: number): LocalDataset {
  if (model === 'mnist') return createMnistDataset(randomBytes(samples * 784, 11, 256), randomBytes(samples, 12, 10));
  return createChestXrayDataset({ pixels: randomBytes(samples * CHEST_SIZE * CHEST_SIZE, 13, 256), labels: randomBytes(samples, 14, 2), imageSize: CHEST_SIZE }, { balanced: false });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median ms of one trainOnBatch on the current backend, after two warm-up batches; leaks no tensors. */
export async function timeBatches(model: BenchModel, batches: number): Promise<number> {
  const batch = BENCH_BATCH[model];
  const dataset = benchData(model, batches * batch);
  const net = model === 'mnist' ? createMnistModel() : createChestXrayModel(CHEST_SIZE);
  compileForTraining(net, { optimizer: 'adam', learningRate: 0.001 });
  const times: number[] = [];
  try {
    for (let b = 0; b < batches + 2; b++) {
      const { xs, ys } = dataset.batch(Array.from({ length: batch }, (_, i) => (b * batch + i) % dataset.size));
      const start = performance.now();
      await net.trainOnBatch(xs, ys);
      if (b >= 2) times.push(performance.now() - start);
      tf.dispose([xs, ys]);
    }
  } finally {
    net.optimizer.dispose();
    net.dispose();
  }
  return median(times);
}
