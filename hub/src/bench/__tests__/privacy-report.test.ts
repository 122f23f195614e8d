import { describe, expect, it } from 'vitest';
import { ANALYSIS_END, ANALYSIS_START, extractAnalysis, renderReport, type BenchResults } from '../report';
import type { PrivacyResults, PrivacyRound, PrivacyRun } from '../privacy-bench';
import { PRIVACY_PLOT_FILE, privacyPlotSvg } from '../privacy-report';

const base: BenchResults = {
  date: '2026-12-01T10:00:00.000Z',
  quick: false,
  machine: { cpus: 2, cpu: 'test cpu', memoryGiB: 8, node: 'v20' },
  mnistParams: 6000,
};

/** A run whose round r scored accuracies[r - 1]; DP runs spend `perRound` epsilon a round and have `atClip` changes at the clip norm. */
function run(noiseMultiplier: number | null, accuracies: number[], options: { perRound?: number; atClip?: number; hubClipped?: number; norm?: number; accountantOff?: number } = {}): PrivacyRun {
  const dp = noiseMultiplier !== null;
  const rounds: PrivacyRound[] = accuracies.map((accuracy, i) => ({
    round: i + 1,
    accuracy,
    loss: 1 - accuracy,
    epsilon: dp ? (options.perRound ?? 1) * (i + 1) : null,
    clipped: dp ? (options.hubClipped ?? 1) : null,
    clippedAtClient: dp ? (options.atClip ?? 4) : null,
    participants: 4,
    population: 20,
    durationMs: 1000,
    changeNorm: { median: options.norm ?? 0.9, min: (options.norm ?? 0.9) - 0.1, max: (options.norm ?? 0.9) + 0.2 },
  }));
  const epsilon = rounds.at(-1)!.epsilon;
  return {
    noiseMultiplier,
    clipNorm: dp ? 0.5 : null,
    epsilon,
    epsilonAccountant: epsilon === null ? null : epsilon + (options.accountantOff ?? 0),
    finalAccuracy: accuracies.at(-1)!,
    rounds,
    wallMs: 12_000,
  };
}

function privacy(runs: PrivacyRun[], extra: Partial<PrivacyResults> = {}): PrivacyResults {
  return {
    date: '2026-12-02T09:00:00.000Z',
    quick: false,
    clients: 20,
    clientsPerRound: 4,
    digitsPerClient: 400,
    rounds: runs[0]!.rounds.length,
    epochs: 2,
    batchSize: 32,
    learningRate: 0.005,
    seed: 1,
    delta: 1e-5,
    clipNorm: 0.5,
    runs,
    durationSec: 123,
    ...extra,
  };
}

/** The generated privacy section of BENCHMARKS.md. */
function section(r: BenchResults): string {
  const { markdown } = renderReport(r);
  return markdown.slice(markdown.indexOf('## Differential privacy'), markdown.indexOf('## Durability'));
}

const resultsA = privacy([run(null, [0.5, 0.8, 0.9]), run(0.5, [0.3, 0.6, 0.85], { perRound: 10, atClip: 4, hubClipped: 1 }), run(1.5, [0.2, 0.4, 0.6], { perRound: 2, atClip: 3, hubClipped: 2 })]);
const resultsB = privacy([run(null, [0.55, 0.75, 0.95], { norm: 1.3 }), run(0.7, [0.35, 0.65, 0.77], { perRound: 7, atClip: 2, hubClipped: 0 })]);

