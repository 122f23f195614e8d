import type { RoundBreakdown } from './training-bench';
import type { CapacityStep, LightweightRound } from './capacity-bench';
import { capacityMeaning, capacityParts, capacityRows, capacityTable, isLightweightRounds, lightweightRoundLine } from './capacity-report';
import type { SynchronousResult } from './store-bench';
import type { ClusterBenchResults } from './cluster-bench';
import type { MessageBytes, SecAggResults, SecAggRoundTime } from './secagg-bench';
import { browserWorkerMeaning, browserWorkerRows } from './browser-report';
import type { PrivacyResults } from './privacy-bench';
import { privacyMeaning, privacyPlotSvg, privacyRows, privacySection } from './privacy-report';
import type { OptimizersResults } from './optimizers-bench';
import { optimizersMeaning, optimizersPlotSvg, optimizersRows, optimizersSection } from './optimizers-report';
import { foldStallMeaning, foldStallRows } from './fold-report';

type Format = 'float32' | 'float16' | 'int8';

/** One update message as measured on the wire: envelope (text packet), frame (binary packet), and the frame's values alone. */
export interface WireOverhead {
  envelopeBytes: number;
  frameBytes: number;
  valueBytes: number;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpu: string; memoryGiB: number; node: string };
  mnistParams: number;
  aggregationVsMemcpy?: number;
  aggregation?: { params: number; updates: number; aggregateMs: number; memcpyMs: number; simd?: boolean; foldWithCopyMs?: number; scalarMs?: number };
  wireRatio?: Partial<Record<'float32' | 'float16' | 'int8', number>>;
  wireTotalRatio?: Partial<Record<'float32' | 'float16' | 'int8', number>>;
  wireRatioFedAvgCnn?: Partial<Record<'float32' | 'float16' | 'int8', number>>;
  wireAccuracy?: Partial<Record<'float32' | 'float16' | 'int8', number>>;
  wireOverhead?: Partial<Record<Format, WireOverhead>>;
  wireRounds?: number;
  roundOverhead8?: number;
  /** Lightweight rounds in load workers; real headless training in the hub's process in results from before them. */
  roundOverhead8Rounds?: LightweightRound[] | RoundBreakdown[];
  roundOverhead100?: number;
  roundOverhead100Rounds?: LightweightRound[];
  /** SQLite commit of one round under synchronous=FULL and NORMAL (WAL), per model. */
  durability?: SynchronousResult[];
  capacity?: CapacityStep[];
  /** When the capacity ladder ran, and whether alone (`--only capacity`, with the round overheads) or in the whole run. */
  capacityRun?: { date: string; alone: boolean; durationSec: number };
  maxClients?: number;
  fedVsCentral?: number;
  fedVsCentralByLabel?: number;
  fedVsCentralDetail?: { rounds: number; central: number; iid: number; byLabel: number; clients?: number; digits?: number };
  browserMsPerBatch?: Partial<Record<string, number>>;
  clientVsBareTfjs?: number;
  browser?: unknown;
  /** Secure aggregation vs plain: round time, bytes a client sends, client CPU (possibly from an --only secagg run). */
  secagg?: SecAggResults;
  /** DP-FedAvg accuracy against epsilon, with a no-DP run (possibly from an --only privacy run). */
  privacy?: PrivacyResults;
  /** Each server optimiser at its defaults, IID and by-label, against the centralised model (possibly from an --only optimizers run). */
  optimizers?: OptimizersResults;
  /** Rounds through 3 hub nodes behind nginx vs 1 node, and the bytes between the nodes (possibly from an --only cluster run). */
  cluster?: ClusterBenchResults & { alone?: boolean };
  durationSec?: number;
}

const f = (x: number | undefined, digits = 3) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');

