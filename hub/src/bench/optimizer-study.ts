/**
 * Server optimiser study on MNIST: 4 headless clients, one case per JSON line (final accuracy, accuracy per
 * round, fedVsCentral against the centralised model for as many epochs as rounds), rerunnable case by case.
 *
 *   node_modules/.bin/tsx hub/src/bench/optimizer-study.ts --grid default [--split iid,by-label] [--only NAME,...]
 *   node_modules/.bin/tsx hub/src/bench/optimizer-study.ts --case '{"partition":"iid","rounds":10,"serverOptimizer":{"name":"fedadam","learningRate":0.01}}'
 *
 * Grids: "default" (each optimiser at SERVER_OPTIMIZER_DEFAULTS), "server" (server learning rates, fedavgm's
 * momentum), "tau" (the adaptive ones' tau at --lr fedadam=L,...), "client" (client SGD with server momentum
 * against client Adam with reset).
 * IID runs 10 rounds, by-label 20 (--iid-rounds, --by-label-rounds). --seed fixes shards, batch orders and weights.
 */
import { parseArgs } from 'node:util';
import { SERVER_OPTIMIZER_DEFAULTS, type ServerOptimizerName, type ServerOptimizerRequest } from '@fl/shared';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { buildMnistSprites } from '../../scripts/build-mnist';
import { defaultMnistDir } from '../data/mnist-files';
import { centralBaselines, seededMnistInit, startOptimizerBench, type OptimizerCase, type Split } from './optimizers-bench';

const { values: args } = parseArgs({
  options: {
    grid: { type: 'string', default: 'default' },
    split: { type: 'string', default: 'iid,by-label' },
    only: { type: 'string', default: '' },
    case: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string', default: '1' },
    'iid-rounds': { type: 'string', default: '10' },
    'by-label-rounds': { type: 'string', default: '20' },
    'no-central': { type: 'boolean', default: false },
    lr: { type: 'string', default: '' },
    label: { type: 'string' },
  },
});

const NAMES: ServerOptimizerName[] = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'];
const roundsOf = (split: Split) => Number(split === 'iid' ? args['iid-rounds'] : args['by-label-rounds']);

/** The server-side grid: learning rates for each, momentum for fedavgm, tau for the adaptive ones. */
function serverGrid(): ServerOptimizerRequest[] {
  const out: ServerOptimizerRequest[] = [];
  for (const learningRate of [1.5, 2]) out.push({ name: 'fedavg', learningRate });
  // Effective step lr / (1 - momentum): 2, 3 and 5 against fedavg's 1.
  for (const [learningRate, momentum] of [[1, 0.5], [0.3, 0.9], [0.5, 0.9]] as const) out.push({ name: 'fedavgm', learningRate, momentum });
  for (const name of ['fedadam', 'fedyogi'] as const) for (const learningRate of [0.03, 0.1]) out.push({ name, learningRate });
  for (const learningRate of [0.03, 0.1, 0.3]) out.push({ name: 'fedadagrad', learningRate });
  return out;
}

/** tau (the adaptivity) around the default 1e-3, at a given learning rate per adaptive optimiser (--lr name=value,...). */
function tauGrid(): ServerOptimizerRequest[] {
  const lr = new Map(args.lr.split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  return (['fedadam', 'fedyogi', 'fedadagrad'] as const).flatMap((name) =>
    [1e-4, 1e-2].map((tau) => ({ name, tau, learningRate: Number(lr.get(name) ?? SERVER_OPTIMIZER_DEFAULTS[name].learningRate) })),
  );
}

/** Client SGD (no state to reset) under plain, momentum or adaptive servers, to set against client Adam (reset each round) in the other grids. */
function clientGrid(): Omit<OptimizerCase, 'partition' | 'rounds'>[] {
  const servers: ServerOptimizerRequest[] = [
    { name: 'fedavg' },
    { name: 'fedavgm', learningRate: 1, momentum: 0.9 },
    { name: 'fedavgm', learningRate: 1, momentum: 0.5 },
    { name: 'fedadam', learningRate: 0.01 },
    { name: 'fedadam', learningRate: 0.03 },
  ];
  return [0.05, 0.1].flatMap((learningRate) => servers.map((serverOptimizer) => ({ optimizer: 'sgd' as const, learningRate, serverOptimizer })));
}

function cases(): OptimizerCase[] {
  if (args.case.length) return args.case.map((text) => JSON.parse(text) as OptimizerCase);
  const only = new Set(args.only.split(',').filter(Boolean));
  const pick = (s: ServerOptimizerRequest) => !only.size || only.has(s.name);
  const splits = args.split.split(',').filter(Boolean) as Split[];
  const base: Omit<OptimizerCase, 'partition' | 'rounds'>[] =
    args.grid === 'default'
      ? NAMES.map((name) => ({ serverOptimizer: { name } }))
      : args.grid === 'server'
        ? serverGrid().map((serverOptimizer) => ({ serverOptimizer }))
        : args.grid === 'tau'
          ? tauGrid().map((serverOptimizer) => ({ serverOptimizer }))
        : args.grid === 'client'
          ? clientGrid()
          : [];
  if (!base.length) throw new Error(`--grid knows default, server, tau and client, not "${args.grid}"`);
  return splits.flatMap((partition) => base.filter((c) => pick(c.serverOptimizer)).map((c) => ({ ...c, partition, rounds: roundsOf(partition) })));
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

await buildMnistSprites(defaultMnistDir(), { log: () => {} });
await initWasmBackend();
const seed = Number(args.seed);
const initial = seededMnistInit(seed);
const todo = cases();
const central = args['no-central'] ? new Map<number, number>() : await centralBaselines(todo.map((c) => c.rounds), initial);
for (const [epochs, accuracy] of central) console.log(JSON.stringify({ label: args.label ?? null, central: true, seed, epochs, accuracy }));
const bench = await startOptimizerBench({ clients: 4, seed, initial });
try {
  for (const c of todo) {
    const r = await bench.run(c);
    const base = central.get(c.rounds);
    const defaults = SERVER_OPTIMIZER_DEFAULTS[r.server.name];
    console.log(
      JSON.stringify({
        label: args.label ?? null,
        seed,
        partition: r.partition,
        rounds: r.rounds,
        server: r.server,
        serverDefaults: JSON.stringify(defaults) === JSON.stringify(r.server),
        optimizer: r.optimizer,
        learningRate: r.learningRate,
        epochs: r.epochs,
        final: r.final,
        fedVsCentral: base === undefined ? null : round4(r.final / base),
        accuracy: r.accuracy,
        secPerRound: Math.round(r.wallMs / r.rounds / 100) / 10,
      }),
    );
  }
} finally {
  await bench.close();
}
process.exit(0);
