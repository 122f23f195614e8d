/**
 * What user-level DP-FedAvg costs in accuracy: MNIST runs on one in-process hub with the same headless clients,
 * the same seed (same shards, same clients drawn each round, same batch order) and the same initial weights,
 * once without DP and once per noise multiplier. Each run's figures are the hub's own round records (held-out
 * accuracy, cumulative epsilon, clipped changes); the clients' unclipped change norms are measured on their
 * sockets, so the clip norm can be read against the changes it bounds.
 */
import type { Socket } from 'socket.io-client';
import { decodeWeights, type FlatWeights, type LaunchRequest, type RoundRecord } from '@fl/shared';
import { createModel, readWeights } from '@fl/shared/models';
import { epsilonFor } from '@fl/shared/privacy/index';
import { toBytes } from '@fl/shared/validation';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../sim/headless-client';
import { inProcessHub, launchRun, waitForClientCount, waitForRun } from './bench-hub';

/** One round of one run, as the hub recorded it, with the drawn clients' change norms before any clip. */
export interface PrivacyRound {
  round: number;
  /** Held-out accuracy and loss of the global model after the round (the hub's 2,000 test digits). */
  accuracy: number;
  loss: number;
  /** Cumulative epsilon after the round at the section's delta (null without DP). */
  epsilon: number | null;
  /**
   * The hub's own count of changes its clip shrank (record.privacy.clipped; null without DP). Each client has
   * clipped its change already, so this counts the changes that float32 rounding left just above the bound.
   */
  clipped: number | null;
  /** Drawn clients whose change left them at the clip norm (clipped by the client; null without DP). */
  clippedAtClient: number | null;
  participants: number;
  /** Clients the round drew from. */
  population: number;
  durationMs: number;
  /** L2 norms of the drawn clients' changes as sent (after the client's clip under DP), from the model they received. */
  changeNorm: { median: number; max: number; min: number } | null;
}

/** One run: without DP (noiseMultiplier null) or with DP-FedAvg at one noise multiplier. */
export interface PrivacyRun {
  noiseMultiplier: number | null;
  clipNorm: number | null;
  /** The hub's cumulative epsilon after the last round, and the accountant's for the same q, noise and rounds. */
  epsilon: number | null;
  epsilonAccountant: number | null;
  finalAccuracy: number;
  rounds: PrivacyRound[];
  wallMs: number;
}

export interface PrivacyResults {
  date: string;
  quick: boolean;
  /** Measured by `--only privacy`, not in a full bench run. */
  alone?: boolean;
  clients: number;
  clientsPerRound: number;
  digitsPerClient: number;
  rounds: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  delta: number;
  clipNorm: number;
  runs: PrivacyRun[];
  durationSec: number;
}

