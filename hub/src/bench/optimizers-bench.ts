import type { FlatWeights, LaunchRequest, RunDetail, RunSettings, ServerOptimizerRequest, ServerOptimizerSettings } from '@fl/shared';
import { createRng } from '@fl/shared/random';
import { createModel, readWeights } from '@fl/shared/models';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../sim/headless-client';
import { inProcessHub, launchRun, waitForClientCount, waitForRun } from './bench-hub';
import { centralTraining } from './training-bench';

/**
 * Server optimisers on MNIST: one in-process hub and its headless clients run one launch after another,
 * each from the same seeded initial weights and with the same seed (shards, batch orders), so two runs
 * differ only in the settings the caller varies. fedVsCentral divides a run's held-out accuracy by the
 * centralised model's (centralTraining: the same 8,000 digits, as many epochs as the run has rounds).
 */

export type Split = 'iid' | 'by-label';

/** What one launch varies: the server optimiser and, optionally, the clients' local optimiser. */
export interface OptimizerCase {
  partition: Split;
  rounds: number;
  serverOptimizer: ServerOptimizerRequest;
  optimizer?: RunSettings['optimizer'];
  learningRate?: number;
  epochs?: number;
}

export interface OptimizerRunResult {
  partition: Split;
  rounds: number;
  /** The resolved settings the hub ran with. */
  server: ServerOptimizerSettings;
  optimizer: RunSettings['optimizer'];
  learningRate: number;
  epochs: number;
  /** Held-out accuracy (the hub's 2,000 test digits) after each round. */
  accuracy: number[];
  final: number;
  wallMs: number;
}

/**
 * The hub's fresh MNIST model (TF.js's default initialisers), made repeatable: each unseeded initialiser draws
 * its seed from Math.random, which is swapped for a seeded stream while the model is built.
 */
export function seededMnistInit(seed: number): FlatWeights {
  const original = Math.random;
  Math.random = createRng(seed);
  try {
    const model = createModel('mnist');
    try {
      return readWeights(model);
    } finally {
      model.dispose();
    }
  } finally {
    Math.random = original;
  }
}

/** The launch of one case: 'fresh' weights (the seeded initial model), every client in every round. */
export function caseLaunch(c: OptimizerCase, clients: number, seed: number): LaunchRequest {
  return {
    task: 'mnist',
    rounds: c.rounds,
    init: 'fresh',
    minClients: clients,
    partition: c.partition,
    seed,
    serverOptimizer: c.serverOptimizer,
    ...(c.optimizer ? { optimizer: c.optimizer } : {}),
    ...(c.learningRate !== undefined ? { learningRate: c.learningRate } : {}),
    ...(c.epochs !== undefined ? { epochs: c.epochs } : {}),
  };
}

/** The figures of a completed run. */
export function runResult(c: OptimizerCase, run: RunDetail, wallMs: number): OptimizerRunResult {
  const accuracy = run.rounds.map((r) => r.accuracy ?? NaN);
  return {
    partition: c.partition,
    rounds: c.rounds,
    server: run.settings.serverOptimizer,
    optimizer: run.settings.optimizer,
    learningRate: run.settings.learningRate,
    epochs: run.settings.epochs,
    accuracy,
    final: accuracy.at(-1) ?? NaN,
    wallMs,
  };
}

export interface OptimizerBench {
  run(c: OptimizerCase): Promise<OptimizerRunResult>;
  close(): Promise<void>;
}

/** A hub with `clients` headless MNIST clients, reused for every case. */
export async function startOptimizerBench(options: { clients: number; seed: number; initial: FlatWeights }): Promise<OptimizerBench> {
  const hub = await inProcessHub({ initialWeights: () => options.initial });
  const data = mnistProvider(hubMnistLoader(hub.url));
  const clients = Array.from({ length: options.clients }, (_, i) => startHeadlessClient({ hubUrl: hub.url, name: `opt-${i + 1}`, data }));
  try {
    await waitForClientCount(hub.url, options.clients);
  } catch (error) {
    for (const { client } of clients) client.close();
    await hub.close();
    throw error;
  }
  return {
    async run(c) {
      const t0 = Date.now();
      const id = await launchRun(hub.url, caseLaunch(c, options.clients, options.seed));
      const run = await waitForRun(hub.url, id);
      if (run.status !== 'completed' || run.rounds.length !== c.rounds) {
        throw new Error(`optimiser run ${c.serverOptimizer.name} (${c.partition}) ${run.status} after ${run.rounds.length} rounds: ${run.reason}`);
      }
      return runResult(c, run, Date.now() - t0);
    },
    async close() {
      for (const { client } of clients) client.close();
      await hub.close();
    },
  };
}

