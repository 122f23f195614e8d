import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRng, encodeWeights } from '@fl/shared';
import { SecAggClient, SecAggHub, planSecAgg } from '@fl/shared/secagg/index';
import { encodeFixed } from '@fl/shared/secagg/fixed-point';
import { addMask, expandMask } from '@fl/shared/secagg/prg';
import { FEDAVG_CNN_PARAMS, FEDAVG_CNN_SHAPES } from './aggregation-bench';
import { launchRun, waitForClientCount, waitForRun } from './bench-hub';
import { startLightweightClients, type LightweightPool, type SecureClientTimes, type SentBytes } from './lightweight-clients';
import type { HubChildReport, HubStageMarks } from './secagg-hub-child';

const hubDir = fileURLToPath(new URL('../..', import.meta.url));
const SECURE_EVENTS = ['secagg:keys', 'secagg:shares', 'secagg:masked', 'secagg:reveal'] as const;
const PLAIN_EVENT = 'update:submit';

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : NaN;
};
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One secure round cut along the hub's stages (ms, mean over the run's rounds), with the clients' own steps. */
export interface SecureRoundBreakdown {
  durationMs: number;
  /** round:start out to the key stage closing (every key in). */
  keysMs: number;
  /** The key stage closing to the share stage closing (every sealed share in). */
  sharesMs: number;
  /** The share stage closing to the last masked input: the simulated training, the masking and the upload. */
  trainStageMs: number;
  /** The last masked input to the hub starting to unmask: unmask requests out, reveals in. */
  revealMs: number;
  /** SecAggHub.finish: rebuilding the seeds from the shares and removing the masks. */
  finishMs: number;
  /** durationMs minus the above: planning, the round's start before the first setup, and the commit's lead-in. */
  restMs: number;
  /** Per client, mean of each protocol step's wall time (alongside the other simulated clients in one process). */
  client: { keygenMs: number; sharesMs: number; openMs: number; maskMs: number; revealMs: number };
}

export interface SecAggRoundTime {
  clients: number;
  delayMs: number;
  rounds: number;
  /** Neighbours per client (k) and threshold t of the secure rounds. */
  degree: number;
  threshold: number;
  plainMs: number;
  secureMs: number;
  ratio: number;
  secure: SecureRoundBreakdown;
  /** CPU (user + system, ms per round) of the process running all the clients, and of the hub's process. */
  clientCpuMs: { plain: number; secure: number };
  hubCpuMs: { plain: number; secure: number };
}

/** One client's messages of one round: the JSON envelope (text packet) and the binary frame, per event. */
export interface MessageBytes {
  event: string;
  envelopeBytes: number;
  frameBytes: number;
}

export interface SecAggBytes {
  clients: number;
  /** Measured on the wire in the lightweight runs (MNIST model), per client per round. */
  mnist: { params: number; secure: MessageBytes[]; plain: MessageBytes[]; ratio: number };
  /** The same envelopes around the frames of the 1.66M-parameter CNN, from the protocol run of the CPU figure. */
  cnn: { params: number; secure: MessageBytes[]; plain: MessageBytes[]; ratio: number };
}

export interface SecAggCpu {
  params: number;
  clients: number;
  /** Measurements of each step (one per client per protocol round). */
  samples: number;
  /** Median CPU ms (process user + system, WebCrypto's worker threads included) per client. */
  maskMs: number;
  encodeMs: number;
  ratio: number;
  keygenMs: number;
  sharesMs: number;
  openMs: number;
  revealMs: number;
  /** The hub's finish for the whole round (n clients). */
  hubFinishMs: number;
  /** maskedInput's parts, each measured alone (median CPU ms): fixed-point encoding, one PRG mask, adding one mask. */
  parts: { fixedMs: number; prgMs: number; addMs: number; masksPerClient: number };
  /** Wall time of the same mask and encode, for comparison with the CPU figures. */
  maskWallMs: number;
  encodeWallMs: number;
}

export interface SecAggResults {
  date: string;
  quick: boolean;
  /** Measured by `--only secagg`, apart from the other figures of bench-results.json. */
  alone?: boolean;
  roundTime: SecAggRoundTime[];
  bytes?: SecAggBytes;
  cpu?: SecAggCpu;
}