export interface PrivacyBenchOptions {
  clients: number;
  clientsPerRound: number;
  rounds: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  clipNorm: number;
  delta: number;
  noiseMultipliers: number[];
  seed: number;
  quick: boolean;
  log?: (message: string) => void;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** L2 norm of a - b. */
function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

/**
 * Each client's change norm per run and round: the global model from its round:start against the weights of
 * its update:submit (float32, whole weights: with central noise the hub does the clipping).
 */
function watchChangeNorms(socket: Socket, norms: Map<string, number[]>): void {
  const received = new Map<string, Float32Array>();
  const keyOf = (p: { runId: string; round: number }) => `${p.runId}#${p.round}`;
  socket.onAny((event: string, payload: { runId: string; round: number; weights?: Uint8Array | ArrayBuffer }) => {
    // The model comes in the round's round:model broadcast, or inline in a round:start sent again.
    if ((event === 'round:model' || event === 'round:start') && payload.weights) received.set(keyOf(payload), decodeWeights(toBytes(payload.weights)).values);
  });
  socket.onAnyOutgoing((event: string, payload: { runId: string; round: number; weights: Uint8Array | ArrayBuffer }) => {
    if (event !== 'update:submit') return;
    const global = received.get(keyOf(payload));
    if (!global) return;
    const k = keyOf(payload);
    received.delete(k);
    const list = norms.get(k) ?? [];
    list.push(distance(decodeWeights(toBytes(payload.weights)).values, global));
    norms.set(k, list);
  });
}

/** A change whose norm is this close to the clip norm was scaled down to it: a raw change of exactly that norm is vanishingly rare. */
const AT_CLIP = 1e-4;

function roundOf(r: RoundRecord, runId: string, norms: Map<string, number[]>, population: number, clipNorm: number | null): PrivacyRound {
  const n = norms.get(`${runId}#${r.round}`) ?? [];
  return {
    round: r.round,
    accuracy: r.accuracy ?? NaN,
    loss: r.loss ?? NaN,
    epsilon: r.epsilon,
    clipped: r.privacy?.clipped ?? null,
    clippedAtClient: clipNorm === null ? null : n.filter((x) => x >= clipNorm * (1 - AT_CLIP)).length,
    participants: r.privacy?.participants ?? r.clients,
    population: r.privacy ? Math.round(r.privacy.participants / r.privacy.samplingRate) : population,
    durationMs: r.durationMs,
    changeNorm: n.length ? { median: median(n), max: Math.max(...n), min: Math.min(...n) } : null,
  };
}

/** The baseline and one DP run per noise multiplier, one after another on the same hub and clients. */
export async function benchPrivacy(options: PrivacyBenchOptions): Promise<PrivacyResults> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const model = createModel('mnist');
  const initial: FlatWeights = readWeights(model);
  model.dispose();
  const hub = await inProcessHub({ initialWeights: () => initial });
  const data = mnistProvider(hubMnistLoader(hub.url));
  const norms = new Map<string, number[]>();
  const clients = Array.from({ length: options.clients }, (_, i) => startHeadlessClient({ hubUrl: hub.url, name: `privacy-${i + 1}`, data }));
  for (const { socket } of clients) watchChangeNorms(socket as unknown as Socket, norms);
  const runs: PrivacyRun[] = [];
  let digitsPerClient = NaN;
  try {
    await waitForClientCount(hub.url, options.clients);
    for (const z of [null, ...options.noiseMultipliers]) {
      const t0 = Date.now();
      const request: LaunchRequest = {
        task: 'mnist',
        rounds: options.rounds,
        init: 'fresh',
        minClients: options.clientsPerRound,
        clientsPerRound: options.clientsPerRound,
        partition: 'iid',
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        seed: options.seed,
        ...(z === null ? {} : { dp: { noiseMultiplier: z, clipNorm: options.clipNorm, delta: options.delta, noise: 'central' as const } }),
      };
      const id = await launchRun(hub.url, request);
      const run = await waitForRun(hub.url, id);
      if (run.status !== 'completed' || run.rounds.length !== options.rounds) {
        throw new Error(`privacy bench run (noise ${z ?? 'none'}) ${run.status} after ${run.rounds.length} rounds: ${run.reason}`);
      }
      const rounds = run.rounds.map((r) => roundOf(r, id, norms, options.clients, z === null ? null : options.clipNorm));
      digitsPerClient = run.rounds[0]!.samples / run.rounds[0]!.clients;
      const last = rounds.at(-1)!;
      const q = options.clientsPerRound / options.clients;
      const result: PrivacyRun = {
        noiseMultiplier: z,
        clipNorm: z === null ? null : options.clipNorm,
        epsilon: last.epsilon,
        epsilonAccountant: z === null ? null : epsilonFor({ samplingRate: q, noiseMultiplier: z, rounds: rounds.length, delta: options.delta }).epsilon,
        finalAccuracy: last.accuracy,
        rounds,
        wallMs: Date.now() - t0,
      };
      runs.push(result);
      const clipped = rounds.reduce((n, r) => n + (r.clippedAtClient ?? 0), 0);
      log(
        `   ${z === null ? 'no DP' : `noise ${z}`}: accuracy ${last.accuracy.toFixed(4)}` +
          (z === null ? '' : `, epsilon ${result.epsilon!.toFixed(3)} (accountant ${result.epsilonAccountant!.toFixed(3)}), ${clipped} of ${rounds.length * options.clientsPerRound} changes clipped`) +
          ` in ${(result.wallMs / 1000).toFixed(0)} s; median change norm ${median(rounds.flatMap((r) => (r.changeNorm ? [r.changeNorm.median] : []))).toFixed(3)}`,
      );
    }
  } finally {
    for (const { client } of clients) client.close();
    await hub.close();
  }
  return {
    date: new Date(started).toISOString(),
    quick: options.quick,
    clients: options.clients,
    clientsPerRound: options.clientsPerRound,
    digitsPerClient,
    rounds: options.rounds,
    epochs: options.epochs,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    seed: options.seed,
    delta: options.delta,
    clipNorm: options.clipNorm,
    runs,
    durationSec: Math.round((Date.now() - started) / 1000),
  };
}