/** The figures as rows: name, value, target, whether the target is met. */
export function rows(r: BenchResults): [string, string, string, string][] {
  const acc32 = r.wireAccuracy?.float32;
  const within = (x: number | undefined) => (x === undefined || acc32 === undefined ? undefined : acc32 - x <= 0.003);
  return [
    ['aggregationVsMemcpy', f(r.aggregationVsMemcpy), '>= 0.5', verdict(r.aggregationVsMemcpy === undefined ? undefined : r.aggregationVsMemcpy >= 0.5)],
    ...foldStallRows(r.foldStall),
    ['wireRatio.float32', f(r.wireRatio?.float32), '<= 1.02', verdict(r.wireRatio?.float32 === undefined ? undefined : r.wireRatio.float32 <= 1.02)],
    ['wireRatio.float16', f(r.wireRatio?.float16), '<= 0.51', verdict(r.wireRatio?.float16 === undefined ? undefined : r.wireRatio.float16 <= 0.51)],
    ['wireRatio.int8', f(r.wireRatio?.int8), '<= 0.26', verdict(r.wireRatio?.int8 === undefined ? undefined : r.wireRatio.int8 <= 0.26)],
    ['  the same update message for the 1.66M-parameter FedAvg CNN, float32 / float16 / int8', `${f(r.wireRatioFedAvgCnn?.float32, 4)} / ${f(r.wireRatioFedAvgCnn?.float16, 4)} / ${f(r.wireRatioFedAvgCnn?.int8, 4)}`, '(same targets)', verdict(r.wireRatioFedAvgCnn?.int8 === undefined ? undefined : r.wireRatioFedAvgCnn.float32! <= 1.02 && r.wireRatioFedAvgCnn.float16! <= 0.51 && r.wireRatioFedAvgCnn.int8 <= 0.26)],
    ['  everything a client sends per round (with progress reports), float32 / float16 / int8', `${f(r.wireTotalRatio?.float32)} / ${f(r.wireTotalRatio?.float16)} / ${f(r.wireTotalRatio?.int8)}`, '(no target)', ''],
    [`accuracy after ${r.wireRounds ?? '?'} round(s) float32 / float16 / int8`, `${f(acc32, 4)} / ${f(r.wireAccuracy?.float16, 4)} / ${f(r.wireAccuracy?.int8, 4)}`, 'within 0.3 points of float32', verdict(within(r.wireAccuracy?.float16) === undefined ? undefined : within(r.wireAccuracy?.float16)! && within(r.wireAccuracy?.int8)!)],
    ['roundOverhead8', f(r.roundOverhead8), '<= 0.03', verdict(r.roundOverhead8 === undefined ? undefined : r.roundOverhead8 <= 0.03)],
    ['roundOverhead100', f(r.roundOverhead100), '<= 0.10', verdict(r.roundOverhead100 === undefined ? undefined : r.roundOverhead100 <= 0.1)],
    ...capacityRows(r.capacity, r.maxClients),
    ['fedVsCentral (IID)', f(r.fedVsCentral, 4), '>= 0.995', verdict(r.fedVsCentral === undefined ? undefined : r.fedVsCentral >= 0.995)],
    ['fedVsCentral (by-label)', f(r.fedVsCentralByLabel, 4), '(no target)', ''],
    ...Object.entries(r.browserMsPerBatch ?? {}).map(([backend, ms]): [string, string, string, string] => [`browser MNIST CNN ms/batch, ${backend}`, f(ms, 1), '', '']),
    ['clientVsBareTfjs', f(r.clientVsBareTfjs), '>= 0.9', verdict(r.clientVsBareTfjs === undefined ? undefined : r.clientVsBareTfjs >= 0.9)],
    ...browserWorkerRows(r.browser),
    ...secaggRows(r.secagg),
    ...privacyRows(r.privacy),
    ...optimizersRows(r.optimizers),
    ...clusterRows(r.cluster),
  ];
}

function clusterRows(c: BenchResults['cluster']): [string, string, string, string][] {
  if (!c) return [];
  return [
    [`clusterVsOneNode: mean round, 3 nodes behind nginx vs 1 node, ${c.clients} clients`, f(c.ratio), '(no target: 2 cores; the cost of the hop)', ''],
    ['bytes between the nodes per round vs the updates they carry', f(c.betweenNodesVsUpdates, 4), '(goal: one partial sum per node)', ''],
  ];
}