interface ForkedHub {
  url: string;
  report: () => Promise<HubChildReport>;
  close: () => Promise<void>;
}

/** The bench hub in its own process, timing its secure stages from inside (secagg-hub-child.ts). */
async function forkHub(): Promise<ForkedHub> {
  const child = fork(fileURLToPath(new URL('./secagg-hub-child.ts', import.meta.url)), [], {
    cwd: hubDir,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the secagg bench hub did not start')), 60_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve((m as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the secagg bench hub exited (${code})`)));
  });
  return {
    url,
    report: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as HubChildReport));
        child.send('marks');
      }),
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function snapshot(bytes: SentBytes): SentBytes {
  return new Map([...bytes].map(([k, v]) => [k, { ...v }]));
}

/** Per client per round, the bytes of `events` sent between two snapshots. */
function perClientRound(before: SentBytes, after: SentBytes, events: readonly string[], clientRounds: number): MessageBytes[] {
  return events.map((event) => {
    const a = after.get(event) ?? { text: 0, binary: 0, messages: 0 };
    const b = before.get(event) ?? { text: 0, binary: 0, messages: 0 };
    return { event, envelopeBytes: (a.text - b.text) / clientRounds, frameBytes: (a.binary - b.binary) / clientRounds };
  });
}

const total = (messages: MessageBytes[]) => messages.reduce((s, m) => s + m.envelopeBytes + m.frameBytes, 0);

interface RunFigures {
  durations: number[];
  clientCpuMs: number;
  hubCpuMs: number;
  bytes: MessageBytes[];
  roundsDone: number[];
}

async function oneRun(hub: ForkedHub, pool: LightweightPool, clients: number, rounds: number, secure: boolean): Promise<RunFigures> {
  const bytesBefore = snapshot(pool.sentBytes());
  const hubBefore = (await hub.report()).cpuMs;
  const cpuBefore = cpuNow();
  const id = await launchRun(hub.url, { task: 'mnist', rounds, minClients: clients, roundTimeoutSec: 300, init: 'fresh', seed: 1, ...(secure ? { secureAggregation: true } : {}) });
  const run = await waitForRun(hub.url, id);
  const clientCpuMs = cpuNow() - cpuBefore;
  const hubCpuMs = (await hub.report()).cpuMs - hubBefore;
  if (run.status !== 'completed') throw new Error(`${secure ? 'secure' : 'plain'} run of ${clients} clients ${run.status}: ${run.reason}`);
  const done = run.rounds.filter((r) => r.status === 'completed');
  if (done.some((r) => r.clients !== clients)) throw new Error(`a ${secure ? 'secure' : 'plain'} round closed without every client`);
  // Retried rounds would count twice: the figures are per completed round.
  const events = secure ? SECURE_EVENTS : [PLAIN_EVENT];
  return {
    durations: done.map((r) => r.durationMs),
    clientCpuMs: clientCpuMs / run.rounds.length,
    hubCpuMs: hubCpuMs / run.rounds.length,
    bytes: perClientRound(bytesBefore, snapshot(pool.sentBytes()), events, clients * run.rounds.length),
    roundsDone: done.map((r) => r.round),
  };
}

function breakdown(marks: HubStageMarks[], run: RunFigures, pool: LightweightPool): SecureRoundBreakdown {
  // A round the hub retried was planned twice: its last plan is the one that completed.
  const last = new Map<number, HubStageMarks>();
  for (const m of marks) last.set(m.round, m);
  const used = run.roundsDone.map((r) => last.get(r)!).filter(Boolean);
  const per = (pick: (m: HubStageMarks) => number) => mean(used.map(pick));
  const durationMs = mean(run.durations);
  const times = run.roundsDone.map((r) => pool.secureTimes().get(r)).filter((t) => t !== undefined);
  const step = (k: keyof SecureClientTimes) => mean(times.flatMap((t) => t[k]));
  const keysMs = per((m) => m.keysClosed - m.setup);
  const sharesMs = per((m) => m.sharesClosed - m.keysClosed);
  const trainStageMs = per((m) => m.maskedClosed - m.sharesClosed);
  const revealMs = per((m) => m.finishStart - m.maskedClosed);
  const finishMs = per((m) => m.finishEnd - m.finishStart);
  return {
    durationMs,
    keysMs,
    sharesMs,
    trainStageMs,
    revealMs,
    finishMs,
    restMs: durationMs - (keysMs + sharesMs + trainStageMs + revealMs + finishMs),
    client: { keygenMs: step('keygen'), sharesMs: step('shares'), openMs: step('open'), maskMs: step('mask'), revealMs: step('reveal') },
  };
}

