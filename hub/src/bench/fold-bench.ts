/**
 * Aggregation off the event loop (issue 13): the event loop's longest stall during a round of 1,000 large updates,
 * folding on the event loop (as before) and in the fold worker, on a real hub (buildApp: coordinator, store, SQLite
 * commit). The updates come from a producer thread in bursts, as a socket's reads deliver them, so that making the
 * frames costs the measured loop nothing; and the throughput of decode + check + fold in each place.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createRng, encodeWeights, seedFromString, type FlatWeights, type JoinRequest, type TaskId, type UpdateReceipt } from '@fl/shared';
import { buildApp, sqliteOf } from '../app';
import { defaultMnistDir } from '../data/mnist-files';
import { FoldWorker } from '../engine/fold-worker';
import { createRoundAggregator, localSum, type SumSpec } from '../engine/round-sum';
import { checkFrame } from '../engine/update-validator';
import { threadCpuMs } from '../engine/thread-cpu';
import { FEDAVG_CNN_PARAMS, FEDAVG_CNN_SHAPES } from './aggregation-bench';
import { watchStalls } from './loop-stalls';

export interface FoldPlace {
  /** Longest event-loop stall from the first update to the round's commit (ms). */
  stallMs: number;
  /** The longest stall other than the commit's, and the stall of the block that committed the round (SHA-256, SQLite). */
  stallWhileFoldingMs: number;
  stallToCommitMs: number;
  /** First update to commit. */
  roundMs: number;
  /** The event loop thread's longest garbage-collection pause in the round (ms): the part of a stall that is V8's. */
  longestGcMs: number;
  /** How long the event loop thread waited for a core in the round (Linux schedstat; null elsewhere): a busy machine's share. */
  runQueueWaitMs: number | null;
}

export interface FoldStallResults {
  params: number;
  updates: number;
  /** Updates per producer message: what one socket read phase might deliver at once. */
  burst: number;
  /** Rounds measured in each place; each figure is their median. */
  trials: number;
  eventLoop: FoldPlace;
  worker: FoldPlace;
  /** MB of update frames decoded, checked and folded per CPU second of the thread doing it, on the event loop and in the worker. */
  throughputMBs: { eventLoop: number; worker: number };
}

const xrayJoin = (name: string): JoinRequest => ({
  name,
  kind: 'headless',
  data: { task: 'chest-xray', imageSize: 64, train: { normal: 500, pneumonia: 500 }, test: { normal: 5, pneumonia: 5 } },
  backend: { name: 'cpu' },
});

/** Time the event loop's thread (the process's main thread) has waited for a core, in ms; null where Linux's schedstat is missing. */
function mainThreadRunQueueMs(): number | null {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(/\s+/)[1]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}

