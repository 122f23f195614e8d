import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { createModel, modelShapes, readWeights } from '@fl/shared/models';
import { encodeWeights, totalSize, type FlatWeights, type TaskId } from '@fl/shared';
import { buildMnistSprites } from '../../scripts/build-mnist';
import { defaultMnistDir } from '../data/mnist-files';
import { benchAggregation, FEDAVG_CNN_PARAMS, FEDAVG_CNN_SHAPES } from './aggregation-bench';
import { centralTraining, federatedRun } from './training-bench';
import { benchCapacity, benchLightweightOverhead } from './capacity-bench';
import { capacityCli, DEFAULT_TRAIN_MS } from './capacity-cli';
import { benchBrowser } from './browser-bench';
import { benchSynchronous } from './store-bench';
import { benchSecAggCpu, benchSecureRoundTime, secAggBytes, type SecAggResults } from './secagg-bench';
import { extractAnalysis, renderReport, type BenchResults } from './report';
import { benchPrivacy, type PrivacyResults } from './privacy-bench';
import { PRIVACY_PLOT_FILE } from './privacy-report';
import { benchOptimizers, type OptimizersResults } from './optimizers-bench';
import { OPTIMIZERS_PLOT_FILE } from './optimizers-report';
import { benchFoldStall, type FoldStallResults } from './fold-bench';
import { benchCluster, type ClusterBenchResults } from './cluster-bench';

// `pnpm bench capacity --clients N [--rounds R] [--train-ms D] [--per-round K] [--profile DIR]`: that run alone, one JSON line.
if (process.argv[2] === 'capacity') {
  await capacityCli(process.argv.slice(3));
  process.exit(0);
}

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, skip: { type: 'string', default: '' }, 'report-only': { type: 'boolean', default: false }, only: { type: 'string', default: '' } },
});
const quick = args.quick;
const skip = new Set(args.skip.split(',').filter(Boolean));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const log = (message: string) => console.log(`[bench] ${message}`);
const benchmarksPath = `${repoRoot}/BENCHMARKS.md`;

/** BENCHMARKS.md from these figures; the hand-written analysis is the reader's, not the run's: carried over as it is. */
function writeReport(results: BenchResults): void {
  const report = renderReport(results, { analysis: existsSync(benchmarksPath) ? extractAnalysis(readFileSync(benchmarksPath, 'utf8')) : null });
  console.log(`\n${report.table}`);
  writeFileSync(benchmarksPath, report.markdown);
  if (report.privacySvg) writeFileSync(`${repoRoot}/${PRIVACY_PLOT_FILE}`, report.privacySvg);
  if (report.optimizersSvg) writeFileSync(`${repoRoot}/${OPTIMIZERS_PLOT_FILE}`, report.optimizersSvg);
}

// --report-only: BENCHMARKS.md again from the last run's bench-results.json, measuring nothing.
if (args['report-only']) {
  writeReport(JSON.parse(readFileSync(`${repoRoot}/bench-results.json`, 'utf8')) as BenchResults);
  process.exit(0);
}

await buildMnistSprites(defaultMnistDir(), { log: () => {} });
await initWasmBackend();
const mnistParams = totalSize(modelShapes('mnist'));

/** Secure aggregation's figures: round time (10 and 100 clients; --quick: 10 and 30), bytes and client CPU, each secure vs plain. */
async function secaggSection(): Promise<SecAggResults> {
  const date = new Date().toISOString();
  const delayMs = 2000;
  const roundTime = [];
  let wire: Awaited<ReturnType<typeof benchSecureRoundTime>>['bytes'] | null = null;
  for (const clients of quick ? [10, 30] : [10, 100]) {
    const { result, bytes } = await benchSecureRoundTime(clients, delayMs, quick ? 2 : 3, log);
    roundTime.push(result);
    if (clients === 10) wire = bytes;
  }
  const { cpu, frames } = await benchSecAggCpu(10, quick ? 1 : 3);
  log(`   1.66M parameters, 10 clients: mask ${cpu.maskMs.toFixed(1)} ms CPU vs encode ${cpu.encodeMs.toFixed(1)} ms (ratio ${cpu.ratio.toFixed(2)})`);
  const bytes = wire ? secAggBytes(10, mnistParams, wire, frames) : undefined;
  if (bytes) log(`   bytes a client sends per round, secure / plain: ${bytes.cnn.ratio.toFixed(4)} (1.66M CNN), ${bytes.mnist.ratio.toFixed(4)} (MNIST model, on the wire)`);
  return { date, quick, roundTime, ...(bytes ? { bytes } : {}), cpu };
}

/**
 * DP-FedAvg's accuracy against epsilon: 100 clients of 80 digits, 20 drawn per round, a no-DP run and three noise
 * multipliers, the same seed and initial weights. The clip norm sits below most no-DP change norms (see the section),
 * so nearly every change is clipped and the noise is as small against the signal as the clip allows.
 */