/**
 * Secure vs plain round time: the same lightweight clients on the same hub (its own process), a plain run and a
 * secure run of `rounds` rounds each after a one-round warm-up, every client "training" for `delayMs`.
 */
export async function benchSecureRoundTime(clients: number, delayMs: number, rounds: number, log: (m: string) => void): Promise<{ result: SecAggRoundTime; bytes: { secure: MessageBytes[]; plain: MessageBytes[] } }> {
  const hub = await forkHub();
  let pool: LightweightPool | null = null;
  try {
    pool = await startLightweightClients(hub.url, clients, delayMs, { countBytes: true });
    await waitForClientCount(hub.url, clients);
    await oneRun(hub, pool, clients, 1, false);
    const plain = await oneRun(hub, pool, clients, rounds, false);
    // Each run numbers its rounds from 1: the secure timings must not mix with the plain runs' (the pool keys by round).
    pool.secureTimes().clear();
    const secure = await oneRun(hub, pool, clients, rounds, true);
    const marks = (await hub.report()).marks;
    const plainMs = mean(plain.durations);
    const s = breakdown(marks, secure, pool);
    const planned = planSecAgg({ runId: 'x', round: 1, participants: Array.from({ length: clients }, (_, i) => `c${i}`), weights: Array(clients).fill(1), length: 10, clip: 1, seed: 1 });
    const result: SecAggRoundTime = {
      clients,
      delayMs,
      rounds,
      degree: planned.neighbours[0]!.length,
      threshold: planned.threshold,
      plainMs,
      secureMs: s.durationMs,
      ratio: s.durationMs / plainMs,
      secure: s,
      clientCpuMs: { plain: plain.clientCpuMs, secure: secure.clientCpuMs },
      hubCpuMs: { plain: plain.hubCpuMs, secure: secure.hubCpuMs },
    };
    log(`   ${clients} clients: plain ${plainMs.toFixed(0)} ms, secure ${s.durationMs.toFixed(0)} ms per round (ratio ${result.ratio.toFixed(3)})`);
    return { result, bytes: { secure: secure.bytes, plain: plain.bytes } };
  } finally {
    pool?.close();
    await hub.close();
  }
}

async function measured<T>(work: () => Promise<T> | T): Promise<{ value: T; cpuMs: number; wallMs: number }> {
  const cpu = cpuNow();
  const wall = performance.now();
  const value = await work();
  return { value, cpuMs: cpuNow() - cpu, wallMs: performance.now() - wall };
}

/**
 * The client's CPU for the 1.66M-parameter CNN: `protocolRounds` whole secure rounds of n clients run through
 * SecAggClient and SecAggHub in this process, one client's step at a time so each is measured alone, against
 * encodeWeights of the same model. Also returns each message's frame bytes for the bytes figure.
 */
