import { describe, expect, it } from 'vitest';
import { resolveSettings, type RunSettings, type ServerOptimizerName } from '@fl/shared';
import { createServerOptimizer, type OptimizerState } from '../../aggregation/server-optimizer';
import { encodeOptimizerState } from '../../aggregation/server-optimizer-state';
import { planResume } from '../resume';
import { FakeEvaluator, MemoryStore, SHAPES } from './support/fakes';

const models = new FakeEvaluator();
const settings = (rounds = 3, optimizer: ServerOptimizerName = 'fedavg'): RunSettings =>
  resolveSettings({ task: 'mnist', rounds, serverOptimizer: { name: optimizer } }, 1);
const weights = (v: number) => ({ shapes: SHAPES, values: Float32Array.from([v, v, v, v, v, v]) });

/** A run in the store as a hub that stopped left it: `completed` rounds committed, `failed` rounds failed. */
function seed(
  store: MemoryStore,
  id: string,
  at: number,
  opts: { rounds?: number; completed?: number[]; failed?: number[]; optimizer?: ServerOptimizerName; states?: Map<number, OptimizerState> } = {},
): void {
  const s = settings(opts.rounds ?? 3, opts.optimizer);
  store.createRun(id, s, at, weights(0));
  for (const round of opts.failed ?? []) store.failRound(id, round, 'too few updates', 10, at + round);
  for (const round of opts.completed ?? []) {
    const state = opts.states?.get(round);
    const optimizerState = state ? encodeOptimizerState(state) : null;
    store.completeRound({ runId: id, task: 'mnist', round, weights: weights(round), evaluation: 'none', durationMs: 10, participants: [], at: at + round, optimizerState });
  }
}

/** The state a fedadam run's optimiser has after `rounds` rounds that each add 0.1 to every weight. */
function adamState(rounds: number, length = 6): OptimizerState {
  const optimizer = createServerOptimizer(settings(3, 'fedadam').serverOptimizer, length);
  for (let r = 0; r < rounds; r++) {
    const step = optimizer.step(new Float32Array(length).fill(r), new Float32Array(length).fill(r + 0.1));
    optimizer.restore(step.state);
  }
  return optimizer.state()!;
}

