import { describe, expect, it } from 'vitest';
import { ANALYSIS_END, ANALYSIS_START, extractAnalysis, renderReport, type BenchResults } from '../report';
import type { RoundBreakdown } from '../training-bench';

const base: BenchResults = {
  date: '2026-12-01T10:00:00.000Z',
  quick: true,
  machine: { cpus: 2, cpu: 'test cpu', memoryGiB: 8, node: 'v20' },
  mnistParams: 6000,
};

function round(n: number, parts: Partial<RoundBreakdown>): RoundBreakdown {
  return {
    round: n,
    durationMs: 1000,
    slowestTrainMs: 900,
    hubEncodeMs: 1,
    sendMs: 2,
    clientDecodeMs: 3,
    clientTrainMs: 900,
    clientEncodeMs: 4,
    uploadMs: 5,
    hubFoldMs: 6,
    commitMs: 7,
    evaluateMs: 8,
    meanClientDecodeMs: 9,
    meanClientEncodeMs: 10,
    ...parts,
  };
}

/** Two runs that missed the same targets by different amounts, for different measured reasons. */
const runA: BenchResults = {
  ...base,
  aggregationVsMemcpy: 0.2,
  aggregation: { params: 1000, updates: 10, aggregateMs: 50, memcpyMs: 10 },
  wireRatio: { float32: 1.01, float16: 0.52, int8: 0.27 },
  wireOverhead: {
    float16: { envelopeBytes: 150, frameBytes: 12_080, valueBytes: 12_000 },
    int8: { envelopeBytes: 151, frameBytes: 6_090, valueBytes: 6_000 },
  },
  roundOverhead8: 0.1,
  roundOverhead8Rounds: [round(1, { durationMs: 1000, slowestTrainMs: 900, sendMs: 40, clientDecodeMs: 30 })],
  durability: [
    { task: 'mnist', params: 6000, checkpointBytes: 24_000, rounds: 40, full: { meanMs: 3, medianMs: 3, p95Ms: 5 }, normal: { meanMs: 1, medianMs: 1, p95Ms: 2 } },
  ],
};

const runB: BenchResults = {
  ...base,
  aggregationVsMemcpy: 0.3,
  aggregation: { params: 1000, updates: 10, aggregateMs: 70, memcpyMs: 21 },
  wireRatio: { float32: 1.01, float16: 0.53, int8: 0.29 },
  wireOverhead: {
    float16: { envelopeBytes: 333, frameBytes: 12_444, valueBytes: 12_000 },
    int8: { envelopeBytes: 334, frameBytes: 6_555, valueBytes: 6_000 },
  },
  roundOverhead8: 0.2,
  roundOverhead8Rounds: [round(1, { durationMs: 2222, slowestTrainMs: 1777, sendMs: 123, clientDecodeMs: 234 })],
  durability: [
    { task: 'mnist', params: 6000, checkpointBytes: 24_000, rounds: 40, full: { meanMs: 17, medianMs: 16, p95Ms: 30 }, normal: { meanMs: 2, medianMs: 2, p95Ms: 3 } },
  ],
};

/** The part of the report that explains the misses. */
function explanations(r: BenchResults): string {
  const { markdown } = renderReport(r);
  return markdown.slice(markdown.indexOf('## Where each missed target'), markdown.indexOf('## What each figure means'));
}

describe('the benchmark report', () => {
  it('explains each miss with the figures of its own run, so two runs give two explanations', () => {
    const a = explanations(runA);
    const b = explanations(runB);
    expect(a).not.toBe(b);
    // Wire: the envelope and the frame header measured in each run (150 + 80 and 333 + 444 bytes).
    expect(a).toContain('150 bytes of event envelope + 80 bytes of frame header around 12000 bytes of values');
    expect(b).toContain('333 bytes of event envelope + 444 bytes of frame header around 12000 bytes of values');
    expect(a).toContain('230 fixed bytes');
    expect(b).toContain('777 fixed bytes');
    // Rounds: the measured send and decode times.
    expect(a).toMatch(/1000 ms, slowest training 900 ms.*send 40,.*decode and load 30,/);
    expect(b).toMatch(/2222 ms, slowest training 1777 ms.*send 123,.*decode and load 234,/);
    // Aggregation: per-update fold and copy times of the run.
    expect(a).toContain('took 5.00 ms');
    expect(b).toContain('took 7.00 ms');
    // Durability: FULL's extra cost per round.
    expect(a).toContain('| 2.00 |');
    expect(b).toContain('| 15.00 |');
  });

  it('prints no explanation for a target that was met', () => {
    const met: BenchResults = { ...runA, aggregationVsMemcpy: 0.6, wireRatio: { float32: 1.01, float16: 0.505, int8: 0.255 }, roundOverhead8: 0.01 };
    expect(explanations(met)).toContain('Every target with a value was met in this run.');
  });

  it('carries a hand-written analysis over verbatim and leaves it out of the generated explanations', () => {
    const analysis = `${ANALYSIS_START}\n2026-12-01, by hand: any words, 0.09 and all.\n${ANALYSIS_END}`;
    const first = renderReport(runA, { analysis }).markdown;
    expect(extractAnalysis(first)).toBe(analysis);
    // Regenerating from the previous file keeps the block, with other figures around it.
    const second = renderReport(runB, { analysis: extractAnalysis(first) }).markdown;
    expect(extractAnalysis(second)).toBe(analysis);
    expect(explanations(runB)).not.toContain('by hand');
  });

  it('starts an empty analysis block when the previous file had none', () => {
    const { markdown } = renderReport(runA, { analysis: extractAnalysis('# Benchmarks\nno markers here\n') });
    expect(extractAnalysis(markdown)).toContain('No hand-written analysis yet');
  });
});
