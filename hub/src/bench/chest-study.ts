/**
 * Chest X-ray settings study on the e2e fixture, in Node: simulated two-tab runs (chest-federation.ts)
 * over several seeds, one JSON line per run and a summary line.
 *
 *   node_modules/.bin/tsx hub/src/bench/chest-study.ts --seeds 5 --rounds 3 [--seed0 1] [--clients 2]
 *     [--epochs E --batch B --lr L --optimizer adam|sgd --min-steps S]
 *     [--server fedavg|fedavgm --server-lr L --server-momentum M] [--train N:P] [--test N:P]
 * Omitted settings take TASK_DEFAULTS['chest-xray'] (minLocalSteps too: --min-steps 0 for epochs alone).
 */
import { parseArgs } from 'node:util';
import { SERVER_OPTIMIZER_DEFAULTS, type LaunchRequest, type ServerOptimizerName } from '@fl/shared';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import type { ClassCounts } from '../sim/synthetic-chest';
import { fixtureData, simulateChestRun } from './chest-federation';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    seed0: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '2' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    'min-steps': { type: 'string' },
    server: { type: 'string' },
    'server-lr': { type: 'string' },
    'server-momentum': { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    label: { type: 'string' },
  },
});

function counts(text: string | undefined): ClassCounts | undefined {
  if (!text) return undefined;
  const [normal, pneumonia] = text.split(':').map(Number);
  if (!Number.isInteger(normal) || !Number.isInteger(pneumonia)) throw new Error(`--train/--test take NORMAL:PNEUMONIA counts, got ${text}`);
  return { normal: normal!, pneumonia: pneumonia! };
}

const num = (text: string | undefined) => (text === undefined ? undefined : Number(text));

const launch: Partial<LaunchRequest> = {};
if (args.epochs) launch.epochs = Number(args.epochs);
if (args.batch) launch.batchSize = Number(args.batch);
if (args['min-steps']) launch.minLocalSteps = Number(args['min-steps']);
if (args.lr) launch.learningRate = Number(args.lr);
if (args.optimizer) launch.optimizer = args.optimizer as LaunchRequest['optimizer'];
if (args.server || args['server-lr'] || args['server-momentum']) {
  const name = (args.server ?? 'fedavg') as ServerOptimizerName;
  launch.serverOptimizer = {
    name,
    learningRate: num(args['server-lr']) ?? SERVER_OPTIMIZER_DEFAULTS[name].learningRate,
    momentum: num(args['server-momentum']) ?? SERVER_OPTIMIZER_DEFAULTS[name].momentum,
  };
}

await initWasmBackend();
const data = fixtureData({ train: counts(args.train), test: counts(args.test) });
const seeds = Number(args.seeds);
const seed0 = Number(args.seed0);
const finals: number[] = [];
const afterFirst: boolean[] = [];
let totalMs = 0;
for (let s = seed0; s < seed0 + seeds; s++) {
  const result = await simulateChestRun({ seed: s, rounds: Number(args.rounds), clients: Number(args.clients), launch, data });
  finals.push(result.rounds.at(-1)!.accuracy);
  afterFirst.push(result.rounds[0]!.constant);
  totalMs += result.rounds.reduce((t, r) => t + r.ms, 0);
  const rounds = result.rounds.map((r) => ({ ...r, accuracy: round3(r.accuracy), loss: round3(r.loss), auc: round3(r.auc), trainAccuracy: r.trainAccuracy.map(round3), clientTest: r.clientTest.map(round3), ms: Math.round(r.ms) }));
  console.log(JSON.stringify({ label: args.label ?? null, ...result, initial: { ...result.initial, accuracy: round3(result.initial.accuracy) }, rounds }));
}
console.log(
  JSON.stringify({
    label: args.label ?? null,
    summary: true,
    seeds,
    trainImages: data.train.labels.length,
    finalAccuracy: finals.map(round3),
    allAtLeast09: finals.every((a) => a >= 0.9),
    constantAfterRound1: afterFirst.filter(Boolean).length,
    msPerRound: Math.round(totalMs / (seeds * Number(args.rounds))),
  }),
);

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
