import { describe, expect, it } from 'vitest';
import { MIN_SHARD_SAMPLES, ShardBook } from '../shard-book';

const labels = Uint8Array.from({ length: 800 }, (_, i) => i % 10);
const settings = { partition: 'iid', seed: 7, dirichletAlpha: 0.5 } as const;
const ids = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);

describe('ShardBook', () => {
  it('splits the digits into disjoint shards while there are enough of them', () => {
    const book = new ShardBook(labels);
    const sizes = book.assign('run', ids(8), settings)!;
    expect(Object.values(sizes)).toEqual(new Array(8).fill(100));
    const rows = ids(8).flatMap((id) => [...book.shard(id)!]);
    expect(new Set(rows).size).toBe(800);
    expect(book.assign('run', ids(8), settings)).toBeNull();
  });

  it('with more clients than shards of MIN_SHARD_SAMPLES, clients share parts in turn and none is empty', () => {
    const book = new ShardBook(labels);
    const owners = ids(1000); // 800 digits: at most 100 parts of 8
    for (const partition of ['iid', 'by-label', 'dirichlet'] as const) {
      const sizes = book.assign(`run-${partition}`, owners, { ...settings, partition })!;
      expect(Math.min(...Object.values(sizes))).toBeGreaterThan(0);
      const parts = labels.length / MIN_SHARD_SAMPLES;
      // Owner i and owner i + parts train on the same part; the parts together hold every digit once.
      expect(book.shard('c3')).toBe(book.shard(`c${3 + parts}`));
      const distinct = new Set(owners.map((id) => book.shard(id)));
      expect(distinct.size).toBe(parts);
      expect([...distinct].reduce((n, part) => n + part!.length, 0)).toBe(labels.length);
      expect(book.labelsOf('c3')!.reduce((a, b) => a + b, 0)).toBe(book.shard('c3')!.length);
    }
  });
});
