import { sqliteOf } from '../app';
import type { Socket } from 'socket.io-client';
import type { FastifyInstance } from 'fastify';
import { CLIENT_NAMESPACE, type Compression, type FlatWeights, type RunDetail, type TaskId } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { compileForTraining, createModel, writeWeights } from '@fl/shared/models';
import { evaluateModel, trainLocal } from '@fl/shared/training';
import { createMnistDataset } from '@fl/shared/data/mnist-dataset';
import { resolveSettings } from '@fl/shared/settings';
import { defaultMnistDir, loadMnistSplit } from '../data/mnist-files';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../sim/headless-client';
import { inProcessHub, launchRun, waitForClientCount, waitForRun } from './bench-hub';

/**
 * Counts the bytes a Socket.IO client hands to its transport, by event: an emit encodes and writes its
 * packets synchronously right after the outgoing listeners run, so each packet belongs to the last event.
 * An update:submit is a text packet (the event envelope) and a binary one (the weight frame), counted apart.
 */
function countBytes(socket: Socket): { sent: () => number; updates: () => number; envelope: () => number; frames: () => number } {
  let sent = 0;
  let envelope = 0;
  let frames = 0;
  let current = '';
  const size = (data: unknown): number =>
    typeof data === 'string' ? Buffer.byteLength(data) : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : 0;
  socket.onAnyOutgoing((event: string) => (current = event));
  const attach = () =>
    socket.io.engine.on('packetCreate', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message') return;
      const bytes = size(packet.data);
      sent += bytes;
      if (current !== 'update:submit') return;
      if (typeof packet.data === 'string') envelope += bytes;
      else frames += bytes;
    });
  if (socket.io.engine) attach();
  else socket.io.once('open', attach);
  return { sent: () => sent, updates: () => envelope + frames, envelope: () => envelope, frames: () => frames };
}

/**
 * One round's wall time cut along the path of the update the hub received last (ms). The parts add up
 * to the round's durationMs: hub start -> round:start emitted -> received -> training -> submitting ->
 * update emitted -> received by the hub -> commit begins.
 */
export interface RoundBreakdown {
  round: number;
  durationMs: number;
  slowestTrainMs: number;
  /** Round start to the first round:start emitted: the hub encodes the global model (and the shards). */
  hubEncodeMs: number;
  /** The hub emitting round:start to the last client to that client receiving it. */
  sendMs: number;
  /** That client: decoding the frame, loading it into its model, building its shard. */
  clientDecodeMs: number;
  /** That client: compiling and training (its own trainMs is the training loop alone). */
  clientTrainMs: number;
  /** That client: reading and encoding its weights until the update is emitted. */
  clientEncodeMs: number;
  /** The update emitted to the hub receiving it. */
  uploadMs: number;
  /** The hub receiving the last update to its commit starting: decode, checks, fold, FedAvg finish. */
  hubFoldMs: number;
  /** The SQLite commit of the round (after durationMs is taken). */
  commitMs: number;
  /** The held-out evaluation after the commit; it overlaps the next round. */
  evaluateMs: number | null;
  /** Means over all participants: receipt to training, and training end to update emitted. */
  meanClientDecodeMs: number;
  meanClientEncodeMs: number;
}

interface Timeline {
  hubStartSent: Map<string, number>;
  clientReceived: Map<string, number>;
  training: Map<string, number>;
  submitting: Map<string, number>;
  clientSent: Map<string, number>;
  hubReceived: Map<string, number>;
  commits: Map<number, { start: number; ms: number; end: number }>;
  evaluated: Map<number, number>;
}

const key = (socketId: string, round: number) => `${socketId}#${round}`;

