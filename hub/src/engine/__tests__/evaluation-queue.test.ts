import { describe, expect, it, vi } from 'vitest';
import { resolveSettings } from '@fl/shared';
import { EvaluationQueue } from '../evaluation-queue';
import { FakeEvaluator, MemoryStore, RecordingLogger, SHAPES } from './support/fakes';

const weights = (v: number) => ({ shapes: SHAPES, values: Float32Array.from([v, v, v, v, v, v]) });

/** A store holding run 'r' with rounds 1..n committed and waiting for their evaluation. */
function setup(rounds = 2) {
  const store = new MemoryStore();
  store.createRun('r', resolveSettings({ task: 'mnist', rounds: 5 }, 1), 0, weights(0));
  for (let round = 1; round <= rounds; round++) {
    store.completeRound({ runId: 'r', task: 'mnist', round, weights: weights(round), evaluation: 'pending', durationMs: 1, participants: [], at: round });
  }
  const evaluator = new FakeEvaluator();
  evaluator.hold = true;
  const log = new RecordingLogger();
  const stored: string[] = [];
  const queue = new EvaluationQueue({ store, evaluator, log, onStored: (id) => stored.push(id) });
  return { store, evaluator, log, stored, queue };
}

const job = (round: number, withWeights = true) => ({ runId: 'r', task: 'mnist' as const, round, ...(withWeights ? { weights: weights(round) } : {}) });

describe('EvaluationQueue', () => {
  it('evaluates one round at a time, in order, and stores each result on its round', async () => {
    const { store, evaluator, stored, queue } = setup();
    queue.enqueue(job(1));
    queue.enqueue(job(2));
    await vi.waitFor(() => expect(evaluator.calls).toHaveLength(1));
    expect(queue.size).toBe(2);
    expect(evaluator.calls[0]!.weights.values[0]).toBe(1);
    evaluator.calls[0]!.resolve({ accuracy: 0.8, loss: 0.4 });
    await vi.waitFor(() => expect(evaluator.calls).toHaveLength(2));
    expect(store.callsTo('setRoundEvaluation')).toEqual([['r', 1, 0.8, 0.4]]);
    evaluator.calls[1]!.resolve({ accuracy: 0.9, loss: 0.3 });
    await queue.idle();
    expect(store.callsTo('setRoundEvaluation')).toEqual([
      ['r', 1, 0.8, 0.4],
      ['r', 2, 0.9, 0.3],
    ]);
    expect(store.pendingEvaluations()).toEqual([]);
    expect(stored).toEqual(['r', 'r']);
  });

  it("reads a round's model from its checkpoint when the job carries none (a round left pending by a restart)", async () => {
    const { store, evaluator, queue } = setup();
    evaluator.hold = false;
    queue.enqueue(job(2, false));
    await queue.idle();
    expect(Array.from(evaluator.calls[0]!.weights.values)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(store.callsTo('setRoundEvaluation')).toEqual([['r', 2, 0.5, 1]]);
  });

  it('marks the evaluation failed when the checkpoint is gone, the evaluator has no score, or it throws', async () => {
    const { store, evaluator, log, queue } = setup(3);
    store.dropCheckpoint('r', 1);
    queue.enqueue(job(1, false));
    queue.enqueue(job(2));
    queue.enqueue(job(3));
    await vi.waitFor(() => expect(evaluator.calls).toHaveLength(1));
    evaluator.calls[0]!.resolve(null);
    await vi.waitFor(() => expect(evaluator.calls).toHaveLength(2));
    evaluator.calls[1]!.reject(new Error('out of memory'));
    await queue.idle();
    expect(store.callsTo('failRoundEvaluation')).toEqual([
      ['r', 1],
      ['r', 2],
      ['r', 3],
    ]);
    expect(store.callsTo('setRoundEvaluation')).toEqual([]);
    expect(log.errors()).toContain('evaluation failed');
  });

  it('keeps evaluating later rounds after the store or a listener failed on one', async () => {
    const { store, evaluator } = setup(3);
    evaluator.hold = false;
    let calls = 0;
    const throwing = new EvaluationQueue({
      store,
      evaluator,
      log: new RecordingLogger(),
      onStored: () => {
        calls += 1;
        if (calls === 1) throw new Error('listener failed');
      },
    });
    store.failNext.add('setRoundEvaluation');
    store.failNext.add('failRoundEvaluation');
    throwing.enqueue(job(1));
    throwing.enqueue(job(2));
    throwing.enqueue(job(3));
    await throwing.idle();
    expect(store.callsTo('setRoundEvaluation').map((args) => args[1])).toEqual([1, 2, 3]);
    expect(store.pendingEvaluations().map((p) => p.round)).toEqual([1]);
  });

  it('after close() stores nothing: a result still computing is dropped, as is a failure, and new jobs are ignored', async () => {
    const { store, evaluator, stored, queue } = setup();
    queue.enqueue(job(1));
    queue.enqueue(job(2));
    await vi.waitFor(() => expect(evaluator.calls).toHaveLength(1));
    queue.close();
    store.close();
    evaluator.calls[0]!.resolve({ accuracy: 0.8, loss: 0.4 });
    queue.enqueue(job(2));
    await queue.idle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.callsAfterClose).toEqual([]);
    expect(evaluator.calls).toHaveLength(1);
    expect(stored).toEqual([]);
  });

  it('after close() drops an evaluation that fails', async () => {
    const { store, evaluator, queue } = setup();
    queue.enqueue(job(1));
    await vi.waitFor(() => expect(evaluator.calls).toHaveLength(1));
    queue.close();
    store.close();
    evaluator.calls[0]!.reject(new Error('backend disposed'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.callsAfterClose).toEqual([]);
  });
});
