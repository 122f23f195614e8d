import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings, type FlatWeights, type ParticipationRecord, type RunSettings } from '@fl/shared';
import { hashWeights, HubStore, type CompletedRound } from '../store';

const mnist: RunSettings = resolveSettings({ task: 'mnist', rounds: 3, minClients: 2 });
const xray: RunSettings = resolveSettings({ task: 'chest-xray', rounds: 2 });

const SHAPES = [[2, 3], [3]];

function weights(seed: number): FlatWeights {
  return { shapes: SHAPES, values: Float32Array.from({ length: 9 }, (_, i) => seed + i / 8 - 0.5) };
}

function bits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function participant(clientId: string, samples: number, round = 1): ParticipationRecord {
  return {
    round,
    clientId,
    name: `name-${clientId}`,
    samples,
    loss: 0.25,
    accuracy: 0.875,
    trainMs: 1234.5,
    test: clientId === 'b' ? { samples: 40, accuracy: 0.5, auc: 0.75 } : null,
  };
}

function completedRound(runId: string, round: number, overrides: Partial<CompletedRound> = {}): CompletedRound {
  return {
    runId,
    task: 'mnist',
    round,
    weights: weights(round * 10),
    evaluation: 'pending',
    durationMs: 1500.4,
    participants: [participant('a', 100, round), participant('b', 300, round)],
    at: 10_000 + round,
    ...overrides,
  };
}