async function privacySection(): Promise<PrivacyResults> {
  return benchPrivacy({
    clients: 100,
    clientsPerRound: 20,
    rounds: quick ? 8 : 20,
    epochs: 2,
    batchSize: 32,
    learningRate: 0.005,
    clipNorm: 0.5,
    delta: 1e-5,
    noiseMultipliers: [0.3, 0.7, 1.5],
    seed: 1,
    quick,
    log,
  });
}

/**
 * Round overheads with 8 and 100 lightweight clients and the capacity ladder (1,000 / 3,000 / 10,000 / 20,000;
 * --quick: 100 / 300), all with the clients in load-worker processes and the hub in its own process.
 */
async function loadSection(into: BenchResults, capacity: boolean): Promise<void> {
  // Each overhead client "trains" 2 s, so everything above that is the hub's coordination and the messages' trips.
  const overheadTrainMs = 2000;
  log('3. round overhead, 8 lightweight clients in load workers');
  const eight = await benchLightweightOverhead(8, overheadTrainMs, quick ? 2 : 3);
  into.roundOverhead8 = eight.overhead;
  into.roundOverhead8Rounds = eight.rounds;
  if (!capacity) return;
  log('3b. round overhead, 100 lightweight clients in load workers');
  const light = await benchLightweightOverhead(100, overheadTrainMs, quick ? 2 : 3);
  into.roundOverhead100 = light.overhead;
  into.roundOverhead100Rounds = light.rounds;
  log('4. capacity (clients in load workers; every step is run and reported)');
  const started = performance.now();
  const date = new Date().toISOString();
  const steps = quick ? [100, 300] : [1000, 3000, 10_000, 20_000];
  into.capacity = await benchCapacity(steps, quick ? 2 : 3, DEFAULT_TRAIN_MS, log);
  into.maxClients = Math.max(0, ...into.capacity.filter((s) => s.ok).map((s) => s.clients));
  into.capacityRun = { date, alone: args.only === 'capacity', durationSec: Math.round((performance.now() - started) / 1000) };
}

/**
 * Every server optimiser at its defaults, 4 clients, IID 10 rounds and by-label 20 (--quick: 3 and 5), against the centralised
 * model; and plain FedAvg with the MNIST clients as they trained before issue 12 (Adam at 0.002, its state new each round).
 */
async function optimizersSection(): Promise<OptimizersResults> {
  const rounds = quick ? { iid: 3, 'by-label': 5 } : { iid: 10, 'by-label': 20 };
  return benchOptimizers({ clients: 4, rounds, seed: 1, quick, before: { optimizer: 'adam', learningRate: 0.002 }, log });
}

/** Rounds through 3 hub nodes behind nginx vs 1 node, and the bytes between the nodes (--quick: fewer clients). */
async function clusterSection(): Promise<ClusterBenchResults> {
  return benchCluster({ clients: quick ? 20 : 100, rounds: 3, trainMs: 500, log });
}

/** The event loop's longest stall in a round of 1,000 large updates (--quick: 200, one trial), folding there and in the fold worker. */
async function foldsSection(): Promise<FoldStallResults> {
  return benchFoldStall({ updates: quick ? 200 : 1000, trials: quick ? 1 : 3, log });
}

// --only capacity | secagg | privacy | optimizers | cluster | folds (aggregation vs memcpy and the fold worker's stalls): that section alone, into the last run's bench-results.json; the other figures stay as they were.
if (args.only) {
  const path = `${repoRoot}/bench-results.json`;
  const previous = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  if (args.only === 'secagg') {
    log('7. secure aggregation vs plain (alone: --only secagg)');
    previous.secagg = { ...(await secaggSection()), alone: true };
  } else if (args.only === 'privacy') {
    log('8. differential privacy: accuracy against epsilon (alone: --only privacy)');
    previous.privacy = { ...(await privacySection()), alone: true };
  } else if (args.only === 'capacity') {
    log('3-4. round overheads and capacity (alone: --only capacity)');
    await loadSection(previous, true);
  } else if (args.only === 'optimizers') {
    log('9. server optimisers: fedVsCentral, IID and by-label (alone: --only optimizers)');
    previous.optimizers = { ...(await optimizersSection()), alone: true };
  } else if (args.only === 'cluster') {
    log('10. several hub nodes: 3 behind nginx vs 1 (alone: --only cluster)');
    previous.cluster = { ...(await clusterSection()), alone: true };
  } else if (args.only === 'folds') {
    log('1. aggregation vs memcpy (alone: --only folds)');
    const agg = benchAggregation(FEDAVG_CNN_PARAMS, quick ? 30 : 100, quick ? 3 : 5);
    previous.aggregationVsMemcpy = agg.aggregationVsMemcpy;
    previous.aggregation = agg;
    log('1c. aggregation off the event loop: the longest event-loop stall in a round (alone: --only folds)');
    previous.foldStall = await foldsSection();
  } else {
    throw new Error(`--only knows "capacity", "secagg", "privacy", "optimizers", "cluster" and "folds", not "${args.only}"`);
  }
  writeFileSync(path, `${JSON.stringify(previous, null, 2)}\n`);
  writeReport(previous);
  log(`wrote the ${args.only} figures into bench-results.json and BENCHMARKS.md`);
  process.exit(0);
}
// Every federated run in this bench starts from the same weights, so runs differ only in what is varied.
const fixedInit = (() => {
  const cache = new Map<TaskId, FlatWeights>();
  return (task: TaskId): FlatWeights => {
    let weights = cache.get(task);
    if (!weights) {
      const model = createModel(task);
      weights = readWeights(model);
      model.dispose();
      cache.set(task, weights);
    }
    return weights;
  };
})();
const started = Date.now();
const results: BenchResults = {
  date: new Date().toISOString(),
  quick,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  mnistParams,
};

