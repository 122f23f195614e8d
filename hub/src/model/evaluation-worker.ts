import type { Worker } from 'node:worker_threads';
import type { FlatWeights, TaskId } from '@fl/shared';
import { spawnThread } from '../engine/threads';

export interface EvaluationJobMessage {
  id: number;
  task: TaskId;
  shapes: number[][];
  values: Float32Array;
}

export type EvaluationAnswer = { id: number; accuracy: number; loss: number } | { id: number; error: string };

/** How long a closing hub waits for the evaluation thread to end itself. */
const CLOSE_GRACE_MS = 30_000;

/**
 * The hub's held-out evaluations in a worker thread of their own (evaluation-thread.ts), started with the first
 * evaluation. A thread that fails or stops fails the evaluations it held (their rounds are marked failed, as an
 * evaluation that throws on the event loop would be) and the next evaluation starts a new one. It keeps the process
 * alive only while an evaluation is waiting.
 */
export class EvaluationWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: { accuracy: number; loss: number }) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(private readonly mnistDir: string) {}

  evaluate(task: TaskId, weights: FlatWeights): Promise<{ accuracy: number; loss: number }> {
    if (this.closed) return Promise.reject(new Error('the evaluation thread is closed'));
    const worker = this.live();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      // A copy: the caller keeps its weights (the round's global model).
      worker.postMessage({ id, task, shapes: weights.shapes, values: new Float32Array(weights.values) } satisfies EvaluationJobMessage);
    });
  }

  /** Starts the thread and its TF.js backend now rather than with the first evaluation. */
  warm(): void {
    if (!this.closed) this.live();
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    this.failAll('the hub is closing');
    if (!worker) return;
    // The thread ends itself (see evaluation-thread.ts); terminate() only if it has not within a while.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private live(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnThread(import.meta.url, 'evaluation-thread', { mnistDir: this.mnistDir });
    worker.unref();
    worker.on('message', (answer: EvaluationAnswer) => {
      const job = this.waiting.get(answer.id);
      if (!job) return;
      this.waiting.delete(answer.id);
      if (this.waiting.size === 0) worker.unref();
      if ('error' in answer) job.reject(new Error(`held-out evaluation failed: ${answer.error}`));
      else job.resolve({ accuracy: answer.accuracy, loss: answer.loss });
    });
    const lost = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(reason);
    };
    worker.on('error', (error) => lost(`the evaluation thread failed: ${error.message}`));
    worker.on('exit', (code) => lost(`the evaluation thread stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }

  private failAll(reason: string): void {
    for (const job of this.waiting.values()) job.reject(new Error(reason));
    this.waiting.clear();
  }
}
