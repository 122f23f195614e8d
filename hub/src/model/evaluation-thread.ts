/**
 * The held-out evaluation thread (a worker_threads thread, started by evaluation-worker.ts): TF.js on its own wasm
 * backend with the 2,000 held-out MNIST digits, scoring one global model at a time, so that the hub's event loop
 * keeps sending rounds while the previous round's model is scored.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { loadMnistSplit } from '../data/mnist-files';
import { niceThisThread } from '../engine/threads';
import type { EvaluationAnswer, EvaluationJobMessage } from './evaluation-worker';
import { heldOutScore } from './held-out';

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
    try {
      // The backend is up before any model is built.
      const score = await heldOutScore(job.task, { shapes: job.shapes, values: job.values }, await test);
      answer = { id: job.id, ...score };
    } catch (error) {
      answer = { id: job.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(answer);
  });
});