function clusterSection(c: BenchResults['cluster']): string {
  if (!c) return '_Not measured in this run._';
  const n = (x: number | undefined) => (x ?? 0).toLocaleString('en-US');
  const line = (s: ClusterBenchResults['one']) =>
    `| ${s.nodes} | ${s.roundMs.map((m) => ms(m)).join(', ')} | ${ms(mean(s.roundMs))} | ${n(s.redisBytes)} | ${n(s.forwardedBytes)} | ${n(s.relayBytes)} | ${n(s.relayed?.heldUpdates)} | ${n(s.relayed?.partials)} | ${n(s.relayed?.wholeUpdates)} |`;
  const three = c.three;
  const between = (three.redisBytes + three.forwardedBytes + (three.relayBytes ?? 0)) / c.rounds;
  return `${c.alone ? '_From an `--only cluster` run._\n\n' : ''}${c.clients} lightweight clients in load workers (${c.trainMs} ms of simulated training each), ${c.rounds} MNIST rounds: one node on PostgreSQL and Redis with the clients connected to it, then three nodes behind nginx with the clients connected through nginx. Each side starts its own PostgreSQL, Redis and nginx.

| nodes | rounds (ms) | mean (ms) | Redis bytes in the run | HTTP bytes forwarded between nodes | relay-link bytes | updates held on relaying nodes | partial sums to the leader | updates relayed whole |
|---|---|---|---|---|---|---|---|---|
${line(c.one)}
${line(c.three)}

What the Socket.IO adapter put in its Redis stream during the three-node run, by namespace: ${Object.entries(c.three.streamByNamespace ?? {})
    .map(([nsp, v]) => `${nsp} ${v.messages} messages, ${v.bytes.toLocaleString('en-US')} bytes`)
    .join('; ') || 'nothing'} (Redis's own byte counts above also hold each message's delivery to every other node and the adapter's heartbeats).

The updates of one round are ${n(c.updateBytesPerRound)} bytes (${c.clients} MNIST frames); with three nodes, ${between.toLocaleString('en-US', { maximumFractionDigits: 0 })} bytes a round crossed between the nodes (Redis, forwarded requests and the relay links). nginx spread the clients over the nodes; the two relaying nodes kept ${n(three.relayed?.heldUpdates)} of the run's ${n(c.clients * c.rounds)} updates and handed the leader ${n(three.relayed?.partials)} partial sums (float64, two frames' worth each) instead (hierarchical FedAvg); of the relay links' ${n(three.relayBytes)} bytes in the run, the partial sums were ${n(three.relayed?.partialBytes)}, the binary parts of the leader's messages to the relayed clients (each round's model, once per relaying node, and each client's MNIST shard) ${n(three.relayed?.binaryBytes)}, and the rest (${n((three.relayBytes ?? 0) - (three.relayed?.partialBytes ?? 0) - (three.relayed?.binaryBytes ?? 0))}) the relayed clients' control messages and their answers (joins, round starts with their settings, progress, update envelopes).`;
}

/** Targets of the secure round time, by client count (issue 10). */
export const SECURE_ROUND_TARGETS: Record<number, number> = { 10: 1.5, 100: 2.0 };
export const SECURE_BYTES_TARGET = 1.15;

function secaggRows(s: SecAggResults | undefined): [string, string, string, string][] {
  if (!s) return [];
  const out: [string, string, string, string][] = [];
  const measured = new Set(s.roundTime.map((x) => x.clients));
  for (const x of s.roundTime) {
    const target = SECURE_ROUND_TARGETS[x.clients];
    out.push([
      `secureVsPlainRound, ${x.clients} clients`,
      f(x.ratio),
      target === undefined ? `(no target${s.quick ? ': --quick size' : ''})` : `<= ${target.toFixed(1)}`,
      target === undefined ? '' : verdict(x.ratio <= target),
    ]);
  }
  for (const [clients, target] of Object.entries(SECURE_ROUND_TARGETS)) {
    if (!measured.has(Number(clients))) out.push([`secureVsPlainRound, ${clients} clients`, 'n/a', `<= ${target.toFixed(1)}`, verdict(undefined)]);
  }
  const b = s.bytes;
  out.push(['secureVsPlainBytes, 1.66M-parameter CNN', f(b?.cnn.ratio, 4), `<= ${SECURE_BYTES_TARGET}`, verdict(b ? b.cnn.ratio <= SECURE_BYTES_TARGET : undefined)]);
  out.push([`  the same for the MNIST model (${b ? b.mnist.params.toLocaleString('en-US') : '?'} parameters), as sent on the wire`, f(b?.mnist.ratio, 4), '(no target)', '']);
  out.push(['secureMaskVsEncode, 1.66M parameters (client CPU)', f(s.cpu?.ratio, 1), '(no target)', '']);
  return out;
}

/** The hand-written analysis kept in BENCHMARKS.md between these markers; the generator carries it over verbatim. */
export const ANALYSIS_START = '<!-- analysis: hand-written, kept by pnpm bench -->';
export const ANALYSIS_END = '<!-- end of analysis -->';

/** The hand-written analysis block of an existing BENCHMARKS.md (markers included), or null. */
export function extractAnalysis(markdown: string): string | null {
  const from = markdown.indexOf(ANALYSIS_START);
  const to = markdown.indexOf(ANALYSIS_END, from);
  return from === -1 || to === -1 ? null : markdown.slice(from, to + ANALYSIS_END.length);
}