describe('the differential privacy section of the benchmark report', () => {
  it('tabulates each run of its own bench: noise, clip, epsilon, final accuracy, what DP lost, clipping', () => {
    const a = section({ ...base, privacy: resultsA });
    expect(a).toContain('| none (no DP) | none | n/a | n/a | 0.9000 |  | n/a | 0.900 | 12 |');
    // epsilon 30 after 3 rounds, the accountant agrees; 0.05 lost; 12 of 12 changes at the clip norm.
    expect(a).toContain('| 0.5 | 0.5 | 30.0 | 30.0 (same) | 0.8500 | 0.0500 | 12 of 12 | 0.900 | 12 |');
    expect(a).toContain('| 1.5 | 0.5 | 6.00 | 6.00 (same) | 0.6000 | 0.3000 | 9 of 12 | 0.900 | 12 |');
    // Per round: accuracy (epsilon) for each run, the no-DP change norms, the client's and the hub's clip counts.
    expect(a).toContain('| 2 | 0.8000 | 0.6000 (20.0) | 0.4000 (4.00) | 0.900 (0.800-1.100) | 4 / 3 | 1 / 2 |');
    expect(a).toContain('20 headless clients with 400 training digits each');
    expect(a).toContain('4 drawn per round (q = 0.20), 3 rounds of 2 local epoch(s)');
    expect(a).toContain(`![Held-out accuracy against epsilon spent, and against round](${PRIVACY_PLOT_FILE})`);

    const b = section({ ...base, privacy: resultsB });
    expect(b).not.toBe(a);
    expect(b).toContain('| 0.7 | 0.5 | 21.0 | 21.0 (same) | 0.7700 | 0.1800 | 6 of 12 | 0.900 | 12 |');
    expect(b).toContain('| 3 | 0.9500 | 0.7700 (21.0) | 1.300 (1.200-1.500) | 2 | 0 |');
    expect(b).not.toContain('| 1.5 |');
  });

  it('says so when the hub\'s epsilon and the accountant\'s differ', () => {
    const off = privacy([run(null, [0.9]), run(1, [0.8], { perRound: 3, accountantOff: 0.01 })]);
    expect(section({ ...base, privacy: off })).toContain('| 1 | 0.5 | 3.00 | 3.01 (differs by -1.00e-2) |');
  });

  it('adds one line of accuracy against epsilon to the figures table', () => {
    const { markdown } = renderReport({ ...base, privacy: resultsA });
    expect(markdown).toContain('| DP-FedAvg held-out accuracy at noise 0.5 / 1.5 (epsilon 30.0 / 6.00) vs no DP | 0.8500 / 0.6000 vs 0.9000 | (no target) |  |');
  });

  it('says where the figures came from, and that a report without them measured nothing', () => {
    const alone = section({ ...base, privacy: { ...resultsA, alone: true, quick: true } });
    expect(alone).toContain('Measured on 2026-12-02 by the differential privacy section alone (`--only privacy`), not in the run above, reduced (--quick: fewer rounds), in 123 s');
    expect(section({ ...base, privacy: resultsA })).toContain('Measured on 2026-12-02 in the run above, in 123 s');
    const none = renderReport(base);
    expect(none.markdown).toContain('## Differential privacy: accuracy against epsilon\n\nNot measured in this run.');
    expect(none.privacySvg).toBeNull();
    expect(none.markdown).not.toContain('DP-FedAvg held-out accuracy at noise');
  });

  it('keeps the hand-written analysis when the privacy figures are added', () => {
    const analysis = `${ANALYSIS_START}\n2026-12-01, by hand.\n${ANALYSIS_END}`;
    expect(extractAnalysis(renderReport({ ...base, privacy: resultsA }, { analysis }).markdown)).toBe(analysis);
  });
});

describe('the privacy plot', () => {
  it('draws every run against round, every DP run against epsilon, and the no-DP accuracy as a line', () => {
    const svg = privacyPlotSvg(resultsA)!;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // Right panel 3 runs, left panel 2 DP runs and the no-DP line, legend 3 swatches.
    expect(svg.match(/<polyline/g)).toHaveLength(9);
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).toContain('no DP after 3 rounds: 0.900');
    expect(svg).toContain('noise 0.5: 0.850 at epsilon 30.0');
    expect(svg).toContain('noise 1.5: 0.600 at epsilon 6.00');
    expect(svg).toContain('epsilon spent (delta 1e-5, log scale)');
    // Log ticks over the epsilons spent (2 to 30): 1, 2, 5, 10, 20, 50, 100.
    for (const t of [1, 2, 5, 10, 20, 50, 100]) expect(svg).toContain(`text-anchor="middle">${t}</text>`);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('follows the figures: another bench gives another plot', () => {
    const a = privacyPlotSvg(resultsA)!;
    const b = privacyPlotSvg(resultsB)!;
    expect(b).not.toBe(a);
    expect(b.match(/<polyline/g)).toHaveLength(6);
    expect(b).toContain('noise 0.7: 0.770 at epsilon 21.0');
    // Accuracy axis from the lowest to the highest accuracy measured, in tenths: 0.3 to 1.0 here, 0.2 to 0.9 for A.
    expect(b).toContain('>0.3</text>');
    expect(b).not.toContain('>0.2</text>');
    expect(a).toContain('>0.2</text>');
    expect(a).not.toContain('>1.0</text>');
    expect(renderReport({ ...base, privacy: resultsB }).privacySvg).toBe(b);
  });
});
