import { Worker } from 'node:worker_threads';
import { CodedError } from '@fl/shared';
import type { FromFoldWorker, ToFoldWorker } from './fold-protocol';
import type { Logger } from './ports';
import { spawnThread } from './threads';
import type { CheckedUpdate, RemoteSum, RoundTotal, SumSpec } from './round-sum';
import type { FrameExpectation } from './update-validator';

/** How the frames reached the worker: moved (their buffer transferred) or copied first (a view on a larger buffer). */
export interface FoldTransfers {
  moved: number;
  copied: number;
}

/** What a finished remote sum reports besides its model: the worker's CPU time on the round. */
export type RemoteTotal = RoundTotal & { busyMs: number };

type Answer = Extract<FromFoldWorker, { type: 'checked' | 'finished' }>;

/** The fold worker stopped with a round's sum in it (it crashed, or the hub is closing): that round can be tried again. */
export class FoldWorkerLost extends Error {
  override readonly name = 'FoldWorkerLost';
}

const spawnFoldThread = (): Worker => spawnThread(import.meta.url, 'fold-thread');

/**
 * The worker's answers the event loop takes per turn. A burst of a thousand updates is checked in the worker while
 * the loop is busy, and Node then delivers every queued answer in one go: each one's acceptance (the round's state,
 * the client's acknowledgement) would run back to back and hold the loop (timers, HTTP, the next round's slices).
 */
export const ANSWERS_PER_TURN = 25;

/** Frames smaller than this are copied: cheap, and Node shares small buffers (ws's empty one, the Buffer pool). */
const MOVE_FROM_BYTES = 64 * 1024;

/**
 * The frame in a buffer of its own, so that the worker gets the bytes without a copy. A frame that fills its
 * buffer is moved (ws gathers a large message into a fresh one); a view on a larger buffer, such as a socket's read
 * chunk that other messages share, is copied first: detaching that would pull the bytes from under them.
 */
function ownBuffer(frame: Uint8Array): { frame: Uint8Array; moved: boolean } {
  const whole = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength && frame.buffer instanceof ArrayBuffer;
  // new Uint8Array(frame) copies; a Node Buffer's slice() would be a view on the same buffer.
  return whole && frame.byteLength >= MOVE_FROM_BYTES ? { frame, moved: true } : { frame: new Uint8Array(frame), moved: false };
}

/**
 * One persistent worker thread that decodes, checks and folds the hub's updates, so that the event loop only
 * moves their bytes. Started with the first round; a worker that dies fails what it held (FoldWorkerLost: those
 * rounds are tried again) and the next round starts a new one. It keeps the process alive only while the hub
 * waits for one of its answers.
 */
export class FoldWorker {
  private worker: Worker | null = null;
  private nextSum = 1;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  /** The worker each open sum lives in: a sum outlives neither. */
  private readonly sums = new Map<number, Worker>();
  private closed = false;
  readonly transfers: FoldTransfers = { moved: 0, copied: 0 };
  /** The worker's answers (and its exit) not yet taken, in arrival order: ANSWERS_PER_TURN per turn of the loop. */
  private readonly inbox: (() => void)[] = [];
  private draining = false;

  constructor(private readonly log: Logger) {}

  /** A round's sum in the worker; `global` and `base` are copied there once. */
  open(spec: SumSpec, global: Float32Array, base: Float32Array, expect: FrameExpectation): RemoteSum {
    if (this.closed) throw new CodedError('HUB_ERR_INTERNAL', 'the hub is shutting down');
    const worker = this.started();
    const sum = this.nextSum++;
    this.sums.set(sum, worker);
    this.post(worker, { type: 'open', sum, spec, global, base, expect });
    return {
      offThread: true,
      check: (frame, weight) => this.check(sum, frame, weight),
      merge: (partial, weight, count) => {
        const worker = this.liveWorkerOf(sum);
        if (worker) worker.postMessage({ type: 'merge', sum, partial, weight, count } satisfies ToFoldWorker, [partial.buffer as ArrayBuffer]);
      },
      finish: () => this.finish(sum),
      discard: () => {
        const owner = this.sums.get(sum);
        this.sums.delete(sum);
        if (owner === this.worker && owner) this.post(owner, { type: 'discard', sum });
      },
    };
  }