const ms = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Math.abs(x) < 10 ? x.toFixed(1) : `${Math.round(x)}`;
const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Where the ladder's figures (and the round overheads beside them) come from, when the results say. */
function capacityRunLine(run: BenchResults['capacityRun']): string {
  if (!run) return '';
  const where = run.alone ? 'by the capacity section alone (`--only capacity`, with the round overheads above), not in the run above' : 'in the run above';
  return `\nMeasured on ${run.date.slice(0, 10)} ${where}; the ladder took ${run.durationSec} s.\n`;
}

/** The report: the console table, BENCHMARKS.md, and the privacy and server optimiser plots' SVGs (null when not measured). */
export function renderReport(
  r: BenchResults,
  options: { analysis?: string | null } = {},
): { table: string; markdown: string; privacySvg: string | null; optimizersSvg: string | null } {
  const table = rows(r)
    .map(([name, value, target, met]) => `${name.padEnd(58)} ${value.padStart(24)}  ${target.padEnd(34)} ${met.replaceAll('*', '')}`)
    .join('\n');
  const markdownRows = rows(r).map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const analysis =
    options.analysis ??
    `${ANALYSIS_START}\n_No hand-written analysis yet: write it here, dated; \`pnpm bench\` keeps this block as it is._\n${ANALYSIS_END}`;
  const a = r.aggregation;
  const light = r.roundOverhead100Rounds?.[0];
  const d = r.fedVsCentralDetail;
  const markdown = `# Benchmarks

Measured by \`pnpm bench${r.quick ? ' --quick' : ''}\` on ${r.date.slice(0, 10)}: ${r.machine.cpus} x ${r.machine.cpu}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, no GPU.
Every figure is a ratio of two things measured side by side in the same run, so that a noisy machine
moves both sides together. Raw numbers: \`bench-results.json\`. Run time ${r.durationSec ?? '?'} s.
Everything down to "What each figure means" is generated from this run's figures; the analysis section
below it is hand-written and dated, and not regenerated.

| figure | value | target | |
|---|---|---|---|
${markdownRows}

## Capacity steps
${capacityRunLine(r.capacityRun)}
| clients | passed | rounds | p95 coordination (ms) | p95 round (ms) | peak hub RSS (MiB) | hub RSS per idle client (KiB) | longest stall, ms (outside evaluations) | load workers | note |
|---|---|---|---|---|---|---|---|---|---|
${capacityTable(r.capacity)}

Where each step's round time went (ms; start to first model + spread + late update + last ack + ack to commit = coordination,
the round less its simulated training):

${capacityParts(r.capacity)}

## Where each missed target's time or bytes went (measured in this run)

${misses(r)}

## Secure aggregation vs plain

${secagg(r)}

## Differential privacy: accuracy against epsilon

${privacySection(r.privacy)}

## Server optimisers: fedVsCentral per optimiser, IID and by-label

${optimizersSection(r.optimizers)}

## Several hub nodes: 3 behind nginx vs 1

${clusterSection(r.cluster)}

## Durability: SQLite synchronous=FULL vs NORMAL (WAL)

${durability(r)}

## What each figure means

- **aggregationVsMemcpy**: throughput of folding ${a ? a.updates : 'N'} updates of ${a ? a.params.toLocaleString('en-US') : 'N'} parameters (the FedAvg paper's MNIST
  CNN) into the hub's streaming FedAvg sum, divided by the throughput of copying the same Float32Arrays with
  \`Float32Array.prototype.set\` in the same process. 1.0 would mean aggregation runs at memory-copy speed.
  The fold is ${a?.simd === false ? 'the scalar loop (no WebAssembly SIMD here)' : 'the WebAssembly SIMD kernel (hub/src/aggregation/simd-fold.ts), each update already in its staging slot'}${foldParts(a)}
${foldStallMeaning(r.foldStall)}
- **wireRatio.\\***: bytes a client's Socket.IO transport sends for its \`update:submit\` each round (the JSON
  envelope with run, round, samples and metrics, plus the binary weight frame), divided by 4 x the model's
  ${r.mnistParams} parameters. The row below counts everything the client sends (progress reports too). float16 and int8
  send the change from the received global model; the accuracy row is the held-out accuracy of the same
  4-client run after ${r.wireRounds ?? '?'} round(s) with each format.
- **roundOverhead8**: (round wall time - the clients' training time) / round wall time, with 8 lightweight clients in
  load-worker processes and the hub in its own process; each client waits ${light ? ms(light.simulatedTrainMs) : '?'} ms as its "training", then sends a
  valid random update, so everything above the wait is the hub's coordination and the messages' trips. Wall time runs from
  the hub starting the round to the new global model being committed; the held-out evaluation runs after it, while the next
  round trains. (Before the load workers this figure came from 8 headless MNIST clients training in the hub's own thread.)
- **roundOverhead100**: the same with 100 lightweight clients.
${capacityMeaning(r.capacity)}
- **fedVsCentral**: held-out accuracy of a ${d?.clients ?? 4}-client federated run after N rounds (1 epoch each) divided by the
  accuracy of one model trained on the same ${d?.digits?.toLocaleString('en-US') ?? ''} digits for N epochs with the same optimiser and batch size.
${secaggMeanings(r.secagg)}
${privacyMeaning(r.privacy)}
${optimizersMeaning(r.optimizers)}
- **browser**: per-batch time of the MNIST CNN in headless Chromium on each backend, and the
  tab's own training loop (\`trainLocal\`) against a bare \`model.fit\` on the same data (\`clientVsBareTfjs\`,
  throughput ratio).
${browserWorkerMeaning(r.browser)}

## Analysis

${analysis}

## Reproduce

\`\`\`sh
npm run setup
pnpm bench          # full: ~15-25 minutes on 2 cores
pnpm bench --quick  # reduced: fewer rounds and steps, a few minutes
pnpm bench --report-only  # BENCHMARKS.md again from bench-results.json, keeping the analysis
pnpm bench --only privacy # the differential privacy section alone, into the last bench-results.json
pnpm bench --only capacity # round overheads and the capacity ladder alone (today's hub: ~25 minutes)
pnpm bench capacity --clients 10000 --rounds 3  # one capacity run: one JSON line (--train-ms, --per-round, --profile DIR)
pnpm bench --only optimizers # the server optimiser section alone (--skip optimizers leaves it out)
pnpm bench --only folds # aggregation vs memcpy, and the event loop's longest stall in a 1,000-update round, folding there and in the fold worker
\`\`\`
`;
  return { table, markdown, privacySvg: privacyPlotSvg(r.privacy), optimizersSvg: optimizersPlotSvg(r.optimizers) };
}