/** The centralised baselines, one per number of epochs, from the same initial weights. */
export async function centralBaselines(epochs: number[], initial: FlatWeights): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const e of [...new Set(epochs)]) out.set(e, (await centralTraining(e, initial)).accuracy);
  return out;
}

export const SERVER_OPTIMIZERS = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'] as const;

/** The `optimizers` section's figures: every server optimiser at its defaults, IID and by-label, against the centralised model. */
export interface OptimizersResults {
  date: string;
  quick: boolean;
  /** Measured by `--only optimizers`, not with the rest of the run. */
  alone?: boolean;
  clients: number;
  seed: number;
  /** Training digits over all clients (the centralised model's training set). */
  digits: number;
  rounds: Record<Split, number>;
  /** The centralised model's held-out accuracy after as many epochs as each split has rounds. */
  central: Record<Split, number>;
  /** The clients' local optimiser, learning rate and epochs (the MNIST defaults). */
  client: { optimizer: RunSettings['optimizer']; learningRate: number; epochs: number };
  /** Plain FedAvg with the clients' settings as they were before the MNIST defaults changed (a run per split), if measured. */
  before?: BeforeClient;
  runs: OptimizerRunResult[];
  durationSec: number;
}

/** Client settings of an earlier default, run with plain FedAvg beside the optimisers. */
export interface BeforeClient {
  optimizer: RunSettings['optimizer'];
  learningRate: number;
}

/** Whether a run used other client settings than the section's defaults (the `before` baseline). */
export const isBefore = (o: Pick<OptimizersResults, 'client'>, r: OptimizerRunResult): boolean =>
  r.optimizer !== o.client.optimizer || r.learningRate !== o.client.learningRate;

/**
 * Each server optimiser at its SERVER_OPTIMIZER_DEFAULTS on IID then by-label shards, from one seeded initial model,
 * with the clients at the MNIST defaults; and, given `before`, plain FedAvg with those client settings on each split.
 */
export async function benchOptimizers(options: {
  clients: number;
  rounds: Record<Split, number>;
  seed: number;
  quick: boolean;
  before?: BeforeClient;
  log?: (message: string) => void;
}): Promise<OptimizersResults> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const initial = seededMnistInit(options.seed);
  const central: Partial<Record<Split, number>> = {};
  let digits = NaN;
  for (const split of ['iid', 'by-label'] as const) {
    const c = await centralTraining(options.rounds[split], initial);
    central[split] = c.accuracy;
    digits = c.digits;
    log(`   centralised, ${options.rounds[split]} epochs: ${c.accuracy.toFixed(4)}`);
  }
  const bench = await startOptimizerBench({ clients: options.clients, seed: options.seed, initial });
  const runs: OptimizerRunResult[] = [];
  try {
    for (const split of ['iid', 'by-label'] as const) {
      for (const name of SERVER_OPTIMIZERS) {
        const r = await bench.run({ partition: split, rounds: options.rounds[split], serverOptimizer: { name } });
        runs.push(r);
        log(`   ${split} ${name} (lr ${r.server.learningRate}): ${r.final.toFixed(4)}, fedVsCentral ${(r.final / central[split]!).toFixed(4)} in ${(r.wallMs / 1000).toFixed(0)} s`);
      }
      if (options.before) {
        const r = await bench.run({ partition: split, rounds: options.rounds[split], serverOptimizer: { name: 'fedavg' }, ...options.before });
        runs.push(r);
        log(`   ${split} fedavg, clients ${r.optimizer} at ${r.learningRate} (before): ${r.final.toFixed(4)} in ${(r.wallMs / 1000).toFixed(0)} s`);
      }
    }
  } finally {
    await bench.close();
  }
  const first = runs.find((r) => r.server.name === 'fedavg')!;
  return {
    date: new Date(started).toISOString(),
    quick: options.quick,
    clients: options.clients,
    seed: options.seed,
    digits,
    rounds: options.rounds,
    central: central as Record<Split, number>,
    client: { optimizer: first.optimizer, learningRate: first.learningRate, epochs: first.epochs },
    ...(options.before ? { before: options.before } : {}),
    runs,
    durationSec: Math.round((Date.now() - started) / 1000),
  };
}
