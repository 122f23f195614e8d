import { describe, expect, it } from 'vitest';
import type { RoundRecord, RunDetail } from '@fl/shared/api';
import { TASK_DEFAULTS } from '@fl/shared/settings';
import { roundRecord } from './support/run-fixtures';
import { chartRows, dpRuns, epsilonAxis, lossAxis, pointCount, roundAxis, runLineStyle, seriesKey, shareAxis } from '../chart-data';

const record = roundRecord;

function run(id: string, rounds: RoundRecord[], planned = rounds.length): RunDetail {
  return { id, task: 'mnist', status: 'completed', settings: { task: 'mnist', rounds: planned, seed: 1, ...TASK_DEFAULTS.mnist }, createdAt: 0, endedAt: 1, reason: null, initialTest: null, rounds };
}

describe('roundAxis', () => {
  it('centres a single round', () => {
    expect(roundAxis(1)).toEqual({ domain: [0.5, 1.5], ticks: [1] });
  });

  it('starts at round 0 when the starting model is drawn, and always labels it', () => {
    expect(roundAxis(2, 8, 0)).toEqual({ domain: [0, 2], ticks: [0, 1, 2] });
    expect(roundAxis(100, 8, 0)).toEqual({ domain: [0, 100], ticks: [0, 20, 40, 60, 80, 100] });
  });

  it('labels every round of a short run', () => {
    expect(roundAxis(3).ticks).toEqual([1, 2, 3]);
  });

  it('keeps a 100-round axis to a handful of round-number ticks', () => {
    expect(roundAxis(100)).toEqual({ domain: [1, 100], ticks: [1, 20, 40, 60, 80, 100] });
  });
});

describe('chartRows', () => {
  it('leaves a gap for a failed round instead of a zero', () => {
    const a = run('a', [record(1), record(2, { status: 'failed', accuracy: null, loss: null })]);
    const rows = chartRows([{ run: a, label: 'Run 1', color: '#000', primary: true }]);
    expect(rows).toHaveLength(2);
    expect(rows[1]![seriesKey('accuracy', 'a')]).toBeUndefined();
    expect(pointCount(a)).toBe(1);
  });

  it('puts overlaid runs of different lengths on the same rounds', () => {
    const rows = chartRows([
      { run: run('a', [record(1, { accuracy: 0.8 })]), label: 'Run 1', color: '#000', primary: true },
      { run: run('b', [record(1, { accuracy: 0.6 }), record(2, { accuracy: 0.7 })]), label: 'Run 2', color: '#111', primary: false },
    ]);
    expect(rows.map((r) => [r[seriesKey('accuracy', 'a')], r[seriesKey('accuracy', 'b')]])).toEqual([
      [0.8, 0.6],
      [undefined, 0.7],
    ]);
  });
});

describe('chartRows for a chest X-ray run', () => {
  const test = (accuracy: number) => ({ samples: 80, accuracy, loss: 1 - accuracy, sensitivity: accuracy, auc: accuracy });
  const chest = (initial: boolean): RunDetail => ({
    ...run('c', [record(1, { accuracy: 0.7, loss: 0.3, clientTest: test(0.7) }), record(2, { accuracy: 0.95, loss: 0.05, clientTest: test(0.95) })]),
    initialTest: initial ? test(0.5) : null,
  });

  it("draws the clients' score of the starting model as round 0, then each round's model", () => {
    const runs = [{ run: chest(true), label: 'Run 1', color: '#000', primary: true }];
    const rows = chartRows(runs);
    expect(rows.map((r) => [r.round, r[seriesKey('accuracy', 'c')], r[seriesKey('loss', 'c')], r[seriesKey('auc', 'c')]])).toEqual([
      [0, 0.5, 0.5, 0.5],
      [1, 0.7, 0.3, 0.7],
      [2, 0.95, 0.05, 0.95],
    ]);
    expect(pointCount(chest(true))).toBe(3);
  });

  it('starts at round 1 when no run has a starting score', () => {
    const rows = chartRows([{ run: chest(false), label: 'Run 1', color: '#000', primary: true }]);
    expect(rows.map((r) => r.round)).toEqual([1, 2]);
    expect(pointCount(chest(false))).toBe(2);
  });

  it('leaves an overlaid MNIST run a gap at round 0', () => {
    const rows = chartRows([
      { run: chest(true), label: 'Run 1', color: '#000', primary: true },
      { run: run('m', [record(1, { accuracy: 0.9 })]), label: 'Run 2', color: '#111', primary: false },
    ]);
    expect(rows.map((r) => r[seriesKey('accuracy', 'm')])).toEqual([undefined, 0.9, undefined]);
  });
});

describe('lossAxis', () => {
  it('rounds the top up to a step of 1, 2, 2.5 or 5 and labels with the decimals the step needs', () => {
    const rows = [{ round: 1, 'loss:a': 0.55 }];
    expect(lossAxis(rows, ['loss:a'])).toEqual({ domain: [0, 0.6], ticks: [0, 0.2, 0.4, 0.6], digits: 1 });
    expect(lossAxis([{ round: 1, 'loss:a': 1.7 }], ['loss:a'])).toEqual({ domain: [0, 2], ticks: [0, 0.5, 1, 1.5, 2], digits: 1 });
  });
});