export async function benchSecAggCpu(clients: number, protocolRounds: number): Promise<{ cpu: SecAggCpu; frames: Record<(typeof SECURE_EVENTS)[number] | typeof PLAIN_EVENT, number> }> {
  const L = FEDAVG_CNN_PARAMS;
  const rng = createRng(10);
  const trained = Float32Array.from({ length: L }, () => rng() - 0.5);
  const delta = Float32Array.from({ length: L }, () => (rng() - 0.5) * 0.02);
  const steps = { keygen: [] as number[], shares: [] as number[], open: [] as number[], mask: [] as number[], maskWall: [] as number[], reveal: [] as number[], finish: [] as number[], encode: [] as number[], encodeWall: [] as number[], fixed: [] as number[], prg: [] as number[], add: [] as number[] };
  let masksPerClient = 0;
  const frames = { 'secagg:keys': 0, 'secagg:shares': 0, 'secagg:masked': 0, 'secagg:reveal': 0, 'update:submit': 0 };
  const meta = { round: 1, runTag: 7 };
  for (let round = 1; round <= protocolRounds; round++) {
    const params = planSecAgg({ runId: 'bench-cpu', round, participants: Array.from({ length: clients }, (_, i) => `c${i}`), weights: Array(clients).fill(60), length: L, clip: 1, seed: 1 });
    const hub = new SecAggHub(params);
    const roles: SecAggClient[] = [];
    for (let i = 0; i < clients; i++) {
      const m = await measured(() => SecAggClient.create(params, i));
      steps.keygen.push(m.cpuMs);
      roles.push(m.value);
      hub.addKeys(i, m.value.keysMessage());
    }
    hub.closeKeys();
    for (let i = 0; i < clients; i++) {
      const m = await measured(() => roles[i]!.sharesMessage(hub.keysetFor(i)));
      steps.shares.push(m.cpuMs);
      hub.addShares(i, m.value);
      if (i === 0) frames['secagg:shares'] = m.value.byteLength;
    }
    hub.closeShares();
    for (let i = 0; i < clients; i++) steps.open.push((await measured(() => roles[i]!.receiveShares(hub.sharesFor(i)))).cpuMs);
    for (let i = 0; i < clients; i++) {
      // Alternating with the plain encode, so both see the same state of the machine.
      const e = await measured(() => encodeWeights({ shapes: FEDAVG_CNN_SHAPES, values: trained }, meta));
      steps.encode.push(e.cpuMs);
      steps.encodeWall.push(e.wallMs);
      frames['update:submit'] = e.value.byteLength;
      const m = await measured(() => roles[i]!.maskedInput(delta));
      steps.mask.push(m.cpuMs);
      steps.maskWall.push(m.wallMs);
      hub.addMasked(i, m.value);
      if (i === 0) frames['secagg:masked'] = m.value.byteLength;
      // The same work in parts: what one masked input is made of.
      const x = await measured(() => encodeFixed(delta, params.weights[i]!, params.clip, params.fracBits));
      steps.fixed.push(x.cpuMs);
      const mask = await measured(() => expandMask(globalThis.crypto.getRandomValues(new Uint8Array(32)), L + 1));
      steps.prg.push(mask.cpuMs);
      steps.add.push((await measured(() => addMask(x.value, mask.value, 1))).cpuMs);
    }
    masksPerClient = params.neighbours[0]!.length + 1;
    hub.closeMasked();
    for (let i = 0; i < clients; i++) {
      const m = await measured(() => roles[i]!.reveal(hub.unmaskRequestFor(i)));
      steps.reveal.push(m.cpuMs);
      hub.addReveal(i, m.value);
      if (i === 0) frames['secagg:reveal'] = m.value.byteLength;
    }
    steps.finish.push((await measured(() => hub.finish())).cpuMs);
    frames['secagg:keys'] = roles[0]!.keysMessage().byteLength;
  }
  const maskMs = median(steps.mask);
  const encodeMs = median(steps.encode);
  return {
    cpu: {
      params: L,
      clients,
      samples: steps.mask.length,
      maskMs,
      encodeMs,
      ratio: maskMs / encodeMs,
      keygenMs: median(steps.keygen),
      sharesMs: median(steps.shares),
      openMs: median(steps.open),
      revealMs: median(steps.reveal),
      hubFinishMs: median(steps.finish),
      parts: { fixedMs: median(steps.fixed), prgMs: median(steps.prg), addMs: median(steps.add), masksPerClient },
      maskWallMs: median(steps.maskWall),
      encodeWallMs: median(steps.encodeWall),
    },
    frames,
  };
}

/** The bytes figure: envelopes measured on the wire, around the MNIST frames as sent and around the CNN's frames. */
export function secAggBytes(clients: number, mnistParams: number, wire: { secure: MessageBytes[]; plain: MessageBytes[] }, cnnFrames: Record<string, number>): SecAggBytes {
  const withFrames = (messages: MessageBytes[]) => messages.map((m) => ({ ...m, frameBytes: cnnFrames[m.event] ?? m.frameBytes }));
  const cnn = { secure: withFrames(wire.secure), plain: withFrames(wire.plain) };
  return {
    clients,
    mnist: { params: mnistParams, ...wire, ratio: total(wire.secure) / total(wire.plain) },
    cnn: { params: FEDAVG_CNN_PARAMS, ...cnn, ratio: total(cnn.secure) / total(cnn.plain) },
  };
}

