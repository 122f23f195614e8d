import type { Socket } from 'socket.io-client';
import type { Compression, FlatWeights, RunDetail, TaskId } from '@fl/shared';
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
 */
function countBytes(socket: Socket): { sent: () => number; updates: () => number } {
  let sent = 0;
  let updates = 0;
  let current = '';
  const size = (data: unknown): number =>
    typeof data === 'string' ? Buffer.byteLength(data) : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : 0;
  socket.onAnyOutgoing((event: string) => (current = event));
  const attach = () =>
    socket.io.engine.on('packetCreate', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message') return;
      const bytes = size(packet.data);
      sent += bytes;
      if (current === 'update:submit') updates += bytes;
    });
  if (socket.io.engine) attach();
  else socket.io.once('open', attach);
  return { sent: () => sent, updates: () => updates };
}

export interface FederatedRunResult {
  run: RunDetail;
  accuracy: number;
  /** Bytes of update:submit messages (envelope + weight frame) per client per round. */
  updateBytesPerClientRound: number;
  /** All bytes each client sent per round (updates, progress reports, joins), mean over clients and rounds. */
  sentPerClientRound: number;
  /** Per round: duration and the slowest participant's training time. */
  rounds: { durationMs: number; slowestTrainMs: number }[];
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
  const data = mnistProvider(hubMnistLoader(hub.url));
  const clients = Array.from({ length: options.clients }, (_, i) => startHeadlessClient({ hubUrl: hub.url, name: `bench-${i + 1}`, data }));
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
    });
    const run = await waitForRun(hub.url, id);
    if (run.status !== 'completed') throw new Error(`bench run ${run.status}: ${run.reason}`);
    const rounds = [];
    for (const r of run.rounds) {
      const parts = (await (await fetch(`${hub.url}/api/runs/${id}/rounds/${r.round}/clients`)).json()) as { trainMs: number }[];
      rounds.push({ durationMs: r.durationMs, slowestTrainMs: Math.max(...parts.map((p) => p.trainMs)) });
    }
    const sent = counters.reduce((s, c) => s + c.sent(), 0);
    const updates = counters.reduce((s, c) => s + c.updates(), 0);
    const perClientRound = options.clients * options.rounds;
    return { run, accuracy: run.rounds.at(-1)!.accuracy!, sentPerClientRound: sent / perClientRound, updateBytesPerClientRound: updates / perClientRound, rounds };
  } finally {
    for (const { client } of clients) client.close();
    await hub.close();
  }
}

/** One model trained on all 8,000 client digits for `epochs` epochs, with the MNIST defaults. */
export async function centralTraining(epochs: number, initial: FlatWeights): Promise<number> {
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
  return result.accuracy;
}
