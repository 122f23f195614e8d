import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubStore } from '../store';

// PRAGMA synchronous reads back as a number: 1 NORMAL, 2 FULL.
const LEVEL = { NORMAL: 1, FULL: 2 } as const;

describe('the store\'s SQLite durability setting', () => {
  const dirs: string[] = [];
  const open = (options?: ConstructorParameters<typeof HubStore>[1]) => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-store-sync-'));
    dirs.push(dir);
    return new HubStore(dir, options);
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('fsyncs every commit (synchronous=FULL, WAL) unless told otherwise', () => {
    const store = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(LEVEL.FULL);
    store.close();
  });

  it.each(['FULL', 'NORMAL'] as const)('takes synchronous=%s from its options', (synchronous) => {
    const store = open({ synchronous });
    expect(store.db.pragma('synchronous', { simple: true })).toBe(LEVEL[synchronous]);
    store.close();
  });
});
