import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings, type FlatWeights } from '@fl/shared';
import { encodeOptimizerState } from '../../aggregation/server-optimizer-state';
import { hashWeights, type CompletedRound } from '../store';
import { backends, useStore } from './support/run-store-backends';
import { bits, completedRound, mnist, weights, xray } from './support/store-fixtures';

// Failed rounds, run ends, listing, restarts, optimiser state, shard owners and client identities through
// the RunStore interface: the same assertions on SQLite and PostgreSQL.

const DAY = 24 * 3600 * 1000;

describe.each(backends())('RunStore on $name', (backend) => {
  let ids = 0;
  let clock = 1000;
  beforeEach(() => {
    ids = 0;
    clock = 1000;
  });
  const ctx = useStore(backend, () => ({ newId: () => `client-${++ids}`, now: () => clock }));

  describe('failRound and finishRun', () => {
    it('records a failed round with its reason and no weights hash', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.failRound('run-1', 1, 'round 1: 0 of the 2 required updates arrived', 60_000.6, 61_000);
      expect((await store.run('run-1'))!.rounds).toEqual([
        {
          round: 1,
          status: 'failed',
          clients: 0,
          samples: 0,
          accuracy: null,
          loss: null,
          durationMs: 60_001,
          clientTest: null,
          reason: 'round 1: 0 of the 2 required updates arrived',
          note: null,
          evaluation: 'none',
          weightsHash: null,
          epsilon: null,
          privacy: null,
        },
      ]);
      expect(await store.participation('run-1', 1)).toEqual([]);
    });

    it('replaces a completed round whole when that round is failed afterwards', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1, { note: 'clipped 1' }));
      await store.setRoundEvaluation('run-1', 1, 0.9, 0.3);
      await store.failRound('run-1', 1, 'evaluation crashed', 5, 70_000);
      expect((await store.run('run-1'))!.rounds).toMatchObject([
        { round: 1, status: 'failed', clients: 0, samples: 0, accuracy: null, loss: null, note: null, reason: 'evaluation crashed', weightsHash: null },
      ]);
      expect(await store.pendingEvaluations()).toEqual([]);
    });

    it('finishes a run with status, reason and end time, and drops it from the running list', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.createRun('run-2', mnist, 2000, weights(2));
      await store.finishRun('run-1', 'failed', 'round 1: deadline', 5000);
      expect(await store.run('run-1')).toMatchObject({ status: 'failed', reason: 'round 1: deadline', endedAt: 5000 });
      expect(await store.runsWithStatus('running')).toEqual(['run-2']);
      expect(await store.runsWithStatus('failed')).toEqual(['run-1']);
      await store.finishRun('run-2', 'completed', null, 6000);
      expect(await store.run('run-2')).toMatchObject({ status: 'completed', reason: null, endedAt: 6000 });
      await store.finishRun('run-2', 'stopped', 'stopped by the operator', 7000);
      expect(await store.runsWithStatus('stopped')).toEqual(['run-2']);
    });

    it('returns null for an unknown run', async () => {
      expect(await ctx.store.run('nope')).toBeNull();
    });
  });

  describe('runs()', () => {
    it('lists runs newest first, breaking equal timestamps by insertion order, and honours the limit', async () => {
      const { store } = ctx;
      await store.createRun('old', mnist, 1000, weights(1));
      await store.createRun('newest', xray, 3000, weights(2));
      await store.createRun('mid-a', mnist, 2000, weights(3));
      await store.createRun('mid-b', mnist, 2000, weights(4));
      expect((await store.runs()).map((r) => r.id)).toEqual(['newest', 'mid-b', 'mid-a', 'old']);
      expect((await store.runs(2)).map((r) => r.id)).toEqual(['newest', 'mid-b']);
      expect((await store.runs())[0]!.settings).toEqual(xray);
    });

    it("includes each run's own rounds", async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      await store.completeRound(completedRound('run-1', 1));
      await store.createRun('run-2', mnist, 2000, weights(1));
      await store.completeRound(completedRound('run-2', 1));
      await store.completeRound(completedRound('run-2', 2));
      await store.createRun('run-3', mnist, 3000, weights(1));
      const [third, second, first] = await store.runs();
      expect(third!.rounds).toEqual([]);
      expect(second!.rounds.map((r) => r.round)).toEqual([1, 2]);
      expect(first!.rounds.map((r) => r.round)).toEqual([1]);
      expect(await store.run('run-2')).toEqual(second);
    });
  });

  describe('persistence', () => {
    it('keeps runs, rounds, participation, checkpoints and shard owners after closing and reopening', async () => {
      let store = ctx.store;
      await store.createRun('run-1', mnist, 1000, weights(1));
      const round = completedRound('run-1', 1);
      await store.completeRound(round);
      await store.failRound('run-1', 2, 'deadline', 60_000, 70_000);
      await store.finishRun('run-1', 'failed', 'round 2: deadline', 70_001);
      await store.setShardOwners('run-1', ['client-b', 'client-a']);
      const before = { runs: await store.runs(), participation: await store.participation('run-1', 1) };

      store = await ctx.reopen();
      expect(await store.runs()).toEqual(before.runs);
      expect(await store.participation('run-1', 1)).toEqual(before.participation);
      expect(await store.shardOwners('run-1')).toEqual(['client-b', 'client-a']);
      const latest = (await store.latestCheckpoint('mnist'))!;
      expect(latest.round).toBe(1);
      expect(bits(latest.values)).toEqual(bits(round.weights.values));
      expect(hashWeights(latest.values)).toBe(before.runs[0]!.rounds[0]!.weightsHash);
      // And keeps working: new rows go after the old ones.
      await store.createRun('run-2', mnist, 80_000, weights(5));
      await store.completeRound(completedRound('run-2', 1, { weights: weights(6) }));
      expect(await store.latestCheckpoint('mnist')).toMatchObject({ runId: 'run-2', round: 1 });
      expect((await store.runs()).map((r) => r.id)).toEqual(['run-2', 'run-1']);
    });

    it('has no shard owners for a run that never set them, or for no run', async () => {
      const { store } = ctx;
      await store.createRun('run-1', mnist, 1000, weights(1));
      expect(await store.shardOwners('run-1')).toBeNull();
      expect(await store.shardOwners('nope')).toBeNull();
      await store.setShardOwners('run-1', ['a']);
      await store.setShardOwners('run-1', ['b', 'a']);
      expect(await store.shardOwners('run-1')).toEqual(['b', 'a']);
    });
  });

  describe('server optimiser state', () => {
    const adam = resolveSettings({ task: 'mnist', rounds: 5, serverOptimizer: { name: 'fedadam' } });
    const small = (v: number): FlatWeights => ({ shapes: [[3]], values: Float32Array.from([v, v, v]) });
    const state = (round: number) =>
      encodeOptimizerState({ name: 'fedadam', step: round, m: Float64Array.from([round, -round, 0.5]), v: Float64Array.from([1, 2, round]) });
    const round = (r: number, optimizerState: Uint8Array | null = state(r)): CompletedRound => ({
      runId: 'run',
      task: 'mnist',
      round: r,
      weights: small(r),
      evaluation: 'none',
      durationMs: 1,
      participants: [],
      at: 100 + r,
      optimizerState,
    });

    it("stores the state with the round and hands it back with that checkpoint, not with a new run's starting model", async () => {
      const { store } = ctx;
      await store.createRun('run', adam, 1, small(0));
      await store.completeRound(round(1));
      await store.completeRound(round(2, null));
      expect((await store.checkpoint('run', 0))!.optimizerState).toBeNull();
      expect(Array.from((await store.checkpoint('run', 1))!.optimizerState!)).toEqual(Array.from(state(1)));
      expect((await store.checkpoint('run', 2))!.optimizerState).toBeNull();
      expect(await store.latestCheckpoint('mnist')).not.toHaveProperty('optimizerState');
    });

    it('prunes the state with its checkpoint', async () => {
      const store = await ctx.reopen({ keepCheckpoints: 2 });
      await store.createRun('run', adam, 1, small(0));
      for (const r of [1, 2, 3, 4]) await store.completeRound(round(r));
      expect(await store.checkpoint('run', 2)).toBeNull();
      expect(Array.from((await store.checkpoint('run', 3))!.optimizerState!)).toEqual(Array.from(state(3)));
      expect(await ctx.location.count('checkpoints WHERE optimizer_state IS NOT NULL')).toBe(2);
    });
  });

  describe('client identities', () => {
    const issue = async () => {
      const claim = await ctx.store.claimIdentity(undefined, undefined);
      if (claim.kind !== 'issued') throw new Error(`expected an issued identity, got ${claim.kind}`);
      return claim;
    };

    it('issues an identity, reclaims it with its secret after a reopen, and refuses it without', async () => {
      const issued = await issue();
      expect(issued.clientId).toBe('client-1');
      expect(issued.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      ids = 0; // a restarted hub's counter starts again
      const store = await ctx.reopen();
      expect(await store.claimIdentity('client-1', issued.secret)).toEqual({ kind: 'reclaimed', clientId: 'client-1' });
      expect(await store.claimIdentity('client-1', 'wrong')).toEqual({ kind: 'refused', clientId: 'client-1' });
      expect(await store.claimIdentity('client-1', undefined)).toEqual({ kind: 'refused', clientId: 'client-1' });
      // The counter gives client-1 again, which exists: the fresh id skips it.
      expect(await store.claimIdentity('never-issued', 'x')).toMatchObject({ kind: 'issued', clientId: 'client-2' });
    });

    it('keeps only the SHA-256 of the secret', async () => {
      const { secret } = await issue();
      expect(await ctx.location.count('client_identities')).toBe(1);
      const digest = createHash('sha256').update(secret, 'utf8').digest('hex');
      const hex = backend.name === 'sqlite' ? 'hex(secret_sha256)' : "encode(secret_sha256, 'hex')";
      expect(await ctx.location.count(`client_identities WHERE lower(${hex}) = '${digest}'`)).toBe(1);
    });

    it('forgets an identity nobody reclaimed for 90 days, and a reclaim keeps it another 90', async () => {
      clock = 0;
      const kept = await issue();
      const forgotten = await issue();
      clock = 60 * DAY;
      expect(await ctx.store.claimIdentity(kept.clientId, kept.secret)).toMatchObject({ kind: 'reclaimed' });
      clock = 120 * DAY; // 120 days after the issue, 60 after the reclaim
      const store = await ctx.reopen();
      expect(await store.claimIdentity(kept.clientId, kept.secret)).toMatchObject({ kind: 'reclaimed', clientId: kept.clientId });
      const again = await store.claimIdentity(forgotten.clientId, forgotten.secret);
      expect(again.kind).toBe('issued');
      expect(again.clientId).not.toBe(forgotten.clientId);
    });
  });
});
