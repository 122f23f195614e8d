import { describe, expect, it } from 'vitest';
import { SERVER_OPTIMIZER_DEFAULTS, type ServerOptimizerName } from '@fl/shared';
import { renderReport, type BenchResults } from '../report';
import type { BeforeClient, OptimizerRunResult, OptimizersResults, Split } from '../optimizers-bench';
import { OPTIMIZERS_PLOT_FILE, optimizersPlotSvg, optimizersRows, optimizersSection } from '../optimizers-report';

const base: BenchResults = {
  date: '2026-12-01T10:00:00.000Z',
  quick: false,
  machine: { cpus: 2, cpu: 'test cpu', memoryGiB: 8, node: 'v20' },
  mnistParams: 6000,
};

/** A run with the section's clients (SGD at 0.2), or with `client` (the baseline before). */
function run(partition: Split, name: ServerOptimizerName, accuracy: number[], client: BeforeClient = { optimizer: 'sgd', learningRate: 0.2 }): OptimizerRunResult {
  return {
    partition,
    rounds: accuracy.length,
    server: SERVER_OPTIMIZER_DEFAULTS[name],
    optimizer: client.optimizer,
    learningRate: client.learningRate,
    epochs: 1,
    accuracy,
    final: accuracy.at(-1)!,
    wallMs: 30_000,
  };
}

const BEFORE: BeforeClient = { optimizer: 'adam', learningRate: 0.002 };

/** IID over 3 rounds and by-label over 4, against centralised 0.96 and 0.97; plain FedAvg with the clients before ends by-label at `beforeFinal`. */
function results(byLabelAdam: number[], byLabelAvg: number[], iidBest = 0.97, beforeFinal = 0.84): OptimizersResults {
  return {
    date: '2026-12-02T09:00:00.000Z',
    quick: false,
    clients: 4,
    seed: 1,
    digits: 8000,
    rounds: { iid: 3, 'by-label': 4 },
    central: { iid: 0.96, 'by-label': 0.97 },
    client: { optimizer: 'sgd', learningRate: 0.2, epochs: 1 },
    before: BEFORE,
    runs: [
      run('iid', 'fedavg', [0.9, 0.93, 0.95]),
      run('iid', 'fedadam', [0.91, 0.95, iidBest]),
      // Better than every other IID run: the baseline is not a candidate for the best optimiser.
      run('iid', 'fedavg', [0.9, 0.95, 0.99], BEFORE),
      run('by-label', 'fedavg', byLabelAvg),
      run('by-label', 'fedadam', byLabelAdam),
      run('by-label', 'fedavg', [0.5, 0.6, 0.7, beforeFinal], BEFORE),
    ],
    durationSec: 321,
  };
}

const row = (rows: [string, string, string, string][], start: string) => rows.find(([name]) => name.startsWith(start))!;

describe('optimizers report', () => {
  it('judges the acceptance from the figures: the best IID fedVsCentral, FedAdam by-label and its lead over plain FedAvg as before', () => {
    const met = optimizersRows(results([0.5, 0.8, 0.9, 0.92], [0.5, 0.7, 0.8, 0.91]));
    expect(row(met, 'fedVsCentral, IID 3 rounds')).toEqual(['fedVsCentral, IID 3 rounds, best server optimiser at its defaults (fedadam)', (0.97 / 0.96).toFixed(4), '>= 1.0', 'met']);
    expect(row(met, 'by-label 4 rounds: FedAdam').slice(1)).toEqual(['0.9200', '>= 0.90', 'met']);
    expect(row(met, '  FedAdam minus plain FedAvg as before (clients adam at 0.002)').slice(1)).toEqual(['8.0', '>= 5', 'met']);
    expect(row(met, '  FedAdam minus FedAvg with the same clients (sgd at 0.2)').slice(1)).toEqual(['1.0', '(no target)', '']);
    const missed = optimizersRows(results([0.5, 0.8, 0.9, 0.89], [0.5, 0.7, 0.8, 0.86], 0.955, 0.86));
    expect(row(missed, 'fedVsCentral, IID')[3]).toBe('**missed**');
    expect(row(missed, 'by-label 4 rounds: FedAdam')[3]).toBe('**missed**');
    expect(row(missed, '  FedAdam minus plain FedAvg').slice(1)).toEqual(['3.0', '>= 5', '**missed**']);
    // Without a baseline the lead is over FedAvg with the same clients.
    const alone = results([0.5, 0.8, 0.9, 0.92], [0.5, 0.7, 0.8, 0.85]);
    const { before: _before, ...withoutBefore } = alone;
    const noBaseline = optimizersRows({ ...withoutBefore, runs: alone.runs.filter((r) => r.optimizer === 'sgd') });
    expect(row(noBaseline, '  FedAdam minus plain FedAvg, by-label').slice(1)).toEqual(['7.0', '>= 5', 'met']);
    expect(optimizersRows(undefined)).toEqual([]);
  });

  it('tables every optimiser with its defaults and fedVsCentral for both splits, and every round', () => {
    const text = optimizersSection(results([0.5, 0.8, 0.9, 0.92], [0.5, 0.7, 0.8, 0.85]));
    expect(text).toContain(`| fedadam | lr ${SERVER_OPTIMIZER_DEFAULTS.fedadam.learningRate}, beta1 0.9, beta2 0.99, tau 0.001 | 0.9700 | ${(0.97 / 0.96).toFixed(4)} | 0.9200 | ${(0.92 / 0.97).toFixed(4)} | 30 / 30 |`);
    expect(text).toContain('0.9600 after 3 epochs, 0.9700 after 4 epochs');
    expect(text).toContain('| 4 | 0.8500 | 0.9200 | 0.8400 |');
    expect(text).toContain(`| fedavg, clients adam at 0.002 (the defaults before) | lr 1 | 0.9900 | ${(0.99 / 0.96).toFixed(4)} | 0.8400 | ${(0.84 / 0.97).toFixed(4)} | 30 / 30 |`);
    expect(text).toContain(`](${OPTIMIZERS_PLOT_FILE})`);
    expect(optimizersSection(undefined)).toBe('Not measured in this run.');
  });

  it('draws one line per run and the centralised models, and the report carries section and plot', () => {
    const o = results([0.5, 0.8, 0.9, 0.92], [0.5, 0.7, 0.8, 0.85]);
    const svg = optimizersPlotSvg(o)!;
    expect(svg.match(/<polyline[^>]*stroke="#d62728"[^>]*points="([^"]*)"/g)).toHaveLength(3); // two runs and the legend
    expect(svg.match(/<polyline[^>]*stroke="#ff7f0e" stroke-width="1.8" stroke-dasharray="2 3"/g)).toHaveLength(3); // the baseline, dotted
    expect(svg).toContain('fedavg, clients adam 0.002 (before): 0.990 / 0.840');
    expect(svg).toContain('centralised, 4 epochs: 0.970');
    expect(optimizersPlotSvg(undefined)).toBeNull();
    const report = renderReport({ ...base, optimizers: o });
    expect(report.markdown).toContain('## Server optimisers: fedVsCentral per optimiser, IID and by-label');
    expect(report.optimizersSvg).toBe(svg);
    expect(renderReport(base).optimizersSvg).toBeNull();
  });
});
