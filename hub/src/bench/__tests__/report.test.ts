import { describe, expect, it } from 'vitest';
import { ANALYSIS_END, ANALYSIS_START, extractAnalysis, renderReport, type BenchResults } from '../report';
import type { RoundBreakdown } from '../training-bench';
import type { SecAggResults, SecAggRoundTime } from '../secagg-bench';

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

function secureRound(clients: number, plainMs: number, secureMs: number, parts: { keysMs: number; sharesMs: number; maskMs: number; clientCpu: number }): SecAggRoundTime {
  return {
    clients,
    delayMs: 2000,
    rounds: 2,
    degree: 9,
    threshold: 6,
    plainMs,
    secureMs,
    ratio: secureMs / plainMs,
    secure: {
      durationMs: secureMs,
      keysMs: parts.keysMs,
      sharesMs: parts.sharesMs,
      trainStageMs: 2100,
      revealMs: 11,
      finishMs: 13,
      restMs: secureMs - parts.keysMs - parts.sharesMs - 2100 - 11 - 13,
      client: { keygenMs: 20, sharesMs: 70, openMs: 50, maskMs: parts.maskMs, revealMs: 0.1 },
    },
    clientCpuMs: { plain: 40, secure: parts.clientCpu },
    hubCpuMs: { plain: 300, secure: 350 },
  };
}

function secagg(roundTime: SecAggRoundTime[], maskedFrame: number): SecAggResults {
  const mnist = { params: 6000, secure: [{ event: 'secagg:masked', envelopeBytes: 150, frameBytes: 24_008 }], plain: [{ event: 'update:submit', envelopeBytes: 160, frameBytes: 24_080 }], ratio: 24_158 / 24_240 };
  const cnnSecure = [{ event: 'secagg:keys', envelopeBytes: 97, frameBytes: 64 }, { event: 'secagg:masked', envelopeBytes: 150, frameBytes: maskedFrame }];
  const cnnPlain = [{ event: 'update:submit', envelopeBytes: 160, frameBytes: 6_653_572 }];
  const total = (m: { envelopeBytes: number; frameBytes: number }[]) => m.reduce((a, x) => a + x.envelopeBytes + x.frameBytes, 0);
  return {
    date: base.date,
    quick: false,
    roundTime,
    bytes: { clients: 10, mnist, cnn: { params: 1_663_370, secure: cnnSecure, plain: cnnPlain, ratio: total(cnnSecure) / total(cnnPlain) } },
    cpu: {
      params: 1_663_370,
      clients: 10,
      samples: 10,
      maskMs: 500,
      encodeMs: 5,
      ratio: 100,
      keygenMs: 0.5,
      sharesMs: 5,
      openMs: 5,
      revealMs: 0.05,
      hubFinishMs: 550,
      parts: { fixedMs: 60, prgMs: 11, addMs: 8, masksPerClient: 10 },
      maskWallMs: 510,
      encodeWallMs: 5,
    },
  };
}