/** The fold's other measured variants, side by side with the kernel in the same run. */
function foldParts(a: BenchResults['aggregation']): string {
  if (!a || a.foldWithCopyMs === undefined || a.scalarMs === undefined) return '.';
  const ratio = (ms: number) => f(a.memcpyMs / ms);
  return (
    `: ${f(a.aggregateMs, 0)} ms for the ${a.updates} updates; from a Float32Array, copied into the slot first, ${f(a.foldWithCopyMs, 0)} ms ` +
    `(${ratio(a.foldWithCopyMs)} of memcpy); the scalar JavaScript loop it replaced ${f(a.scalarMs, 0)} ms (${ratio(a.scalarMs)}).`
  );
}

/** For each missed target, the same run's measured parts of it; no reason that was not measured. */
function misses(r: BenchResults): string {
  const items: string[] = [];
  const a = r.aggregation;
  if (a && (r.aggregationVsMemcpy ?? 1) < 0.5) {
    const foldMs = a.aggregateMs / a.updates;
    const copyMs = a.memcpyMs / a.updates;
    const gbps = (bytes: number, t: number) => (bytes / (t / 1000) / 1e9).toFixed(2);
    items.push(
      `- **aggregationVsMemcpy ${f(r.aggregationVsMemcpy)}**: folding one ${a.params.toLocaleString('en-US')}-parameter update took ${f(foldMs, 2)} ms ` +
        `(${gbps(a.params * 4, foldMs)} GB/s of float32 input), copying it ${f(copyMs, 2)} ms (${gbps(a.params * 4, copyMs)} GB/s). ` +
        `${a.updates} updates fold in ${f(a.aggregateMs, 0)} ms.`,
    );
  }
  const w = r.wireRatio;
  const formats = (['float32', 'float16', 'int8'] as const).filter((k) => r.wireOverhead?.[k]);
  const wireMissed = w && ((w.float32 ?? 0) > 1.02 || (w.float16 ?? 0) > 0.51 || (w.int8 ?? 0) > 0.26);
  if (wireMissed && formats.length) {
    const parts = formats.map((k) => {
      const o = r.wireOverhead![k]!;
      const header = o.frameBytes - o.valueBytes;
      const fixed = o.envelopeBytes + header;
      return (
        `${k}: ${ms(o.envelopeBytes)} bytes of event envelope + ${ms(header)} bytes of frame header around ${ms(o.valueBytes)} bytes of values, ` +
        `so ${ms(fixed)} fixed bytes = ${f(fixed / (4 * r.mnistParams), 4)} of the ratio`
      );
    });
    items.push(
      `- **wireRatio float32 ${f(w!.float32)} / float16 ${f(w!.float16)} / int8 ${f(w!.int8)}**: per update message, as sent (${parts.join('; ')}). ` +
        `With the same envelopes around frames of the ${(r.aggregation?.params ?? 0).toLocaleString('en-US')}-parameter CNN the ratios are ` +
        `${f(r.wireRatioFedAvgCnn?.float32, 4)} / ${f(r.wireRatioFedAvgCnn?.float16, 4)} / ${f(r.wireRatioFedAvgCnn?.int8, 4)}.`,
    );
  }
  const eight = r.roundOverhead8Rounds ?? [];
  if ((r.roundOverhead8 ?? 0) > 0.03 && isLightweightRounds(eight)) {
    items.push(`- **roundOverhead8 ${f(r.roundOverhead8)}**, seen from the clients (ms):\n${eight.map(lightweightRoundLine).join('\n')}`);
  } else if ((r.roundOverhead8 ?? 0) > 0.03 && eight.length) {
    const line = (x: RoundBreakdown) =>
      `  - round ${x.round}: ${ms(x.durationMs)} ms, slowest training ${ms(x.slowestTrainMs)} ms. Along the update that arrived last: ` +
      `hub encode ${ms(x.hubEncodeMs)}, send ${ms(x.sendMs)}, client decode and load ${ms(x.clientDecodeMs)}, ` +
      `client compile and train ${ms(x.clientTrainMs)}, client encode ${ms(x.clientEncodeMs)}, upload ${ms(x.uploadMs)}, ` +
      `hub decode and fold ${ms(x.hubFoldMs)} ms. Mean over the clients: decode and load ${ms(x.meanClientDecodeMs)}, encode ${ms(x.meanClientEncodeMs)} ms. ` +
      `After the round: SQLite commit ${ms(x.commitMs)} ms, held-out evaluation ${ms(x.evaluateMs)} ms (overlapping the next round).`;
    items.push(`- **roundOverhead8 ${f(r.roundOverhead8)}**, per round (ms):\n${(eight as RoundBreakdown[]).map(line).join('\n')}`);
  }
  const hundred = r.roundOverhead100Rounds ?? [];
  if ((r.roundOverhead100 ?? 0) > 0.1 && hundred.length) {
    items.push(`- **roundOverhead100 ${f(r.roundOverhead100)}**, seen from the clients (ms):\n${hundred.map(lightweightRoundLine).join('\n')}`);
  }
  if ((r.fedVsCentral ?? 1) < 0.995 && r.fedVsCentralDetail) {
    const d = r.fedVsCentralDetail;
    items.push(
      `- **fedVsCentral ${f(r.fedVsCentral, 4)}**: after ${d.rounds} rounds the federated IID run scored ${f(d.iid, 4)}, the central model ` +
        `${f(d.central, 4)} after as many epochs from the same initial weights (by-label partition: ${f(d.byLabel, 4)}).`,
    );
  }
  items.push(...secaggMisses(r));
  return items.length ? items.join('\n') : 'Every target with a value was met in this run.';
}

