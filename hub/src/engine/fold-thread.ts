/**
 * The fold worker (a worker_threads thread, started by fold-worker.ts): it decodes and checks each update's frame
 * with the validator's own checkFrame, keeps the values of a frame that passed until the hub confirms it, and folds
 * confirmed ones into the round's sum with the same aggregators the event loop would use. Messages are handled in
 * the order the hub posted them, so a `finish` sees every `fold` posted before it.
 */
import { parentPort } from 'node:worker_threads';
import { CodedError } from '@fl/shared';
import type { Aggregator } from '../aggregation/aggregator';
import { checkFrame, type FrameExpectation } from './update-validator';
import { createRoundAggregator } from './round-sum';
import type { FromFoldWorker, ToFoldWorker } from './fold-protocol';
import { threadCpuMs } from './thread-cpu';
import { niceThisThread } from './threads';

interface OpenSum {
  aggregator: Aggregator & { readonly clipped?: number };
  base: Float32Array;
  expect: FrameExpectation;
  /** Checked frames' values and weights, until the hub says fold or drop. */
  checked: Map<number, { values: Float32Array; weight: number }>;
  /** The first fold that threw: the sum is then wrong, and its finish fails. */
  broken: string | null;
  busyMs: number;
}

const port = parentPort;
if (!port) throw new Error('fold-thread.ts runs as a worker thread of the hub');

/** Nice value of this thread: where it and the event loop want the same core, the event loop gets it. */
const FOLD_NICE = 5;
niceThisThread(FOLD_NICE);
const sums = new Map<number, OpenSum>();
const send = (message: FromFoldWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

function timed<T>(sum: OpenSum, work: () => T): T {
  const start = threadCpuMs();
  try {
    return work();
  } finally {
    sum.busyMs += threadCpuMs() - start;
  }
}

function handle(message: ToFoldWorker): void {
  switch (message.type) {
    case 'open':
      sums.set(message.sum, {
        aggregator: createRoundAggregator(message.spec, message.global, message.base),
        base: message.base,
        expect: message.expect,
        checked: new Map(),
        broken: null,
        busyMs: 0,
      });
      return;
    case 'check': {
      const sum = sums.get(message.sum);
      if (!sum) {
        send({ type: 'refused', id: message.id, code: 'HUB_ERR_ROUND_CLOSED', message: 'no round is collecting updates' });
        return;
      }
      try {
        const values = timed(sum, () => checkFrame(message.frame, sum.expect, sum.base, true));
        sum.checked.set(message.id, { values, weight: message.weight });
        send({ type: 'checked', id: message.id });
      } catch (error) {
        if (error instanceof CodedError) send({ type: 'refused', id: message.id, code: error.code, message: error.message });
        else send({ type: 'failed', id: message.id, message: String(error) });
      }
      return;
    }
    case 'fold': {
      const sum = sums.get(message.sum);
      const update = sum?.checked.get(message.id);
      if (!sum || !update) return;
      sum.checked.delete(message.id);
      if (sum.broken) return;
      try {
        timed(sum, () => sum.aggregator.add(update.values, update.weight));
      } catch (error) {
        sum.broken = String(error);
      }
      return;
    }
    case 'drop':
      sums.get(message.sum)?.checked.delete(message.id);
      return;
    case 'merge': {
      const sum = sums.get(message.sum);
      if (!sum || sum.broken) return;
      try {
        timed(sum, () => sum.aggregator.merge(message.partial, message.weight, message.count));
      } catch (error) {
        sum.broken = String(error);
      }
      return;
    }
    case 'finish': {
      const sum = sums.get(message.sum);
      sums.delete(message.sum);
      if (!sum) return send({ type: 'failed', id: message.id, message: `sum ${message.sum} is not open in the fold worker` });
      if (sum.broken) return send({ type: 'failed', id: message.id, message: sum.broken });
      try {
        const { values, note } = timed(sum, () => sum.aggregator.finish());
        send({ type: 'finished', id: message.id, values, note, clipped: sum.aggregator.clipped ?? null, busyMs: sum.busyMs }, [values.buffer as ArrayBuffer]);
      } catch (error) {
        send({ type: 'failed', id: message.id, message: String(error) });
      }
      return;
    }
    case 'discard':
      sums.delete(message.sum);
      return;
    default: {
      const _exhaustive: never = message;
      throw new Error(`unknown fold worker message ${JSON.stringify(_exhaustive)}`);
    }
  }
}

port.on('message', handle);