log('1. aggregation vs memcpy');
const agg = benchAggregation(FEDAVG_CNN_PARAMS, quick ? 30 : 100, quick ? 3 : 5);
results.aggregationVsMemcpy = agg.aggregationVsMemcpy;
results.aggregation = agg;

log('1b. SQLite commit per round, synchronous=FULL vs NORMAL');
results.durability = (['mnist', 'chest-xray'] as const).map((task) => {
  const d = benchSynchronous(task, quick ? 40 : 200);
  log(`   ${task}: FULL ${d.full.meanMs.toFixed(2)} ms, NORMAL ${d.normal.meanMs.toFixed(2)} ms per round (mean)`);
  return d;
});

log('1c. aggregation off the event loop: the longest event-loop stall in a round of large updates');
results.foldStall = await foldsSection();

log('2. wire size and accuracy per compression');
const wireRounds = quick ? 1 : 5;
results.wireRatio = {};
results.wireTotalRatio = {};
results.wireRatioFedAvgCnn = {};
results.wireAccuracy = {};
results.wireOverhead = {};
const bytesPerValue = { float32: 4, float16: 2, int8: 1 } as const;
for (const compression of ['float32', 'float16', 'int8'] as const) {
  const run = await federatedRun({ clients: 4, rounds: wireRounds, compression, initialWeights: fixedInit });
  results.wireRatio[compression] = run.updateBytesPerClientRound / (4 * mnistParams);
  // The same message for the FedAvg paper's CNN: its frame plus the envelope measured here.
  const envelope = run.updateBytesPerClientRound - encodeWeights(fixedInit('mnist'), { dtype: compression }).byteLength;
  const big = { shapes: FEDAVG_CNN_SHAPES, values: new Float32Array(FEDAVG_CNN_PARAMS) };
  results.wireRatioFedAvgCnn[compression] = (encodeWeights(big, { dtype: compression }).byteLength + envelope) / (4 * FEDAVG_CNN_PARAMS);
  results.wireTotalRatio[compression] = run.sentPerClientRound / (4 * mnistParams);
  results.wireAccuracy[compression] = run.accuracy;
  results.wireOverhead[compression] = { envelopeBytes: run.updateEnvelopeBytes, frameBytes: run.updateFrameBytes, valueBytes: mnistParams * bytesPerValue[compression] };
  log(`   ${compression}: update ${(run.updateBytesPerClientRound / 1024).toFixed(1)} KiB, everything ${(run.sentPerClientRound / 1024).toFixed(1)} KiB per client per round; accuracy ${run.accuracy.toFixed(4)}`);
}
results.wireRounds = wireRounds;

await loadSection(results, !skip.has('capacity'));

if (!skip.has('cluster')) {
  log('10. several hub nodes: 3 behind nginx vs 1');
  results.cluster = await clusterSection();
}

log('5. federated vs centralised');
const fedRounds = quick ? 2 : 10;
const central = await centralTraining(fedRounds, fixedInit('mnist'));
const iid = await federatedRun({ clients: 4, rounds: fedRounds, partition: 'iid', initialWeights: fixedInit });
const byLabel = await federatedRun({ clients: 4, rounds: fedRounds, partition: 'by-label', initialWeights: fixedInit });
results.fedVsCentral = iid.accuracy / central.accuracy;
results.fedVsCentralByLabel = byLabel.accuracy / central.accuracy;
results.fedVsCentralDetail = { rounds: fedRounds, central: central.accuracy, iid: iid.accuracy, byLabel: byLabel.accuracy, clients: 4, digits: central.digits };

if (!skip.has('browser')) {
  log('6. in headless Chromium');
  const browser = await benchBrowser({ quick, log });
  results.browserMsPerBatch = browser.msPerBatch;
  results.clientVsBareTfjs = browser.clientVsBareTfjs;
  results.browser = browser;
}

if (!skip.has('secagg')) {
  log('7. secure aggregation vs plain');
  results.secagg = await secaggSection();
}

if (!skip.has('privacy')) {
  log('8. differential privacy: accuracy against epsilon');
  results.privacy = await privacySection();
}

if (!skip.has('optimizers')) {
  log('9. server optimisers: fedVsCentral, IID and by-label');
  results.optimizers = await optimizersSection();
}

results.durationSec = Math.round((Date.now() - started) / 1000);
writeFileSync(`${repoRoot}/bench-results.json`, `${JSON.stringify(results, null, 2)}\n`);
writeReport(results);
log(`wrote BENCHMARKS.md and bench-results.json in ${results.durationSec}s`);
process.exit(0);