/** A secure round's time cut by the hub's stages, and what the clients' process spent on it, all from the same run. */
function secureRoundWhy(x: SecAggRoundTime, cores: number): string {
  const b = x.secure;
  const perClientCpu = (x.clientCpuMs.secure - x.clientCpuMs.plain) / x.clients;
  return (
    `secure ${ms(x.secureMs)} ms against plain ${ms(x.plainMs)} ms per round, both with ${ms(x.delayMs)} ms of simulated training. ` +
    `The hub's stages: keys ${ms(b.keysMs)}, shares ${ms(b.sharesMs)}, training stage ${ms(b.trainStageMs)} (the ${ms(x.delayMs)} ms delay, masking and upload), ` +
    `reveals ${ms(b.revealMs)}, unmasking ${ms(b.finishMs)}, the rest ${ms(b.restMs)} ms. Per client (wall time, all ${x.clients} clients in one process): ` +
    `key pairs ${ms(b.client.keygenMs)}, sealing shares ${ms(b.client.sharesMs)}, opening shares ${ms(b.client.openMs)}, masking ${ms(b.client.maskMs)} ms. ` +
    `That process spent ${ms(x.clientCpuMs.secure)} ms of CPU per secure round against ${ms(x.clientCpuMs.plain)} ms plain ` +
    `(${ms(perClientCpu)} ms more per client, run here on ${cores} cores for all of them); the hub's process ${ms(x.hubCpuMs.secure)} against ${ms(x.hubCpuMs.plain)} ms.`
  );
}

