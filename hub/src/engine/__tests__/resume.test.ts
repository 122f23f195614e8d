import { describe, expect, it } from 'vitest';
import { resolveSettings, type RunSettings } from '@fl/shared';
import { planResume } from '../resume';
import { FakeEvaluator, MemoryStore, SHAPES } from './support/fakes';

const models = new FakeEvaluator();
const settings = (rounds = 3): RunSettings => resolveSettings({ task: 'mnist', rounds }, 1);
const weights = (v: number) => ({ shapes: SHAPES, values: Float32Array.from([v, v, v, v, v, v]) });

/** A run in the store as a hub that stopped left it: `completed` rounds committed, `failed` rounds failed. */
function seed(store: MemoryStore, id: string, at: number, opts: { rounds?: number; completed?: number[]; failed?: number[] } = {}): void {
  const s = settings(opts.rounds ?? 3);
  store.createRun(id, s, at, weights(0));
  for (const round of opts.failed ?? []) store.failRound(id, round, 'too few updates', 10, at + round);
  for (const round of opts.completed ?? []) {
    store.completeRound({ runId: id, task: 'mnist', round, weights: weights(round), evaluation: 'none', durationMs: 10, participants: [], at: at + round });
  }
}

describe('planResume', () => {
  it('does nothing when no run was active', () => {
    const store = new MemoryStore();
    seed(store, 'done', 1);
    store.finishRun('done', 'completed', null, 2);
    expect(planResume(store, models)).toEqual({ end: [], resume: null });
  });

  it('continues an interrupted run from the round after its last completed one, with that checkpoint and its shard owners', () => {
    const store = new MemoryStore();
    seed(store, 'r', 500, { rounds: 5, completed: [1, 2], failed: [3] });
    store.setShardOwners('r', ['b', 'a']);
    const checkpoint = store.checkpoint('r', 2)!;
    const plan = planResume(store, models);
    expect(plan.end).toEqual([]);
    expect(plan.resume).toMatchObject({ runId: 'r', round: 3, startedAt: 500, sha256: checkpoint.sha256, shardOwners: ['b', 'a'], settings: settings(5) });
    expect(Array.from(plan.resume!.weights.values)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('continues a run that completed no round from its initial model, round 1', () => {
    const store = new MemoryStore();
    seed(store, 'r', 1, { failed: [1] });
    const plan = planResume(store, models);
    expect(plan.resume).toMatchObject({ runId: 'r', round: 1, shardOwners: null });
    expect(Array.from(plan.resume!.weights.values)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('continues only the newest of two interrupted runs and fails the older', () => {
    const store = new MemoryStore();
    seed(store, 'older', 1, { completed: [1] });
    seed(store, 'newer', 2, { completed: [1] });
    const plan = planResume(store, models);
    expect(plan.end).toEqual([{ runId: 'older', status: 'failed', reason: expect.stringContaining('a later run was active') }]);
    expect(plan.resume?.runId).toBe('newer');
  });

  it('fails the run when its last checkpoint is missing, or holds another model', () => {
    const missing = new MemoryStore();
    seed(missing, 'r', 1, { completed: [1, 2] });
    missing.dropCheckpoint('r', 2);
    expect(planResume(missing, models)).toEqual({
      end: [{ runId: 'r', status: 'failed', reason: expect.stringContaining('checkpoint cannot be used') }],
      resume: null,
    });

    const reshaped = new MemoryStore();
    seed(reshaped, 'r', 1, { completed: [1] });
    expect(planResume(reshaped, { shapes: () => [[6]] })).toEqual({
      end: [{ runId: 'r', status: 'failed', reason: expect.stringContaining('checkpoint cannot be used') }],
      resume: null,
    });
  });

  it('completes a run whose rounds were all committed (the hub stopped before it ended)', () => {
    const store = new MemoryStore();
    seed(store, 'r', 1, { rounds: 2, completed: [1, 2] });
    expect(planResume(store, models)).toEqual({ end: [{ runId: 'r', status: 'completed', reason: null }], resume: null });
  });

  it('changes nothing in the store: the caller ends the runs', () => {
    const store = new MemoryStore();
    seed(store, 'older', 1, { completed: [1] });
    seed(store, 'newer', 2, { completed: [1] });
    const before = store.calls.length;
    planResume(store, models);
    const writes = store.calls.slice(before).filter((c) => !['runsWithStatus', 'run', 'checkpoint', 'shardOwners'].includes(c.method));
    expect(writes).toEqual([]);
  });
});