/** Timestamps (performance.now, one process) of each step of every round, from listeners on both ends. */
function watchTimeline(app: FastifyInstance): Timeline {
  const t: Timeline = {
    hubStartSent: new Map(),
    clientReceived: new Map(),
    training: new Map(),
    submitting: new Map(),
    clientSent: new Map(),
    hubReceived: new Map(),
    commits: new Map(),
    evaluated: new Map(),
  };
  app.io.of(CLIENT_NAMESPACE).on('connection', (socket) => {
    socket.onAnyOutgoing((event: string, payload: { round?: number }) => {
      if (event === 'round:start' && payload.round !== undefined) t.hubStartSent.set(key(socket.id, payload.round), performance.now());
    });
    socket.onAny((event: string, payload: { round?: number }) => {
      if (event === 'update:submit' && payload?.round !== undefined) t.hubReceived.set(key(socket.id, payload.round), performance.now());
    });
  });
  const store = sqliteOf(app);
  const completeRound = store.completeRound.bind(store);
  store.completeRound = (r) => {
    const start = performance.now();
    const checkpoint = completeRound(r);
    const end = performance.now();
    t.commits.set(r.round, { start, ms: end - start, end });
    return checkpoint;
  };
  const setRoundEvaluation = store.setRoundEvaluation.bind(store);
  store.setRoundEvaluation = (runId, round, accuracy, loss) => {
    t.evaluated.set(round, performance.now());
    setRoundEvaluation(runId, round, accuracy, loss);
  };
  return t;
}