describe('planResume', () => {
  it('does nothing when no run was active', async () => {
    const store = new MemoryStore();
    seed(store, 'done', 1);
    store.finishRun('done', 'completed', null, 2);
    expect(await planResume(store, models)).toEqual({ end: [], resume: null });
  });

  it('continues an interrupted run from the round after its last completed one, with that checkpoint and its shard owners', async () => {
    const store = new MemoryStore();
    seed(store, 'r', 500, { rounds: 5, completed: [1, 2], failed: [3] });
    store.setShardOwners('r', ['b', 'a']);
    const checkpoint = store.checkpoint('r', 2)!;
    const plan = await planResume(store, models);
    expect(plan.end).toEqual([]);
    expect(plan.resume).toMatchObject({ runId: 'r', round: 3, startedAt: 500, sha256: checkpoint.sha256, shardOwners: ['b', 'a'], settings: settings(5) });
    expect(Array.from(plan.resume!.weights.values)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('continues a run that completed no round from its initial model, round 1', async () => {
    const store = new MemoryStore();
    seed(store, 'r', 1, { failed: [1] });
    const plan = await planResume(store, models);
    expect(plan.resume).toMatchObject({ runId: 'r', round: 1, shardOwners: null });
    expect(Array.from(plan.resume!.weights.values)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('continues only the newest of two interrupted runs and fails the older', async () => {
    const store = new MemoryStore();
    seed(store, 'older', 1, { completed: [1] });
    seed(store, 'newer', 2, { completed: [1] });
    const plan = await planResume(store, models);
    expect(plan.end).toEqual([{ runId: 'older', status: 'failed', reason: expect.stringContaining('a later run was active') }]);
    expect(plan.resume?.runId).toBe('newer');
  });

  it('fails the run when its last checkpoint is missing, or holds another model', async () => {
    const missing = new MemoryStore();
    seed(missing, 'r', 1, { completed: [1, 2] });
    missing.dropCheckpoint('r', 2);
    expect(await planResume(missing, models)).toEqual({
      end: [{ runId: 'r', status: 'failed', reason: expect.stringContaining('checkpoint cannot be used') }],
      resume: null,
    });

    const reshaped = new MemoryStore();
    seed(reshaped, 'r', 1, { completed: [1] });
    expect(await planResume(reshaped, { shapes: () => [[6]] })).toEqual({
      end: [{ runId: 'r', status: 'failed', reason: expect.stringContaining('checkpoint cannot be used') }],
      resume: null,
    });
  });

  it('completes a run whose rounds were all committed (the hub stopped before it ended)', async () => {
    const store = new MemoryStore();
    seed(store, 'r', 1, { rounds: 2, completed: [1, 2] });
    expect(await planResume(store, models)).toEqual({ end: [{ runId: 'r', status: 'completed', reason: null }], resume: null });
  });

  it("carries the server optimiser's state stored with the last completed round's checkpoint", async () => {
    const store = new MemoryStore();
    const states = new Map([1, 2].map((r) => [r, adamState(r)]));
    seed(store, 'r', 1, { rounds: 5, completed: [1, 2], failed: [3], optimizer: 'fedadam', states });
    const plan = await planResume(store, models);
    expect(plan.resume).toMatchObject({ round: 3, optimizerLost: null });
    const resumed = plan.resume!.optimizerState!;
    expect(resumed).toMatchObject({ name: 'fedadam', step: 2 });
    expect(Array.from(resumed.m)).toEqual(Array.from(states.get(2)!.m));
    expect(Array.from(resumed.v!)).toEqual(Array.from(states.get(2)!.v!));
  });

  it('starts the optimiser afresh for fedavg, and for a stateful run that completed no round', async () => {
    const plain = new MemoryStore();
    seed(plain, 'r', 1, { completed: [1] });
    expect(plain.checkpoint('r', 1)!.optimizerState).toBeNull();
    expect((await planResume(plain, models)).resume).toMatchObject({ optimizerState: null, optimizerLost: null });

    const fresh = new MemoryStore();
    seed(fresh, 'r', 1, { failed: [1], optimizer: 'fedyogi' });
    expect((await planResume(fresh, models)).resume).toMatchObject({ round: 1, optimizerState: null, optimizerLost: null });
  });

  it('says why a stateful run restarts its optimiser when the stored state is missing, unreadable or of another model', async () => {
    const lostWith = async (state: Uint8Array | null) => {
      const store = new MemoryStore();
      seed(store, 'r', 1, { completed: [1, 2], optimizer: 'fedadam', states: new Map([[2, adamState(2)]]) });
      store.setOptimizerState('r', 2, state);
      const plan = await planResume(store, models);
      expect(plan.end).toEqual([]);
      expect(plan.resume?.optimizerState).toBeNull();
      return plan.resume!.optimizerLost;
    };
    expect(await lostWith(null)).toBe('fedadam state after round 2 was not stored');
    expect(await lostWith(Uint8Array.from([1, 2, 3]))).toMatch(/^fedadam state after round 2 cannot be read: stored server optimiser state: not a state frame/);
    expect(await lostWith(encodeOptimizerState(adamState(2, 4)))).toBe('fedadam state after round 2 cannot be used: the state has 4 values, the model 6');
    const yogi = { ...adamState(2), name: 'fedyogi' as const };
    expect(await lostWith(encodeOptimizerState(yogi))).toBe("fedadam state after round 2 cannot be used: the state is fedyogi's, the run uses fedadam");
  });

  it('changes nothing in the store: the caller ends the runs', async () => {
    const store = new MemoryStore();
    seed(store, 'older', 1, { completed: [1] });
    seed(store, 'newer', 2, { completed: [1] });
    const before = store.calls.length;
    await planResume(store, models);
    const writes = store.calls.slice(before).filter((c) => !['runsWithStatus', 'run', 'checkpoint', 'shardOwners'].includes(c.method));
    expect(writes).toEqual([]);
  });
});
