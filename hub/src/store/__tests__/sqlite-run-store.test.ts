import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSettings, type FlatWeights } from '@fl/shared';
import { SqliteRunStore } from '../sqlite-run-store';

// The async adapter over HubStore: a failing statement rejects (never throws synchronously) and rolls back.

const mnist = resolveSettings({ task: 'mnist', rounds: 3 });
const weights = (v: number): FlatWeights => ({ shapes: [[2]], values: Float32Array.of(v, -v) });

describe('SqliteRunStore', () => {
  let dir: string;
  let ids: number;
  const open = () => SqliteRunStore.open(dir, { newId: () => `client-${++ids}`, now: () => 1000 });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-sqlite-port-'));
    ids = 0;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a duplicate run id as a promise and keeps the first run and checkpoint', async () => {
    const store = open();
    try {
      await store.createRun('run-1', mnist, 1, weights(1));
      let thrownSynchronously = false;
      let pending: Promise<unknown> | undefined;
      try {
        pending = store.createRun('run-1', mnist, 2, weights(2));
      } catch {
        thrownSynchronously = true;
      }
      expect(thrownSynchronously).toBe(false);
      await expect(pending).rejects.toThrow(/UNIQUE/);
      expect(Array.from((await store.checkpoint('run-1', 0))!.values)).toEqual([1, -1]);
      expect(await store.runsWithStatus('running')).toEqual(['run-1']);
    } finally {
      await store.close();
    }
  });

  it('issues an identity, reclaims it with its secret after a reopen, and refuses it without', async () => {
    let store = open();
    const issued = await store.claimIdentity(undefined, undefined);
    expect(issued).toMatchObject({ kind: 'issued', clientId: 'client-1' });
    const secret = issued.kind === 'issued' ? issued.secret : '';
    await store.close();

    ids = 0; // a restarted hub's counter starts again
    store = open();
    try {
      expect(await store.claimIdentity('client-1', secret)).toEqual({ kind: 'reclaimed', clientId: 'client-1' });
      expect(await store.claimIdentity('client-1', 'wrong')).toEqual({ kind: 'refused', clientId: 'client-1' });
      expect(await store.claimIdentity('client-1', undefined)).toEqual({ kind: 'refused', clientId: 'client-1' });
      // The counter gives client-1 again, which exists: the fresh id skips it.
      expect(await store.claimIdentity('never-issued', 'x')).toMatchObject({ kind: 'issued', clientId: 'client-2' });
    } finally {
      await store.close();
    }
  });
});