function secaggMisses(r: BenchResults): string[] {
  const s = r.secagg;
  if (!s) return [];
  const items: string[] = [];
  for (const x of s.roundTime) {
    const target = SECURE_ROUND_TARGETS[x.clients];
    if (target !== undefined && x.ratio > target) items.push(`- **secureVsPlainRound ${x.clients} clients ${f(x.ratio)}**: ${secureRoundWhy(x, r.machine.cpus)}`);
  }
  const b = s.bytes;
  if (b && b.cnn.ratio > SECURE_BYTES_TARGET) {
    const parts = b.cnn.secure.map((m) => `${m.event} ${ms(m.envelopeBytes)} + ${ms(m.frameBytes)}`).join(', ');
    items.push(`- **secureVsPlainBytes ${f(b.cnn.ratio, 4)}**: one client's messages of one round, envelope + frame bytes: ${parts}; plain update:submit ${ms(b.cnn.plain[0]?.envelopeBytes)} + ${ms(b.cnn.plain[0]?.frameBytes)}.`);
  }
  return items;
}

const totalBytes = (messages: MessageBytes[]) => messages.reduce((sum, m) => sum + m.envelopeBytes + m.frameBytes, 0);

function secagg(r: BenchResults): string {
  const s = r.secagg;
  if (!s) return 'Not measured in this run.';
  const sizes = s.roundTime.map((x) => x.clients).join(' and ');
  const rounds = s.roundTime[0]?.rounds ?? '?';
  const alone = s.alone ? ' by the secure aggregation section alone (`--only secagg`), not in the run above' : ' in the run above';
  const provenance =
    `Measured on ${s.date.slice(0, 10)}${alone}${s.quick ? ', reduced (--quick: 30 clients instead of 100, fewer rounds and repeats)' : ''}: ${sizes} lightweight clients on one hub in its own process, ` +
    `a plain run then a secure run of ${rounds} round(s) each after a one-round warm-up, the same clients and the same simulated training in both.`;
  const stages = s.roundTime
    .map((x) => {
      const b = x.secure;
      return `| ${x.clients} | ${x.degree} / ${x.threshold} | ${ms(x.plainMs)} | ${ms(x.secureMs)} | ${f(x.ratio)} | ${ms(b.keysMs)} | ${ms(b.sharesMs)} | ${ms(b.trainStageMs)} (${ms(x.delayMs)}) | ${ms(b.revealMs)} | ${ms(b.finishMs)} | ${ms(b.restMs)} |`;
    })
    .join('\n');
  const clients = s.roundTime
    .map((x) => {
      const c = x.secure.client;
      return `| ${x.clients} | ${ms(c.keygenMs)} | ${ms(c.sharesMs)} | ${ms(c.openMs)} | ${ms(c.maskMs)} | ${ms(c.revealMs)} | ${ms(x.clientCpuMs.plain)} / ${ms(x.clientCpuMs.secure)} | ${ms(x.hubCpuMs.plain)} / ${ms(x.hubCpuMs.secure)} |`;
    })
    .join('\n');
  const b = s.bytes;
  const byteRows = (mode: string, cnn: MessageBytes[], mnist: MessageBytes[]) =>
    [
      ...cnn.map((m, k) => `| ${mode} | ${m.event} | ${ms(m.envelopeBytes)} | ${ms(m.frameBytes)} | ${ms(mnist[k]?.frameBytes)} |`),
      `| ${mode} | **all of them** | ${ms(cnn.reduce((x, m) => x + m.envelopeBytes, 0))} | **${ms(totalBytes(cnn))}** with the envelopes | **${ms(totalBytes(mnist))}** with the envelopes |`,
    ].join('\n');
  const bytes = b
    ? `One client's messages of one round (${b.clients} clients), in bytes: the envelope (JSON text packet) and the frame (binary
attachment) as measured on the wire with the MNIST model; for the ${b.cnn.params.toLocaleString('en-US')}-parameter CNN the same envelopes
around that model's frames (the secure ones from the protocol run of the CPU figure below, the plain one from \`encodeWeights\`).

| mode | message | envelope | frame, CNN | frame, MNIST model |
|---|---|---|---|---|
${byteRows('secure', b.cnn.secure, b.mnist.secure)}
${byteRows('plain', b.cnn.plain, b.mnist.plain)}`
    : 'Bytes: not measured in this run.';
  const c = s.cpu;
  const rest = c ? c.maskMs - c.parts.fixedMs - c.parts.masksPerClient * (c.parts.prgMs + c.parts.addMs) : NaN;
  const cpu = c
    ? `Client CPU for one ${c.params.toLocaleString('en-US')}-parameter update, ${c.clients} clients (complete graph), median of ${c.samples} (process user + system time,
WebCrypto's threads included; each step run alone):

| step | CPU (ms) |
|---|---|
| plain: encodeWeights (float32 frame) | ${f(c.encodeMs, 1)} (wall ${f(c.encodeWallMs, 1)}) |
| secure: maskedInput | ${f(c.maskMs, 1)} (wall ${f(c.maskWallMs, 1)}) |
| &nbsp;&nbsp;of which fixed-point encoding | ${f(c.parts.fixedMs, 1)} |
| &nbsp;&nbsp;of which ${c.parts.masksPerClient} PRG masks (AES-CTR), each | ${f(c.parts.prgMs, 1)} |
| &nbsp;&nbsp;of which adding ${c.parts.masksPerClient} masks, each | ${f(c.parts.addMs, 1)} |
| &nbsp;&nbsp;the rest, not split further (key agreements, building the frame, memory) | ${f(rest, 1)} |
| secure, before training: key pairs / sealing shares / opening shares | ${f(c.keygenMs, 1)} / ${f(c.sharesMs, 1)} / ${f(c.openMs, 1)} |
| secure, after: reveal | ${f(c.revealMs, 2)} |
| hub: SecAggHub.finish for the round | ${f(c.hubFinishMs, 1)} |`
    : 'CPU: not measured in this run.';
  return `${provenance}

| clients | k / t | plain round (ms) | secure round (ms) | ratio | keys | shares | training stage (delay) | reveals | unmasking | rest |
|---|---|---|---|---|---|---|---|---|---|---|
${stages}

The secure round's stages are timed inside the hub (ms, mean over rounds): keys = round:start out to every key in; shares = to every
sealed share in; training stage = to the last masked input (the simulated training, masking, upload); reveals = unmask requests out
to the reveals in; unmasking = \`SecAggHub.finish\`; rest = the round's time outside those.
The clients' side, mean per client (wall ms, each alongside all the other simulated clients in one process), and CPU per round:

| clients | key pairs | seal shares | open shares | mask | reveal | clients' process CPU plain / secure | hub process CPU plain / secure |
|---|---|---|---|---|---|---|---|
${clients}

${bytes}

${cpu}`;
}

