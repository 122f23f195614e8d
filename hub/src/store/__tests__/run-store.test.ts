import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashWeights } from '../store';
import { backends, useStore } from './support/run-store-backends';
import { bits, completedRound, mnist, participant, SHAPES, weights, xray } from './support/store-fixtures';

// Runs, rounds and checkpoints through the RunStore interface: the same assertions on SQLite and PostgreSQL.

describe.each(backends())('RunStore on $name', (backend) => {
  const ctx = useStore(backend);

  describe('createRun', () => {
    it('stores a running run and its round-0 checkpoint', async () => {
      const { store } = ctx;
      const initial = weights(1);
      const cp = await store.createRun('run-1', mnist, 1000, initial);
      expect(cp).toMatchObject({ task: 'mnist', runId: 'run-1', round: 0, createdAt: 1000, shapes: SHAPES });
      expect(cp.sha256).toBe(hashWeights(initial.values));
      const stored = (await store.checkpoint('run-1', 0))!;
      expect(stored.id).toBe(cp.id);
      expect(stored.shapes).toEqual(SHAPES);
      expect(bits(stored.values)).toEqual(bits(initial.values));
      expect(await store.run('run-1')).toEqual({
        id: 'run-1',
        task: 'mnist',
        status: 'running',
        settings: mnist,
        createdAt: 1000,
        endedAt: null,
        reason: null,
        initialTest: null,
        rounds: [],
      });
      expect(await store.runsWithStatus('running')).toEqual(['run-1']);
    });

    it('rejects a second run with the same id with HUB_ERR_STORE_DUPLICATE, as a promise, and keeps the first', async () => {
      const { store, location } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      let thrownSynchronously = false;
      let pending: Promise<unknown> | undefined;
      try {
        pending = store.createRun('run-1', mnist, 2000, weights(2));
      } catch {
        thrownSynchronously = true;
      }
      expect(thrownSynchronously).toBe(false);
      await expect(pending).rejects.toMatchObject({ name: 'StoreError', code: 'HUB_ERR_STORE_DUPLICATE', message: expect.stringContaining('run-1') });
      expect(await location.count('runs')).toBe(1);
      expect(await location.count('checkpoints')).toBe(1);
      expect(bits((await store.checkpoint('run-1', 0))!.values)).toEqual(bits(weights(1).values));
      expect((await store.checkpoint('run-1', 0))!.createdAt).toBe(1000);
    });
  });

  describe('completeRound', () => {
    it('stores the round, its participation and its checkpoint; run() reports the weights hash', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      const round = completedRound('run-1', 1);
      const cp = await store.completeRound(round);
      await store.setRoundEvaluation('run-1', 1, 0.9, 0.3);
      expect(cp).toMatchObject({ runId: 'run-1', round: 1, task: 'mnist', createdAt: 10_001 });

      const detail = (await store.run('run-1'))!;
      expect(detail.rounds).toEqual([
        {
          round: 1,
          status: 'completed',
          clients: 2,
          samples: 400,
          accuracy: 0.9,
          loss: 0.3,
          durationMs: 1500,
          clientTest: null,
          evaluation: 'done',
          reason: null,
          note: null,
          weightsHash: hashWeights(round.weights.values),
          epsilon: null,
          privacy: null,
        },
      ]);
      expect(detail.rounds[0]!.weightsHash).toBe(cp.sha256);
      expect(await store.participation('run-1', 1)).toEqual([participant('a', 100), participant('b', 300)]);
      expect(bits((await store.checkpoint('run-1', 1))!.values)).toEqual(bits(round.weights.values));
    });

    it("keeps the round's note and privacy spend with the run's epsilon", async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      const privacy = { samplingRate: 0.5, noiseMultiplier: 1.1, participants: 4, survivors: 3, clipped: null, epsilon: 2.75 };
      await store.completeRound(completedRound('run-1', 1, { note: 'krum kept b', privacy }));
      const { epsilon, ...spent } = privacy;
      expect((await store.run('run-1'))!.rounds[0]).toMatchObject({ note: 'krum kept b', epsilon, privacy: spent });
    });

    it('hashes exactly the stored bytes: the hash of the values read back equals the reported hash', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1));
      const back = (await store.checkpoint('run-1', 1))!;
      expect(hashWeights(back.values)).toBe((await store.run('run-1'))!.rounds[0]!.weightsHash);
    });

    it('keeps a committed round pending, with null accuracy, until its evaluation is stored', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1));
      expect((await store.run('run-1'))!.rounds[0]).toMatchObject({ accuracy: null, loss: null, clientTest: null, evaluation: 'pending' });
      expect(await store.pendingEvaluations()).toEqual([{ runId: 'run-1', task: 'mnist', round: 1 }]);
      await store.setRoundEvaluation('run-1', 1, 0.91, 0.2);
      expect(await store.pendingEvaluations()).toEqual([]);
      expect((await store.run('run-1'))!.rounds[0]).toMatchObject({ accuracy: 0.91, loss: 0.2, evaluation: 'done' });
    });

    it('lists pending evaluations oldest run first, then by round, and drops a failed evaluation', async () => {
      const { store } = ctx;
      await store.createRun('late', mnist, 2000, weights(1));
      await store.createRun('early', mnist, 1000, weights(1));
      await store.completeRound(completedRound('late', 1));
      await store.completeRound(completedRound('early', 2));
      await store.completeRound(completedRound('early', 1));
      expect((await store.pendingEvaluations()).map((p) => `${p.runId}:${p.round}`)).toEqual(['early:1', 'early:2', 'late:1']);
      await store.failRoundEvaluation('early', 2);
      expect((await store.pendingEvaluations()).map((p) => `${p.runId}:${p.round}`)).toEqual(['early:1', 'late:1']);
      expect((await store.run('early'))!.rounds.map((r) => r.evaluation)).toEqual(['pending', 'failed']);
    });

    it("attributes clients' scores to the model they scored: round 0 to the run, round r to round r", async () => {
      const { store } = ctx;
      await store.createRun('run-1', xray, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1, { task: 'chest-xray', evaluation: 'none' }));
      expect((await store.run('run-1'))!.rounds[0]).toMatchObject({ accuracy: null, evaluation: 'none' });
      await store.setClientTest('run-1', 0, { samples: 20, accuracy: 0.5 });
      await store.setClientTest('run-1', 1, { samples: 20, accuracy: 0.8, loss: 0.4, auc: 0.9 });
      const run = (await store.run('run-1'))!;
      expect(run.initialTest).toEqual({ samples: 20, accuracy: 0.5 });
      expect(run.rounds[0]).toMatchObject({ accuracy: 0.8, loss: 0.4, clientTest: { samples: 20, accuracy: 0.8, loss: 0.4, auc: 0.9 }, evaluation: 'done' });
    });

    it('keeps the checkpoints of the last K rounds only, and every round its weights hash', async () => {
      const small = await ctx.location.open({ keepCheckpoints: 2 });
      try {
        await small.createRun('run-k', mnist, 1000, weights(1));
        const hashes: string[] = [];
        for (const r of [1, 2, 3, 4]) hashes.push((await small.completeRound(completedRound('run-k', r))).sha256);
        const kept = await Promise.all([0, 1, 2, 3, 4].map(async (r) => (await small.checkpoint('run-k', r)) !== null));
        expect(kept).toEqual([false, false, false, true, true]);
        expect((await small.run('run-k'))!.rounds.map((r) => r.weightsHash)).toEqual(hashes);
        expect((await small.latestCheckpoint('mnist'))!.round).toBe(4);
        expect(await ctx.location.count('checkpoints')).toBe(2);
      } finally {
        await small.close();
      }
    });

    it('lists rounds in round order', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 2));
      await store.completeRound(completedRound('run-1', 1));
      await store.failRound('run-1', 3, 'deadline', 60_000, 20_000);
      expect((await store.run('run-1'))!.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    });

    it('rejects a duplicate round number with HUB_ERR_STORE_DUPLICATE and leaves no partial rows', async () => {
      const { store, location } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1));
      const tables = ['checkpoints', 'rounds', 'participation'];
      const before = await Promise.all(tables.map((t) => location.count(t)));
      await expect(store.completeRound(completedRound('run-1', 1, { weights: weights(99), participants: [participant('z', 5)] }))).rejects.toMatchObject({
        code: 'HUB_ERR_STORE_DUPLICATE',
      });
      expect(await Promise.all(tables.map((t) => location.count(t)))).toEqual(before);
      expect((await store.participation('run-1', 1)).map((p) => p.clientId)).toEqual(['a', 'b']);
      expect(bits((await store.latestCheckpoint('mnist'))!.values)).toEqual(bits(weights(10).values));
    });

    it('rolls back the checkpoint and round when a participation row fails late in the transaction', async () => {
      const { store, location } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      const dup = completedRound('run-1', 1, { participants: [participant('a', 1), participant('a', 2)] });
      await expect(store.completeRound(dup)).rejects.toMatchObject({ code: 'HUB_ERR_STORE_DUPLICATE' });
      expect(await store.checkpoint('run-1', 1)).toBeNull();
      expect((await store.run('run-1'))!.rounds).toEqual([]);
      expect(await location.count('participation')).toBe(0);
      expect(await store.latestCheckpoint('mnist')).toBeNull();
      expect(await store.checkpoint('run-1', 0)).not.toBeNull();
      // The same round can be stored afterwards.
      await store.completeRound(completedRound('run-1', 1));
      expect((await store.run('run-1'))!.rounds).toHaveLength(1);
    });

    it('rejects a round of a run that does not exist with HUB_ERR_STORE_UNKNOWN_RUN and keeps no checkpoint', async () => {
      const { store, location } = ctx;
      await expect(store.completeRound(completedRound('no-such-run', 1))).rejects.toMatchObject({ code: 'HUB_ERR_STORE_UNKNOWN_RUN' });
      await expect(store.failRound('no-such-run', 1, 'deadline', 1, 2)).rejects.toMatchObject({ code: 'HUB_ERR_STORE_UNKNOWN_RUN' });
      expect(await location.count('checkpoints')).toBe(0);
      expect(await location.count('rounds')).toBe(0);
      expect(await store.latestCheckpoint('mnist')).toBeNull();
    });
  });

  describe('checkpoints', () => {
    it('round-trips float32 values bit-exact, including -0, denormals, extremes and NaN payloads', async () => {
      const { store } = ctx;
      const raw = [0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00123];
      const values = new Float32Array(new Uint32Array(raw).buffer);
      await store.createRun('run-1', mnist, 1000, { shapes: [[3, 3]], values });
      const back = (await store.checkpoint('run-1', 0))!;
      expect(bits(back.values)).toEqual(raw);
      expect(back.sha256).toBe(hashWeights(values));
    });

    it('stores a Float32Array view at an offset into a larger buffer without its neighbours', async () => {
      const { store } = ctx;
      const backing = Float32Array.from({ length: 20 }, (_, i) => i);
      const view = backing.subarray(4, 13);
      await store.createRun('run-1', mnist, 1000, { shapes: SHAPES, values: view });
      const back = (await store.checkpoint('run-1', 0))!;
      expect(Array.from(back.values)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(back.sha256).toBe(hashWeights(Float32Array.from(view)));
    });

    it('returns the newest checkpoint of the task across runs, ignoring other tasks and round-0 models', async () => {
      const { store } = ctx;
      expect(await store.latestCheckpoint('mnist')).toBeNull();
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1));
      await store.completeRound(completedRound('run-1', 2));
      await store.createRun('run-x', xray, 3000, weights(500));
      await store.createRun('run-2', mnist, 4000, weights(7));
      await store.completeRound(completedRound('run-2', 1, { weights: weights(42) }));
      await store.completeRound({ ...completedRound('run-x', 1, { weights: weights(600) }), task: 'chest-xray' });

      const latest = (await store.latestCheckpoint('mnist'))!;
      expect(latest).toMatchObject({ runId: 'run-2', round: 1, task: 'mnist' });
      expect(latest).not.toHaveProperty('optimizerState');
      expect(bits(latest.values)).toEqual(bits(weights(42).values));
      expect(await store.latestCheckpoint('chest-xray')).toMatchObject({ runId: 'run-x', round: 1 });
      await store.createRun('run-3', mnist, 9000, weights(77));
      expect(await store.latestCheckpoint('mnist')).toMatchObject({ runId: 'run-2', round: 1 });

      const summaries = await store.modelSummaries();
      expect(summaries).toEqual([
        { task: 'chest-xray', runId: 'run-x', round: 1, createdAt: 10_001, parameters: 9, sha256: hashWeights(weights(600).values) },
        { task: 'mnist', runId: 'run-2', round: 1, createdAt: 10_001, parameters: 9, sha256: latest.sha256 },
      ]);
    });

    it('has no latest checkpoint or model summary for a task whose runs never completed a round', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.failRound('run-1', 1, 'deadline', 60_000, 61_000);
      expect(await store.latestCheckpoint('mnist')).toBeNull();
      expect(await store.modelSummaries()).toEqual([]);
      expect(await store.checkpoint('run-1', 0)).not.toBeNull();
    });

    it('returns null for a checkpoint that does not exist', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      expect(await store.checkpoint('run-1', 1)).toBeNull();
      expect(await store.checkpoint('run-0', 0)).toBeNull();
    });

    it('gives checkpoint ids that grow and are never reused after pruning', async () => {
      const small = await ctx.location.open({ keepCheckpoints: 1 });
      try {
        const ids = [(await small.createRun('run-1', mnist, 1, weights(1))).id];
        for (const r of [1, 2, 3]) ids.push((await small.completeRound(completedRound('run-1', r))).id);
        expect(ids.every((id) => Number.isSafeInteger(id))).toBe(true);
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        expect(new Set(ids).size).toBe(4);
      } finally {
        await small.close();
      }
    });

    it('hashWeights is a sha256 of the raw little-endian bytes', () => {
      expect(hashWeights(Float32Array.of(1, 2, 3))).toBe(
        createHash('sha256').update(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40])).digest('hex'),
      );
    });
  });
});
