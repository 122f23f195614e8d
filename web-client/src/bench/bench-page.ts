import * as tf from '@tensorflow/tfjs';
import { compileForTraining, createMnistModel } from '@fl/shared/models';
import { createMnistDataset } from '@fl/shared/data/mnist-dataset';
import { trainLocal } from '@fl/shared/training';
import { createRng } from '@fl/shared';
import { startBackend } from '../backend';
import type { BackendRequest } from '../page-params';
import { timeBatches, type BenchModel } from './batch-timing';
import type { WorkerBenchAnswer, WorkerBenchRequest } from './bench-worker';

const BATCH = 64;

function randomDigits(count: number): { images: Uint8Array; labels: Uint8Array } {
  const rng = createRng(11);
  return {
    images: Uint8Array.from({ length: count * 784 }, () => Math.floor(rng() * 256)),
    labels: Uint8Array.from({ length: count }, () => Math.floor(rng() * 10)),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * The browser half of `pnpm bench`: per-batch time of the MNIST CNN on one backend, and the tab's own
 * training loop (trainLocal, as FederatedClient runs it) against a bare model.fit on the same data.
 */
async function run({ backend, batches }: { backend: BackendRequest; batches: number }) {
  const info = await startBackend(backend);
  // WebGPU that fell back is not timed: the bench reports it unavailable, with the tab's reason.
  if (backend === 'webgpu' && info.name !== 'webgpu') {
    return { backend, actual: info.name, reason: info.webgpu?.reason ?? info.reason, msPerBatch: NaN, loopSamplesPerSec: NaN, fitSamplesPerSec: NaN };
  }
  const { images, labels } = randomDigits(batches * BATCH);
  const dataset = createMnistDataset(images, labels);
  const settings = { optimizer: 'adam' as const, learningRate: 0.002 };

  const model = createMnistModel();
  compileForTraining(model, settings);
  const times: number[] = [];
  for (let b = 0; b < batches + 2; b++) {
    const { xs, ys } = dataset.batch(Array.from({ length: BATCH }, (_, i) => ((b * BATCH + i) % dataset.size)));
    const start = performance.now();
    await model.trainOnBatch(xs, ys);
    if (b >= 2) times.push(performance.now() - start); // the first batches compile shaders / warm up
    tf.dispose([xs, ys]);
  }

  // The same model, now warm, trains one epoch each way; alternating order would favour neither.
  let start = performance.now();
  await trainLocal(model, dataset, { epochs: 1, batchSize: BATCH, seed: 1, yieldEvery: () => tf.nextFrame() });
  const loopMs = performance.now() - start;
  const all = dataset.batch(Array.from({ length: dataset.size }, (_, i) => i));
  start = performance.now();
  await model.fit(all.xs, all.ys, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0 });
  const fitMs = performance.now() - start;
  tf.dispose([all.xs, all.ys]);
  model.optimizer.dispose();
  model.dispose();
  return {
    backend,
    actual: info.name,
    reason: info.reason,
    msPerBatch: median(times),
    loopSamplesPerSec: (dataset.size / loopMs) * 1000,
    fitSamplesPerSec: (dataset.size / fitMs) * 1000,
  };
}

/**
 * Per-batch time of one model on wasm (or WebGL, or WebGPU), on this page's main thread (where the tab trained before) or in a
 * module worker (where it trains now), with `threads` wasm threads in the worker. One call per fresh page.
 */
async function perBatch({ where, model, batches, threads = 1, backend = 'wasm' }: { where: 'main' | 'worker'; model: BenchModel; batches: number; threads?: number; backend?: 'wasm' | 'webgl' | 'webgpu' }): Promise<WorkerBenchAnswer> {
  if (where === 'main') {
    const info = await startBackend(backend);
    return { msPerBatch: await timeBatches(model, batches), backend: info.name, threads: 1, crossOriginIsolated };
  }
  const worker = new Worker(new URL('./bench-worker.ts', import.meta.url), { type: 'module' });
  try {
    return await new Promise<WorkerBenchAnswer>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerBenchAnswer>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(`the bench worker failed: ${event.message}`));
      worker.postMessage({ model, batches, threads, backend } satisfies WorkerBenchRequest);
    });
  } finally {
    worker.terminate();
  }
}

(window as unknown as { __flBench: unknown }).__flBench = { run, perBatch };