describe('shareAxis', () => {
  const rows = (values: number[]) => values.map((v, i) => ({ round: i + 1, 'accuracy:a': v }));
  const spanShare = (values: number[]) => {
    const { domain } = shareAxis(rows(values), ['accuracy:a']);
    return (Math.max(...values) - Math.min(...values)) / (domain[1] - domain[0]);
  };

  it('fits 95% -> 97% so the rise fills at least half the plot, with every value inside the axis', () => {
    const axis = shareAxis(rows([0.95, 0.96, 0.97]), ['accuracy:a']);
    expect(axis.domain[0]).toBeLessThan(0.95);
    expect(axis.domain[1]).toBeGreaterThan(0.97);
    expect(spanShare([0.95, 0.96, 0.97])).toBeGreaterThanOrEqual(0.5);
    expect(axis).toEqual({ domain: [0.94, 0.98], ticks: [0.94, 0.95, 0.96, 0.97, 0.98], digits: 0 });
  });

  it('labels steps of 25% without decimals, so 100% fits the axis', () => {
    expect(shareAxis(rows([0, 0.4, 1]), ['accuracy:a'])).toEqual({ domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1], digits: 0 });
  });

  it('never leaves 0..100% and labels steps of 2.5% with a decimal', () => {
    expect(shareAxis(rows([0.1, 0.99]), ['accuracy:a']).domain).toEqual([0, 1]);
    expect(shareAxis(rows([0.981, 0.985]), ['accuracy:a']).domain[1]).toBe(1);
    const fine = shareAxis(rows([0.8, 0.875]), ['accuracy:a']);
    expect(fine.digits).toBe(1);
    const steps = fine.ticks.slice(1).map((t, i) => Number((t - fine.ticks[i]!).toFixed(9)));
    expect(new Set(steps).size).toBe(1);
  });

  it('gives a single value a few points of room instead of a zero-height axis, and no data the whole range', () => {
    const one = shareAxis(rows([0.5]), ['accuracy:a']);
    expect(one.domain[0]).toBeLessThan(0.5);
    expect(one.domain[1]).toBeGreaterThan(0.5);
    expect(one.domain[1] - one.domain[0]).toBeLessThan(0.1);
    expect(shareAxis([], ['accuracy:a']).domain).toEqual([0, 1]);
  });
});

describe('runLineStyle', () => {
  it('draws compared runs with different dash patterns and markers, not only colours', () => {
    const [a, b, c] = [0, 1, 2].map(runLineStyle);
    expect(new Set([a, b, c].map((s) => s!.accuracyDash)).size).toBe(3);
    expect(new Set([a, b, c].map((s) => s!.marker)).size).toBe(3);
    expect(new Set([a, b, c].map((s) => s!.lossDash)).size).toBe(3);
  });
});

describe('epsilon in the chart rows', () => {
  const dp = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5, targetEpsilon: 3, noise: 'central' as const };
  const dpRun = (id: string, rounds: RoundRecord[]): RunDetail => ({ ...run(id, rounds, 3), settings: { ...run(id, rounds, 3).settings, dp } });

  it('draws a DP run\'s cumulative epsilon per round, and a gap where a failed round spent nothing', () => {
    const a = dpRun('a', [record(1, { epsilon: 0.8 }), record(2, { status: 'failed', accuracy: null, loss: null }), record(3, { epsilon: 1.3 })]);
    const rows = chartRows([{ run: a, label: 'Run 1', color: '#000', primary: true }]);
    expect(rows.map((r) => r[seriesKey('epsilon', 'a')])).toEqual([0.8, undefined, 1.3]);
    expect(dpRuns([{ run: a, label: 'Run 1', color: '#000', primary: true }])).toHaveLength(1);
  });

  it('draws no epsilon for a run without DP, next to one with it', () => {
    const plain = run('b', [record(1, { epsilon: null })]);
    const runs = [
      { run: dpRun('a', [record(1, { epsilon: 0.8 })]), label: 'Run 1', color: '#000', primary: true },
      { run: plain, label: 'Run 2', color: '#111', primary: false },
    ];
    const rows = chartRows(runs);
    expect(rows[0]![seriesKey('epsilon', 'a')]).toBe(0.8);
    expect(seriesKey('epsilon', 'b') in rows[0]!).toBe(false);
    expect(dpRuns(runs).map((r) => r.run.id)).toEqual(['a']);
  });

  it('reaches the target on the epsilon axis even while the spend is far below it', () => {
    const rows = chartRows([{ run: dpRun('a', [record(1, { epsilon: 0.4 })]), label: 'Run 1', color: '#000', primary: true }]);
    expect(epsilonAxis(rows, [seriesKey('epsilon', 'a')], [3])).toEqual({ domain: [0, 4], ticks: [0, 1, 2, 3, 4], digits: 0 });
    expect(epsilonAxis(rows, [seriesKey('epsilon', 'a')], []).domain).toEqual([0, 0.4]);
  });
});