function count(store: HubStore, table: string): number {
  return (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

describe('HubStore', () => {
  let dir: string;
  let store: HubStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-store-'));
    store = new HubStore(dir);
  });

  afterEach(() => {
    try {
      store.close();
    } catch {
      // already closed by the test
    }
    rmSync(dir, { recursive: true, force: true });
  });

  describe('createRun', () => {
    it('stores a running run and its round-0 checkpoint', () => {
      const initial = weights(1);
      const cp = store.createRun('run-1', mnist, 1000, initial);
      expect(cp).toMatchObject({ task: 'mnist', runId: 'run-1', round: 0, createdAt: 1000, shapes: SHAPES });
      expect(cp.sha256).toBe(hashWeights(initial.values));
      const stored = store.checkpoint('run-1', 0)!;
      expect(stored.id).toBe(cp.id);
      expect(stored.shapes).toEqual(SHAPES);
      expect(bits(stored.values)).toEqual(bits(initial.values));
      expect(store.run('run-1')).toEqual({
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
      expect(store.runsWithStatus('running')).toEqual(['run-1']);
    });

    it('refuses a second run with the same id and keeps no extra checkpoint', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      expect(() => store.createRun('run-1', mnist, 2000, weights(2))).toThrow();
      expect(count(store, 'runs')).toBe(1);
      expect(count(store, 'checkpoints')).toBe(1);
      expect(bits(store.checkpoint('run-1', 0)!.values)).toEqual(bits(weights(1).values));
      expect(store.checkpoint('run-1', 0)!.createdAt).toBe(1000);
    });
  });

  describe('completeRound', () => {
    it('stores the round, its participation and its checkpoint; run() reports the weights hash', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      const round = completedRound('run-1', 1);
      const cp = store.completeRound(round);
      store.setRoundEvaluation('run-1', 1, 0.9, 0.3);
      expect(cp).toMatchObject({ runId: 'run-1', round: 1, task: 'mnist', createdAt: 10_001 });

      const detail = store.run('run-1')!;
      expect(detail.rounds).toHaveLength(1);
      expect(detail.rounds).toMatchObject([
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
          weightsHash: hashWeights(round.weights.values),
        },
      ]);
      expect(detail.rounds[0]!.weightsHash).toBe(cp.sha256);
      expect(detail.rounds[0]!.weightsHash).toMatch(/^[0-9a-f]{64}$/);

      expect(store.participation('run-1', 1)).toEqual([participant('a', 100), participant('b', 300)]);
      expect(bits(store.checkpoint('run-1', 1)!.values)).toEqual(bits(round.weights.values));
    });

    it('hashes exactly the stored bytes: the hash of the values read back equals the reported hash', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.completeRound(completedRound('run-1', 1));
      const back = store.checkpoint('run-1', 1)!;
      expect(hashWeights(back.values)).toBe(store.run('run-1')!.rounds[0]!.weightsHash);
    });

    it('keeps a committed round pending, with null accuracy, until its evaluation is stored', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.completeRound(completedRound('run-1', 1));
      expect(store.run('run-1')!.rounds[0]).toMatchObject({ accuracy: null, loss: null, clientTest: null, evaluation: 'pending' });
      expect(store.pendingEvaluations()).toEqual([{ runId: 'run-1', task: 'mnist', round: 1 }]);
      store.setRoundEvaluation('run-1', 1, 0.91, 0.2);
      expect(store.pendingEvaluations()).toEqual([]);
      expect(store.run('run-1')!.rounds[0]).toMatchObject({ accuracy: 0.91, loss: 0.2, evaluation: 'done' });
    });

    it("attributes clients' scores to the model they scored: round 0 to the run, round r to round r", () => {
      store.createRun('run-1', xray, 1000, weights(1));
      store.completeRound(completedRound('run-1', 1, { task: 'chest-xray', evaluation: 'none' }));
      expect(store.run('run-1')!.rounds[0]).toMatchObject({ accuracy: null, evaluation: 'none' });
      store.setClientTest('run-1', 0, { samples: 20, accuracy: 0.5 });
      store.setClientTest('run-1', 1, { samples: 20, accuracy: 0.8, loss: 0.4, auc: 0.9 });
      const run = store.run('run-1')!;
      expect(run.initialTest).toEqual({ samples: 20, accuracy: 0.5 });
      expect(run.rounds[0]).toMatchObject({ accuracy: 0.8, loss: 0.4, clientTest: { samples: 20, accuracy: 0.8, loss: 0.4, auc: 0.9 }, evaluation: 'done' });
    });

    it('keeps the checkpoints of the last K rounds only, and every round its weights hash', () => {
      const small = new HubStore(dir, { keepCheckpoints: 2 });
      try {
        small.createRun('run-k', mnist, 1000, weights(1));
        const hashes = [1, 2, 3, 4].map((r) => small.completeRound(completedRound('run-k', r)).sha256);
        expect([0, 1, 2, 3, 4].map((r) => small.checkpoint('run-k', r) !== null)).toEqual([false, false, false, true, true]);
        expect(small.run('run-k')!.rounds.map((r) => r.weightsHash)).toEqual(hashes);
        expect(small.latestCheckpoint('mnist')!.round).toBe(4);
      } finally {
        small.close();
      }
    });

    it('lists rounds in round order', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.completeRound(completedRound('run-1', 2));
      store.completeRound(completedRound('run-1', 1));
      store.failRound('run-1', 3, 'deadline', 60_000, 20_000);
      expect(store.run('run-1')!.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    });

    it('leaves no partial rows when the round number is a duplicate (one transaction)', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.completeRound(completedRound('run-1', 1));
      const before = { checkpoints: count(store, 'checkpoints'), rounds: count(store, 'rounds'), participation: count(store, 'participation') };
      expect(() => store.completeRound(completedRound('run-1', 1, { weights: weights(99), participants: [participant('z', 5)] }))).toThrow();
      expect(count(store, 'checkpoints')).toBe(before.checkpoints);
      expect(count(store, 'rounds')).toBe(before.rounds);
      expect(count(store, 'participation')).toBe(before.participation);
      expect(store.participation('run-1', 1).map((p) => p.clientId)).toEqual(['a', 'b']);
      expect(bits(store.latestCheckpoint('mnist')!.values)).toEqual(bits(weights(10).values));
    });

    it('rolls back the checkpoint and round when a participation row fails late in the transaction', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      const dup = completedRound('run-1', 1, { participants: [participant('a', 1), participant('a', 2)] });
      expect(() => store.completeRound(dup)).toThrow();
      expect(store.checkpoint('run-1', 1)).toBeNull();
      expect(store.run('run-1')!.rounds).toEqual([]);
      expect(count(store, 'participation')).toBe(0);
      expect(store.latestCheckpoint('mnist')).toBeNull();
      expect(store.checkpoint('run-1', 0)).not.toBeNull();
      // The same round can be stored afterwards.
      store.completeRound(completedRound('run-1', 1));
      expect(store.run('run-1')!.rounds).toHaveLength(1);
    });

    it('rolls back the checkpoint when the run does not exist (foreign key)', () => {
      expect(() => store.completeRound(completedRound('no-such-run', 1))).toThrow();
      expect(count(store, 'checkpoints')).toBe(0);
      expect(store.latestCheckpoint('mnist')).toBeNull();
    });
  });

  describe('checkpoints', () => {
    it('round-trips float32 values bit-exact, including -0, denormals, extremes and NaN payloads', () => {
      const raw = [0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00123];
      const values = new Float32Array(new Uint32Array(raw).buffer);
      store.createRun('run-1', mnist, 1000, { shapes: [[3, 3]], values });
      const back = store.checkpoint('run-1', 0)!;
      expect(bits(back.values)).toEqual(raw);
      expect(back.sha256).toBe(hashWeights(values));
    });

    it('stores a Float32Array view at an offset into a larger buffer without its neighbours', () => {
      const backing = Float32Array.from({ length: 20 }, (_, i) => i);
      const view = backing.subarray(4, 13);
      store.createRun('run-1', mnist, 1000, { shapes: SHAPES, values: view });
      const back = store.checkpoint('run-1', 0)!;
      expect(Array.from(back.values)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(back.sha256).toBe(hashWeights(Float32Array.from(view)));
    });

    it('returns the newest checkpoint of the task across runs, ignoring other tasks', () => {
      expect(store.latestCheckpoint('mnist')).toBeNull();
      store.createRun('run-1', mnist, 1000, weights(1));
      store.completeRound(completedRound('run-1', 1));
      store.completeRound(completedRound('run-1', 2));
      store.createRun('run-x', xray, 3000, weights(500));
      store.createRun('run-2', mnist, 4000, weights(7));
      store.completeRound(completedRound('run-2', 1, { weights: weights(42) }));
      store.completeRound({ ...completedRound('run-x', 1, { weights: weights(600) }), task: 'chest-xray' });

      const latest = store.latestCheckpoint('mnist')!;
      expect(latest).toMatchObject({ runId: 'run-2', round: 1, task: 'mnist' });
      expect(bits(latest.values)).toEqual(bits(weights(42).values));
      expect(store.latestCheckpoint('chest-xray')).toMatchObject({ runId: 'run-x', round: 1 });
      // A newer run's round-0 checkpoint (its initial weights) is not a trained model: it does not count.
      store.createRun('run-3', mnist, 9000, weights(77));
      expect(store.latestCheckpoint('mnist')).toMatchObject({ runId: 'run-2', round: 1 });
    });

    it('has no latest checkpoint for a task whose runs never completed a round', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.failRound('run-1', 1, 'deadline', 60_000, 61_000);
      expect(store.latestCheckpoint('mnist')).toBeNull();
      expect(store.checkpoint('run-1', 0)).not.toBeNull();
    });

    it('returns null for a checkpoint that does not exist', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      expect(store.checkpoint('run-1', 1)).toBeNull();
      expect(store.checkpoint('run-0', 0)).toBeNull();
    });

    it('hashWeights is a sha256 of the raw little-endian bytes and differs for a one-bit change', () => {
      const a = Float32Array.of(1, 2, 3);
      const b = Float32Array.of(1, 2, 3);
      new Uint32Array(b.buffer)[2]! ^= 1;
      expect(hashWeights(a)).toBe(hashWeights(Float32Array.of(1, 2, 3)));
      expect(hashWeights(a)).not.toBe(hashWeights(b));
      // sha256 of the 12 bytes 00 00 80 3f 00 00 00 40 00 00 40 40
      expect(hashWeights(a)).toBe(createHash('sha256').update(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40])).digest('hex'));
    });
  });

  describe('failRound and finishRun', () => {
    it('records a failed round with its reason and no weights hash', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.failRound('run-1', 1, 'round 1: 0 of the 2 required updates arrived', 60_000.6, 61_000);
      expect(store.run('run-1')!.rounds).toHaveLength(1);
      expect(store.run('run-1')!.rounds).toMatchObject([
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
          weightsHash: null,
        },
      ]);
      expect(store.participation('run-1', 1)).toEqual([]);
    });

    it('finishes a run with status, reason and end time, and drops it from the running list', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.createRun('run-2', mnist, 2000, weights(2));
      store.finishRun('run-1', 'failed', 'round 1: deadline', 5000);
      expect(store.run('run-1')).toMatchObject({ status: 'failed', reason: 'round 1: deadline', endedAt: 5000 });
      expect(store.runsWithStatus('running')).toEqual(['run-2']);
      expect(store.runsWithStatus('failed')).toEqual(['run-1']);
      store.finishRun('run-2', 'completed', null, 6000);
      expect(store.run('run-2')).toMatchObject({ status: 'completed', reason: null, endedAt: 6000 });
      store.finishRun('run-2', 'stopped', 'stopped by the operator', 7000);
      expect(store.runsWithStatus('stopped')).toEqual(['run-2']);
    });

    it('returns null for an unknown run', () => {
      expect(store.run('nope')).toBeNull();
    });
  });

  describe('runs()', () => {
    it('lists runs newest first, breaking equal timestamps by insertion order, and honours the limit', () => {
      store.createRun('old', mnist, 1000, weights(1));
      store.createRun('newest', xray, 3000, weights(2));
      store.createRun('mid-a', mnist, 2000, weights(3));
      store.createRun('mid-b', mnist, 2000, weights(4));
      expect(store.runs().map((r) => r.id)).toEqual(['newest', 'mid-b', 'mid-a', 'old']);
      expect(store.runs(2).map((r) => r.id)).toEqual(['newest', 'mid-b']);
      expect(store.runs()[0]!.settings).toEqual(xray);
    });

    it('includes each run’s rounds', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      store.completeRound(completedRound('run-1', 1));
      store.createRun('run-2', mnist, 2000, weights(1));
      const [second, first] = store.runs();
      expect(second!.rounds).toEqual([]);
      expect(first!.rounds.map((r) => r.round)).toEqual([1]);
    });
  });

  describe('persistence', () => {
    it('keeps runs, rounds, participation and checkpoints after closing and reopening the same directory', () => {
      store.createRun('run-1', mnist, 1000, weights(1));
      const round = completedRound('run-1', 1);
      store.completeRound(round);
      store.failRound('run-1', 2, 'deadline', 60_000, 70_000);
      store.finishRun('run-1', 'failed', 'round 2: deadline', 70_001);
      const before = { runs: store.runs(), participation: store.participation('run-1', 1) };
      store.close();

      store = new HubStore(dir);
      expect(store.runs()).toEqual(before.runs);
      expect(store.participation('run-1', 1)).toEqual(before.participation);
      const latest = store.latestCheckpoint('mnist')!;
      expect(latest.round).toBe(1);
      expect(bits(latest.values)).toEqual(bits(round.weights.values));
      expect(hashWeights(latest.values)).toBe(before.runs[0]!.rounds[0]!.weightsHash);
      // And keeps working: new rows go after the old ones.
      store.createRun('run-2', mnist, 80_000, weights(5));
      store.completeRound(completedRound('run-2', 1, { weights: weights(6) }));
      expect(store.latestCheckpoint('mnist')).toMatchObject({ runId: 'run-2', round: 1 });
      expect(store.runs().map((r) => r.id)).toEqual(['run-2', 'run-1']);
    });

    it('creates the data directory when it does not exist', () => {
      const nested = join(dir, 'a', 'b');
      const other = new HubStore(nested);
      try {
        other.createRun('run-1', mnist, 1, weights(1));
        expect(other.run('run-1')).not.toBeNull();
      } finally {
        other.close();
      }
    });
  });
});