describe('the secure aggregation lines of the benchmark report', () => {
  const missedA: BenchResults = { ...base, secagg: secagg([secureRound(10, 2000, 3200, { keysMs: 400, sharesMs: 300, maskMs: 90, clientCpu: 900 }), secureRound(100, 2100, 4500, { keysMs: 700, sharesMs: 900, maskMs: 400, clientCpu: 5000 })], 8_000_000) };
  const missedB: BenchResults = { ...base, secagg: secagg([secureRound(10, 2000, 3100, { keysMs: 555, sharesMs: 222, maskMs: 77, clientCpu: 800 }), secureRound(100, 2000, 4400, { keysMs: 800, sharesMs: 1000, maskMs: 333, clientCpu: 6000 })], 8_100_000) };

  it('explains a missed secure round time with that run\'s stage and CPU figures', () => {
    const a = explanations(missedA);
    const b = explanations(missedB);
    expect(a).toContain('**secureVsPlainRound 10 clients 1.600**');
    expect(a).toContain('secure 3200 ms against plain 2000 ms per round');
    expect(a).toMatch(/keys 400, shares 300, training stage 2100/);
    expect(a).toContain('masking 90 ms');
    expect(a).toContain('spent 900 ms of CPU per secure round against 40 ms plain (86 ms more per client');
    expect(a).toContain('**secureVsPlainRound 100 clients 2.143**');
    expect(b).toMatch(/keys 555, shares 222, training stage 2100/);
    expect(b).toContain('spent 6000 ms of CPU per secure round');
    expect(a).not.toBe(b);
    // Bytes: 8.0M-byte masked frames against a 6.65M plain frame miss <= 1.15, with each message's bytes.
    expect(a).toMatch(/\*\*secureVsPlainBytes 1\.20\d\d\*\*: .*secagg:masked 150 \+ 8000000/);
    expect(b).toContain('secagg:masked 150 + 8100000');
  });

  const met = (): BenchResults => ({ ...base, secagg: secagg([secureRound(10, 2000, 2400, { keysMs: 150, sharesMs: 90, maskMs: 60, clientCpu: 300 })], 6_653_492) });

  it('gives no explanation for a secure figure that met its target, yet shows its breakdown', () => {
    expect(explanations(met())).toContain('Every target with a value was met in this run.');
    const { markdown } = renderReport(met());
    expect(markdown).toContain('| secureVsPlainRound, 10 clients | 1.200 | <= 1.5 | met |');
    expect(markdown).toContain('| 10 | 9 / 6 | 2000 | 2400 | 1.200 | 150 | 90 | 2100 (2000) | 11 | 13 | 36 |');
    // 100 clients were not measured: the target is shown as such, not as met.
    expect(markdown).toContain('| secureVsPlainRound, 100 clients | n/a | <= 2.0 | not measured |');
    expect(markdown).toMatch(/\| secureVsPlainBytes, 1\.66M-parameter CNN \| 1\.0000 \| <= 1\.15 \| met \|/);
    expect(markdown).toContain('| secureMaskVsEncode, 1.66M parameters (client CPU) | 100.0 | (no target) |  |');
    // The parts of maskedInput and what is left of it: 500 - 60 - 10 x (11 + 8) = 250.
    expect(markdown).toContain('| &nbsp;&nbsp;the rest, not split further (key agreements, building the frame, memory) | 250.0 |');
  });

  it('says where the secure figures came from when they were measured apart from the rest', () => {
    const apart: BenchResults = { ...base, secagg: { ...secagg([secureRound(10, 2000, 2400, { keysMs: 150, sharesMs: 90, maskMs: 60, clientCpu: 300 })], 6_653_492), date: '2026-12-02T08:00:00.000Z', quick: true, alone: true } };
    const { markdown } = renderReport(apart);
    expect(markdown).toContain('Measured on 2026-12-02 by the secure aggregation section alone (`--only secagg`), not in the run above, reduced (--quick');
    expect(renderReport(met()).markdown).toContain('Measured on 2026-12-01 in the run above:');
    expect(renderReport({ ...base }).markdown).toContain('## Secure aggregation vs plain\n\nNot measured in this run.');
  });

  it('says when and how the capacity ladder was measured, and nothing for results that do not say', () => {
    const alone = renderReport({ ...base, capacityRun: { date: '2026-12-04T20:10:00.000Z', alone: true, durationSec: 640 } }).markdown;
    expect(alone).toContain('## Capacity steps\n\nMeasured on 2026-12-04 by the capacity section alone (`--only capacity`, with the round overheads above), not in the run above; the ladder took 640 s.\n\n| clients |');
    const inRun = renderReport({ ...base, capacityRun: { date: '2026-12-01T10:00:00.000Z', alone: false, durationSec: 700 } }).markdown;
    expect(inRun).toContain('Measured on 2026-12-01 in the run above; the ladder took 700 s.');
    expect(renderReport({ ...base }).markdown).toContain('## Capacity steps\n\n| clients |');
  });
});
