/**
 * The held-out evaluation thread (a worker_threads thread, started by evaluation-worker.ts): TF.js on its own wasm
 * backend with the 2,000 held-out MNIST digits, scoring one global model at a time, so that the hub's event loop
 * keeps sending rounds while the previous round's model is scored.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createModel, writeWeights } from '@fl/shared/models';
import { evaluateModel } from '@fl/shared/training';
import { createMnistDataset } from '@fl/shared/data/mnist-dataset';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { loadMnistSplit } from '../data/mnist-files';
import { niceThisThread } from '../engine/threads';
import type { EvaluationAnswer, EvaluationJobMessage } from './evaluation-worker';

const port = parentPort;
if (!port) throw new Error('evaluation-thread.ts runs as a worker thread of the hub');
const { mnistDir } = workerData as { mnistDir: string };

/** Nicer than the fold thread: a score can wait, a round's updates should not. */
niceThisThread(10);

const test = (async () => {
  await initWasmBackend();
  return loadMnistSplit(mnistDir, 'test');
})();
// One job at a time, in the order posted.
let chain: Promise<void> = Promise.resolve();

port.on('message', (job: EvaluationJobMessage | 'close') => {
  if (job === 'close') {
    // Ends the thread once the backend is up and the job running is done: terminating it while the wasm module
    // compiles can take the whole process down.
    void test.finally(() => chain).finally(() => process.exit(0));
    return;
  }
  chain = chain.then(async () => {
    let answer: EvaluationAnswer;
    let model: ReturnType<typeof createModel> | null = null;
    try {
      const { images, labels } = await test;
      model = createModel(job.task);
      writeWeights(model, { shapes: job.shapes, values: job.values });
      const result = await evaluateModel(model, createMnistDataset(images, labels), 500);
      answer = { id: job.id, accuracy: result.accuracy, loss: result.loss };
    } catch (error) {
      answer = { id: job.id, error: error instanceof Error ? error.message : String(error) };
    } finally {
      model?.dispose();
    }
    port.postMessage(answer);
  });
});