function secaggMeanings(s: SecAggResults | undefined): string {
  const delay = s?.roundTime[0]?.delayMs;
  return `- **secureVsPlainRound**: mean round time of a secure run divided by that of a plain run, the same lightweight clients
  (each waits ${delay === undefined ? 'a fixed delay' : `${ms(delay)} ms`} as its "training" and sends a random change of the MNIST model) on the same hub. A secure client
  exchanges keys and sealed shares before its delay, masks after it, and reveals shares when asked; the hub unmasks the sum.
  The ratio depends on the delay: the protocol adds a roughly fixed time to a round, so longer training makes it smaller.
- **secureVsPlainBytes**: everything one client sends in one round, secure (keys, shares, masked input, reveal) over plain
  (its update:submit), JSON envelopes and binary frames counted.
- **secureMaskVsEncode**: a client's CPU time to mask one update (\`SecAggClient.maskedInput\`: fixed point, a self mask and one
  pairwise mask per neighbour) over its time to encode the same update plainly (\`encodeWeights\`, float32).`;
}

function durability(r: BenchResults): string {
  const results = r.durability ?? [];
  if (!results.length) return 'Not measured in this run.';
  const rounds = r.roundOverhead8Rounds ?? [];
  const roundMs = rounds.length ? mean(rounds.map((x) => x.durationMs)) : null;
  const rows = results.map((x) => {
    const extra = x.full.meanMs - x.normal.meanMs;
    return (
      `| ${x.task} | ${x.params.toLocaleString('en-US')} (${f(x.checkpointBytes / 1024, 0)} KiB) | ${x.rounds} | ` +
      `${f(x.full.meanMs, 2)} / ${f(x.full.p95Ms, 2)} | ${f(x.normal.meanMs, 2)} / ${f(x.normal.p95Ms, 2)} | ${f(extra, 2)} | ` +
      `${roundMs === null ? 'n/a' : pct(Math.max(0, extra) / roundMs)} |`
    );
  });
  return `Rounds of each model's checkpoint committed through \`HubStore.completeRound\` into two stores on the same disk,
alternating FULL and NORMAL round by round. ${roundMs === null ? '' : `Share: FULL's extra cost per round against this run's mean 8-client round (${ms(roundMs)} ms).`}

| model | parameters (checkpoint) | rounds each | FULL mean / p95 (ms) | NORMAL mean / p95 (ms) | FULL - NORMAL (ms) | share of a round |
|---|---|---|---|---|---|---|
${rows.join('\n')}`;
}
