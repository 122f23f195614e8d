import { describe, expect, it } from 'vitest';
import type { FoldPlace, FoldStallResults } from '../fold-bench';
import { FOLD_STALL_TARGET_MS, foldStallMeaning, foldStallRows } from '../fold-report';
import { renderReport, type BenchResults } from '../report';

const place = (stall: number, commit: number): FoldPlace => ({
  stallMs: Math.max(stall, commit),
  stallWhileFoldingMs: stall,
  stallToCommitMs: commit,
  roundMs: 12_000,
  longestGcMs: 12,
  runQueueWaitMs: 300,
});

const results = (worker: number, updates = 1000): FoldStallResults => ({
  params: 1_663_370,
  updates,
  burst: 20,
  trials: 3,
  eventLoop: place(400, 45),
  worker: place(worker, 44),
  throughputMBs: { eventLoop: 650, worker: 800 },
});

describe('fold stall report', () => {
  it('meets the target below 50 ms of stall while folding, whatever the commit took, and misses it at 50', () => {
    expect(foldStallRows(results(FOLD_STALL_TARGET_MS - 1))[0]).toEqual(['eventLoopStallMs1000', '49.0', '< 50', 'met']);
    expect(foldStallRows(results(FOLD_STALL_TARGET_MS))[0]![3]).toBe('**missed**');
    expect(foldStallRows(results(20)).slice(1).map((r) => r[1])).toEqual(['400.0', '44.0', '800 / 650']);
  });

  it('names a --quick round by its size, and says when the section was not measured', () => {
    expect(foldStallRows(results(20, 200))[0]![0]).toBe('eventLoopStallMs (200 updates: --quick size)');
    expect(foldStallRows(undefined)[0]).toEqual(['eventLoopStallMs1000', 'n/a', '< 50', 'not measured']);
    expect(foldStallMeaning(undefined)).toContain('--only folds');
    expect(foldStallMeaning(results(20))).toContain('bursts of 20');
  });

  it('puts the rows in the bench table and the meaning in BENCHMARKS.md', () => {
    const r: BenchResults = { date: '2026-12-02T10:00:00.000Z', quick: false, machine: { cpus: 2, cpu: 'test cpu', memoryGiB: 8, node: 'v20' }, mnistParams: 6000, foldStall: results(30) };
    const { table, markdown } = renderReport(r);
    expect(table).toMatch(/eventLoopStallMs1000\s+30\.0\s+< 50\s+met/);
    expect(markdown).toContain('| eventLoopStallMs1000 | 30.0 | < 50 | met |');
    expect(markdown).toContain('- **eventLoopStallMs1000**: the hub');
  });
});