  /** Starts the thread now rather than with the first round (a hub that serves does this at start). */
  warm(): void {
    if (!this.closed) this.started();
  }

  /** Stops the worker; what it still held fails. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    this.lost(worker, 'the hub is shutting down');
    await worker.terminate();
  }

  private check(sum: number, frame: Uint8Array, weight: number): Promise<CheckedUpdate> {
    const worker = this.liveWorkerOf(sum);
    if (!worker) return Promise.reject(new FoldWorkerLost('the fold worker that held this round stopped'));
    const id = this.nextId++;
    const own = ownBuffer(frame);
    const answer = this.answer(id);
    try {
      worker.postMessage({ type: 'check', sum, id, frame: own.frame, weight } satisfies ToFoldWorker, [own.frame.buffer as ArrayBuffer]);
      this.transfers[own.moved ? 'moved' : 'copied'] += 1;
    } catch {
      // A buffer Node will not let go of (a pooled one): the bytes are copied instead.
      worker.postMessage({ type: 'check', sum, id, frame: own.frame, weight } satisfies ToFoldWorker);
      this.transfers.copied += 1;
    }
    return answer.then(() => ({
      fold: () => this.postTo(sum, { type: 'fold', sum, id }),
      drop: () => this.postTo(sum, { type: 'drop', sum, id }),
    }));
  }

  private async finish(sum: number): Promise<RemoteTotal> {
    const worker = this.liveWorkerOf(sum);
    if (!worker) throw new FoldWorkerLost('the fold worker that held this round stopped');
    const id = this.nextId++;
    const answer = this.answer(id);
    this.post(worker, { type: 'finish', sum, id });
    this.sums.delete(sum);
    const finished = (await answer) as Extract<FromFoldWorker, { type: 'finished' }>;
    return { values: finished.values, note: finished.note, clipped: finished.clipped, busyMs: finished.busyMs };
  }

  private liveWorkerOf(sum: number): Worker | null {
    const worker = this.sums.get(sum);
    return worker && worker === this.worker ? worker : null;
  }

  private postTo(sum: number, message: ToFoldWorker): void {
    const worker = this.liveWorkerOf(sum);
    if (worker) this.post(worker, message);
  }

  private post(worker: Worker, message: ToFoldWorker): void {
    worker.postMessage(message);
  }

  private answer(id: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker?.ref();
    });
  }

  private settle(id: number, outcome: (entry: { resolve: (answer: Answer) => void; reject: (error: Error) => void }) => void): void {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker?.unref();
    outcome(entry);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnFoldThread();
    worker.unref();
    worker.on('message', (message: FromFoldWorker) => this.deliver(() => this.take(message)));
    worker.on('error', (error) => this.log.error({ err: error }, 'the fold worker failed'));
    worker.on('exit', (code) => {
      if (!this.closed) this.log.error({ code }, 'the fold worker stopped');
      // After the answers it sent before it stopped.
      this.deliver(() => this.lost(worker, `the fold worker stopped (exit code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private deliver(task: () => void): void {
    this.inbox.push(task);
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  /** Up to ANSWERS_PER_TURN answers, each with what it settles (their promise callbacks run before the next turn). */
  private drain(): void {
    try {
      for (let n = 0; n < ANSWERS_PER_TURN && this.inbox.length; n++) this.inbox.shift()!();
    } finally {
      if (this.inbox.length) setImmediate(() => this.drain());
      else this.draining = false;
    }
  }

  private take(message: FromFoldWorker): void {
    switch (message.type) {
      case 'checked':
      case 'finished':
        return this.settle(message.id, (entry) => entry.resolve(message));
      case 'refused':
        return this.settle(message.id, (entry) => entry.reject(new CodedError(message.code, message.message)));
      case 'failed':
        return this.settle(message.id, (entry) => entry.reject(new Error(message.message)));
      default: {
        const _exhaustive: never = message;
        throw new Error(`unknown fold worker answer ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  /** Everything the worker held fails; the next round starts another. */
  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const [sum, owner] of this.sums) if (owner === worker) this.sums.delete(sum);
    for (const id of [...this.waiting.keys()]) this.settle(id, (entry) => entry.reject(new FoldWorkerLost(reason)));
  }
}