/** A plain-JS thread that copies the frame it was given `count` times per request and moves the copies back. */
function startProducer(frame: Uint8Array): Worker {
  const producer = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let frame = null;
     parentPort.on('message', (m) => {
       if (m.frame) { frame = m.frame; return; }
       const frames = Array.from({ length: m.count }, () => new Uint8Array(frame));
       parentPort.postMessage(frames, frames.map((f) => f.buffer));
     });`,
    { eval: true, execArgv: [] },
  );
  producer.postMessage({ frame });
  return producer;
}

/** One round of `updates` clients on a fresh hub folding in `place`; the loop's delays from the first update to the commit. */
async function measureRound(place: 'eventLoop' | 'worker', chest: FlatWeights, updates: number, burst: number): Promise<FoldPlace> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-fold-bench-'));
  const log = { info: () => {}, warn: () => {}, error: () => {} };
  const app = await buildApp({
    dataDir,
    adminToken: 'bench',
    mnistDir: defaultMnistDir(),
    initialWeights: (task: TaskId) => (task === 'chest-xray' ? chest : { shapes: [[1]], values: new Float32Array(1) }),
    folds: place === 'worker' ? new FoldWorker(log) : false,
  });
  const producer = startProducer(new Uint8Array(0));
  try {
    const { coordinator } = app;
    const store = sqliteOf(app);
    const ids = Array.from({ length: updates }, (_, i) => `client-${i}`);
    for (const id of ids) coordinator.join(id, xrayJoin(id));
    const { id: runId } = await coordinator.launch({ task: 'chest-xray', rounds: 1, minClients: updates, roundTimeoutSec: 3600, seed: 1, init: 'fresh', maxClientShare: 1 });
    const rng = createRng(3);
    const values = Float32Array.from({ length: chest.values.length }, () => rng() * 2 - 1);
    producer.postMessage({ frame: encodeWeights({ shapes: chest.shapes, values }, { round: 1, runTag: seedFromString(runId) }) });

    let committedAt = 0;
    const committed = new Promise<void>((resolve) => {
      coordinator.onRunChanged(() => {
        if (committedAt || !store.run(runId)?.rounds.some((r) => r.round === 1 && r.status === 'completed')) return;
        // Inside the block that commits: the stall that ends next is the commit's.
        committedAt = performance.timeOrigin + performance.now();
        resolve();
      });
    });
    const answers: Promise<UpdateReceipt>[] = [];
    let sent = 0;
    let unanswered = 0;
    let asked = false;
    // At most a few bursts await their answers, so that memory holds a few dozen frames, not the round's 6 GB.
    const askMore = () => {
      if (asked || sent >= updates || unanswered >= 3 * burst) return;
      asked = true;
      producer.postMessage({ count: Math.min(burst, updates - sent) });
    };
    const allSent = new Promise<void>((resolve) => {
      producer.on('message', (frames: Uint8Array[]) => {
        asked = false;
        for (const weights of frames) {
          const id = ids[sent++]!;
          unanswered += 1;
          const answer = Promise.resolve(coordinator.submit(id, { runId, round: 1, samples: 1000, weights, metrics: { loss: 0.5, accuracy: 0.5, trainMs: 10 } }));
          answers.push(answer);
          void answer.finally(() => {
            unanswered -= 1;
            askMore();
          });
        }
        if (sent >= updates) resolve();
        else askMore();
      });
    });
    let longestGcMs = 0;
    const gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
    });
    gc.observe({ entryTypes: ['gc'] });
    const waitedBefore = mainThreadRunQueueMs();
    // A 1 ms interval probe: each late tick is a block of the loop that ended then.
    const probe = watchStalls({ intervalMs: 1, thresholdMs: 1, max: 1_000_000 });
    const start = performance.now();
    askMore();
    await allSent;
    await Promise.all(answers);
    await committed;
    // One more tick: the commit's block is seen when the probe fires after it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    probe.stop();
    gc.disconnect();
    const roundMs = performance.now() - start;
    const waitedAfter = mainThreadRunQueueMs();
    const runQueueWaitMs = waitedBefore === null || waitedAfter === null ? null : waitedAfter - waitedBefore;
    const stalls = probe.stalls();
    const commit = stalls.find((stall) => stall.at >= committedAt);
    const others = stalls.filter((stall) => stall !== commit).map((stall) => stall.ms);
    return {
      stallMs: probe.longestMs(),
      stallWhileFoldingMs: Math.max(0, ...others),
      stallToCommitMs: commit?.ms ?? 0,
      roundMs,
      longestGcMs,
      runQueueWaitMs,
    };
  } finally {
    await producer.terminate();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Decode + check + fold of `updates` frames, per second of CPU time: on this thread (the validator and the aggregator) and in the worker. */
async function measureThroughput(chest: FlatWeights, updates: number): Promise<{ eventLoop: number; worker: number }> {
  const spec: SumSpec = { aggregation: { strategy: 'fedavg', trimFraction: 0.2, byzantine: 1, clipNorm: null }, dp: null, participants: updates };
  const expect = { shapes: chest.shapes, task: 'chest-xray' as const, round: 1, runTag: seedFromString('bench') };
  const frame = encodeWeights(chest, { round: 1, runTag: expect.runTag });
  const mb = (updates * frame.byteLength) / 1e6;

  const here = localSum(createRoundAggregator(spec, chest.values, chest.values));
  const frames = Array.from({ length: Math.min(updates, 50) }, () => new Uint8Array(frame));
  const started = threadCpuMs();
  for (let u = 0; u < updates; u++) here.add(checkFrame(frames[u % frames.length]!, expect, chest.values), 100 + u);
  here.finish();
  const hereMs = threadCpuMs() - started;

  const folds = new FoldWorker({ info: () => {}, warn: () => {}, error: () => {} });
  try {
    // A first round starts the thread and loads its code: not counted.
    const warm = folds.open(spec, chest.values, chest.values, expect);
    (await warm.check(new Uint8Array(frame), 1)).fold();
    await warm.finish();
    const sum = folds.open(spec, chest.values, chest.values, expect);
    const checked = [];
    for (let u = 0; u < updates; u++) checked.push(sum.check(new Uint8Array(frame), 100 + u));
    for (const c of checked) (await c).fold();
    const total = await sum.finish();
    return { eventLoop: mb / (hereMs / 1000), worker: mb / (total.busyMs / 1000) };
  } finally {
    await folds.close();
  }
}

/** Each field's median over the trials (a longest stall is one event: a single round's is noisy on a shared machine). */
function medianPlace(places: FoldPlace[]): FoldPlace {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const waits = places.map((p) => p.runQueueWaitMs);
  return {
    stallMs: median(places.map((p) => p.stallMs)),
    stallWhileFoldingMs: median(places.map((p) => p.stallWhileFoldingMs)),
    stallToCommitMs: median(places.map((p) => p.stallToCommitMs)),
    roundMs: median(places.map((p) => p.roundMs)),
    longestGcMs: median(places.map((p) => p.longestGcMs)),
    runQueueWaitMs: waits.every((w) => w !== null) ? median(waits as number[]) : null,
  };
}

/**
 * `trials` rounds of `updates` updates of the FedAvg paper's CNN (1.66M values, 6.65 MB a frame) in each place,
 * alternating so that the machine's load weighs on both alike; the median of each figure, and the fold's throughput.
 */
export async function benchFoldStall(
  options: { updates?: number; params?: number; burst?: number; trials?: number; log?: (m: string) => void } = {},
): Promise<FoldStallResults> {
  const updates = options.updates ?? 1000;
  const burst = options.burst ?? 20;
  const trials = options.trials ?? 3;
  const params = options.params ?? FEDAVG_CNN_PARAMS;
  const rng = createRng(1);
  const shapes = params === FEDAVG_CNN_PARAMS ? FEDAVG_CNN_SHAPES : [[params]];
  const chest: FlatWeights = { shapes, values: Float32Array.from({ length: params }, () => rng() - 0.5) };
  const log = options.log ?? (() => {});
  const line = (where: string, p: FoldPlace) =>
    log(
      `   ${where}: longest stall ${p.stallMs.toFixed(1)} ms (while folding ${p.stallWhileFoldingMs.toFixed(1)}, to the commit ${p.stallToCommitMs.toFixed(1)}; ` +
        `longest GC ${p.longestGcMs.toFixed(1)}, waited for a core ${p.runQueueWaitMs?.toFixed(0) ?? 'n/a'} ms), round ${p.roundMs.toFixed(0)} ms`,
    );
  const onLoop: FoldPlace[] = [];
  const inWorker: FoldPlace[] = [];
  for (let t = 0; t < trials; t++) {
    onLoop.push(await measureRound('eventLoop', chest, updates, burst));
    line(`on the event loop (${t + 1}/${trials})`, onLoop.at(-1)!);
    inWorker.push(await measureRound('worker', chest, updates, burst));
    line(`in the fold worker (${t + 1}/${trials})`, inWorker.at(-1)!);
  }
  const throughputMBs = await measureThroughput(chest, Math.min(updates, 200));
  log(`   decode + check + fold: ${throughputMBs.eventLoop.toFixed(0)} MB/s on the event loop, ${throughputMBs.worker.toFixed(0)} MB/s in the worker`);
  return { params, updates, burst, trials, eventLoop: medianPlace(onLoop), worker: medianPlace(inWorker), throughputMBs };
}
