import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings, type FlatWeights } from '@fl/shared';
import { encodeOptimizerState } from '../../aggregation/server-optimizer-state';
import { HubStore, type CompletedRound } from '../store';

// The server optimiser's state in SQLite: a BLOB beside each round's checkpoint.

const settings = resolveSettings({ task: 'mnist', rounds: 5, serverOptimizer: { name: 'fedadam' } });
const weights = (v: number): FlatWeights => ({ shapes: [[3]], values: Float32Array.from([v, v, v]) });
const state = (round: number) =>
  encodeOptimizerState({ name: 'fedadam', step: round, m: Float64Array.from([round, -round, 0.5]), v: Float64Array.from([1, 2, round]) });
const round = (r: number, optimizerState: Uint8Array | null = state(r)): CompletedRound => ({
  runId: 'run',
  task: 'mnist',
  round: r,
  weights: weights(r),
  evaluation: 'none',
  durationMs: 1,
  participants: [],
  at: 100 + r,
  optimizerState,
});

describe('HubStore: server optimiser state', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-store-opt-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the state with the round and hands it back with that checkpoint, not with a new run\'s starting model', () => {
    const store = new HubStore(dir);
    try {
      store.createRun('run', settings, 1, weights(0));
      store.completeRound(round(1));
      store.completeRound(round(2, null));
      expect(store.checkpoint('run', 0)!.optimizerState).toBeNull();
      expect(Array.from(store.checkpoint('run', 1)!.optimizerState!)).toEqual(Array.from(state(1)));
      expect(store.checkpoint('run', 2)!.optimizerState).toBeNull();
      expect(store.latestCheckpoint('mnist')).not.toHaveProperty('optimizerState');
    } finally {
      store.close();
    }
  });

  it('prunes the state with its checkpoint', () => {
    const store = new HubStore(dir, { keepCheckpoints: 2 });
    try {
      store.createRun('run', settings, 1, weights(0));
      for (const r of [1, 2, 3, 4]) store.completeRound(round(r));
      expect(store.checkpoint('run', 2)).toBeNull();
      const kept = store.db.prepare('SELECT round FROM checkpoints WHERE optimizer_state IS NOT NULL ORDER BY round').all();
      expect(kept).toEqual([{ round: 3 }, { round: 4 }]);
    } finally {
      store.close();
    }
  });

  it('adds the column to a database from before it, whose checkpoints read as holding no state', () => {
    const old = new Database(join(dir, 'hub.sqlite'));
    old.exec(`CREATE TABLE checkpoints (
      id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL, run_id TEXT NOT NULL, round INTEGER NOT NULL,
      shapes TEXT NOT NULL, weights BLOB NOT NULL, sha256 TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (run_id, round))`);
    old.prepare('INSERT INTO checkpoints (task, run_id, round, shapes, weights, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run('mnist', 'old', 1, '[[1]]', Buffer.alloc(4), 'x', 1);
    old.close();
    const store = new HubStore(dir);
    try {
      expect(store.checkpoint('old', 1)).toMatchObject({ round: 1, optimizerState: null });
      store.createRun('run', settings, 1, weights(0));
      store.completeRound(round(1));
      expect(Array.from(store.checkpoint('run', 1)!.optimizerState!)).toEqual(Array.from(state(1)));
    } finally {
      store.close();
    }
  });
});