function watchClient(t: Timeline, socket: Socket): (snapshot: ClientSnapshot) => void {
  socket.onAny((event: string, payload: { round?: number }) => {
    if (event === 'round:start' && payload.round !== undefined) t.clientReceived.set(key(socket.id!, payload.round), performance.now());
  });
  socket.onAnyOutgoing((event: string, payload: { round?: number }) => {
    if (event === 'update:submit' && payload.round !== undefined) t.clientSent.set(key(socket.id!, payload.round), performance.now());
  });
  return (snapshot) => {
    if (!snapshot.round || !socket.id) return;
    const k = key(socket.id, snapshot.round.round);
    if (snapshot.phase === 'training' && !t.training.has(k)) t.training.set(k, performance.now());
    if (snapshot.phase === 'submitting' && !t.submitting.has(k)) t.submitting.set(k, performance.now());
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function breakdown(t: Timeline, round: number, durationMs: number, slowestTrainMs: number, socketIds: string[]): RoundBreakdown {
  const at = (m: Map<string, number>, id: string) => m.get(key(id, round)) ?? NaN;
  const commit = t.commits.get(round)!;
  // durationMs is taken just before the commit starts.
  const start = commit.start - durationMs;
  const ids = socketIds.filter((id) => t.hubReceived.has(key(id, round)));
  const last = ids.reduce((a, b) => (at(t.hubReceived, b) > at(t.hubReceived, a) ? b : a));
  const firstSent = Math.min(...ids.map((id) => at(t.hubStartSent, id)));
  const evaluated = t.evaluated.get(round);
  return {
    round,
    durationMs,
    slowestTrainMs,
    hubEncodeMs: firstSent - start,
    sendMs: at(t.clientReceived, last) - firstSent,
    clientDecodeMs: at(t.training, last) - at(t.clientReceived, last),
    clientTrainMs: at(t.submitting, last) - at(t.training, last),
    clientEncodeMs: at(t.clientSent, last) - at(t.submitting, last),
    uploadMs: at(t.hubReceived, last) - at(t.clientSent, last),
    hubFoldMs: commit.start - at(t.hubReceived, last),
    commitMs: commit.ms,
    evaluateMs: evaluated === undefined ? null : evaluated - commit.end,
    meanClientDecodeMs: mean(ids.map((id) => at(t.training, id) - at(t.clientReceived, id))),
    meanClientEncodeMs: mean(ids.map((id) => at(t.clientSent, id) - at(t.submitting, id))),
  };
}

export interface FederatedRunResult {
  run: RunDetail;
  accuracy: number;
  /** Bytes of update:submit messages (envelope + weight frame) per client per round. */
  updateBytesPerClientRound: number;
  /** All bytes each client sent per round (updates, progress reports, joins), mean over clients and rounds. */
  sentPerClientRound: number;
  /** Mean bytes per update message: the event envelope (text packet) and the weight frame (binary packet). */
  updateEnvelopeBytes: number;
  updateFrameBytes: number;
  /** Per round: duration, the slowest participant's training time, and where the time went. */
  rounds: RoundBreakdown[];
}

/** Headless clients and the hub in this process; a run of `rounds` rounds from fresh weights. */
export async function federatedRun(options: {
  clients: number;
  rounds: number;
  partition?: 'iid' | 'by-label';
  compression?: Compression;
  epochs?: number;
  initialWeights?: (task: TaskId) => FlatWeights;
}): Promise<FederatedRunResult> {
  const hub = await inProcessHub(options.initialWeights ? { initialWeights: options.initialWeights } : {});
  const timeline = watchTimeline(hub.app);
  const data = mnistProvider(hubMnistLoader(hub.url));
  const watchers: ((snapshot: ClientSnapshot) => void)[] = [];
  const clients = Array.from({ length: options.clients }, (_, i) =>
    startHeadlessClient({ hubUrl: hub.url, name: `bench-${i + 1}`, data, onChange: (snapshot) => watchers[i]?.(snapshot) }),
  );
  clients.forEach(({ socket }, i) => (watchers[i] = watchClient(timeline, socket as unknown as Socket)));
  const counters = clients.map(({ socket }) => countBytes(socket as unknown as Socket));
  try {
    await waitForClientCount(hub.url, options.clients);
    const id = await launchRun(hub.url, {
      task: 'mnist',
      rounds: options.rounds,
      init: 'fresh',
      minClients: options.clients,
      partition: options.partition ?? 'iid',
      compression: options.compression ?? 'float32',
      epochs: options.epochs ?? 1,
      seed: 1,
    });
    const run = await waitForRun(hub.url, id);
    if (run.status !== 'completed') throw new Error(`bench run ${run.status}: ${run.reason}`);
    // The last round's evaluation is stored before the run is marked ended.
    const socketIds = clients.map(({ socket }) => socket.id!);
    const rounds: RoundBreakdown[] = [];
    for (const r of run.rounds) {
      const parts = (await (await fetch(`${hub.url}/api/runs/${id}/rounds/${r.round}/clients`)).json()) as { trainMs: number }[];
      rounds.push(breakdown(timeline, r.round, r.durationMs, Math.max(...parts.map((p) => p.trainMs)), socketIds));
    }
    const total = (pick: (c: ReturnType<typeof countBytes>) => number) => counters.reduce((s, c) => s + pick(c), 0);
    const perClientRound = options.clients * options.rounds;
    return {
      run,
      accuracy: run.rounds.at(-1)!.accuracy!,
      sentPerClientRound: total((c) => c.sent()) / perClientRound,
      updateBytesPerClientRound: total((c) => c.updates()) / perClientRound,
      updateEnvelopeBytes: total((c) => c.envelope()) / perClientRound,
      updateFrameBytes: total((c) => c.frames()) / perClientRound,
      rounds,
    };
  } finally {
    for (const { client } of clients) client.close();
    await hub.close();
  }
}

/** One model trained on all 8,000 client digits for `epochs` epochs, with the MNIST defaults. */
export async function centralTraining(epochs: number, initial: FlatWeights): Promise<{ accuracy: number; digits: number }> {
  const train = await loadMnistSplit(defaultMnistDir(), 'train');
  const test = await loadMnistSplit(defaultMnistDir(), 'test');
  const settings = resolveSettings({ task: 'mnist', rounds: epochs });
  const model = createModel('mnist');
  writeWeights(model, initial);
  compileForTraining(model, settings);
  await trainLocal(model, createMnistDataset(train.images, train.labels), {
    epochs,
    batchSize: settings.batchSize,
    seed: 7,
    yieldEvery: async () => {},
  });
  const result = await evaluateModel(model, createMnistDataset(test.images, test.labels), 500);
  model.optimizer.dispose();
  model.dispose();
  return { accuracy: result.accuracy, digits: train.labels.length };
}
