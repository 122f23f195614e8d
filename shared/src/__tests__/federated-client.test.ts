import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ClientToHubEvents, HubToClientEvents, RoundStart, UpdateSubmit } from '../contract';
import { createMnistDataset } from '../data/mnist-dataset';
import { FederatedClient, type ClientSnapshot, type DataProvider } from '../federated-client';
import { createModel, readWeights } from '../models';
import { createRng, seedFromString } from '../random';
import { resolveSettings } from '../settings';
import { initWasmBackend } from '../tfjs/wasm-backend';
import type { LocalDataset } from '../training';
import { encodeWeights } from '../weight-codec';

/** Just enough of a socket.io-client socket: the test fires hub events, and acks every request at once. */
class FakeHubSocket {
  connected = true;
  readonly submits: UpdateSubmit[] = [];
  private readonly handlers = new Map<string, ((payload: unknown) => void)[]>();

  on(event: string, handler: (payload: unknown) => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }

  fire<E extends keyof HubToClientEvents>(event: E, payload: Parameters<HubToClientEvents[E]>[0]): void {
    for (const handler of this.handlers.get(event) ?? []) handler(payload);
  }

  timeout(): { emitWithAck: (event: string, payload: unknown) => Promise<unknown> } {
    return {
      emitWithAck: async (event, payload) => {
        if (event === 'client:join') return { data: { clientId: 'client-1', limits: { maxUpdateBytes: 10_000_000 } } };
        if (event === 'update:submit') {
          this.submits.push(payload as UpdateSubmit);
          return { data: { accepted: true, received: 1 } };
        }
        return { data: { ok: true } };
      },
    };
  }

  disconnect(): void {
    this.connected = false;
  }

  connect(): void {
    this.connected = true;
  }
}

const DIGITS = 128;
const rng = createRng(7);
const images = Uint8Array.from({ length: DIGITS * 784 }, () => Math.floor(rng() * 256));
const labels = Uint8Array.from({ length: DIGITS }, (_, i) => i % 10);

/** MNIST-shaped random digits; every batch built is logged with the run it was built for. */
function loggingProvider(log: string[]): DataProvider {
  return {
    describe: () => ({ task: 'mnist' }),
    async trainingSet(start: RoundStart): Promise<LocalDataset> {
      const dataset = createMnistDataset(images, labels);
      return { ...dataset, batch: (positions) => (log.push(start.runId), dataset.batch(positions)) };
    },
  };
}

const initial = (() => {
  let frame: Uint8Array | null = null;
  return () => {
    if (frame) return frame;
    const model = createModel('mnist');
    frame = encodeWeights(readWeights(model));
    model.dispose();
    return frame;
  };
})();

function roundStart(runId: string, round = 1): RoundStart {
  return {
    runId,
    round,
    rounds: 3,
    settings: resolveSettings({ task: 'mnist', rounds: 3, epochs: 2, batchSize: 16, seed: 1 }),
    weights: initial(),
    deadline: Date.now() + 600_000,
    seed: seedFromString(runId),
  };
}

function untilSnapshot(client: { changes: ClientSnapshot[] }, predicate: (s: ClientSnapshot) => boolean): Promise<ClientSnapshot> {
  return vi.waitFor(
    () => {
      const match = client.changes.find(predicate);
      if (!match) throw new Error('not yet');
      return match;
    },
    { timeout: 60_000, interval: 20 },
  );
}

describe('FederatedClient round flows', () => {
  beforeAll(async () => {
    await initWasmBackend();
  });

  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('a round:cancel then the next round:start arriving inside trainOnBatch: one flow at a time, the new round submits, tensors stay flat', async () => {
    const socket = new FakeHubSocket();
    const batchesOf: string[] = [];
    const changes: ClientSnapshot[] = [];
    const client = new FederatedClient({
      socket: socket as unknown as Socket<HubToClientEvents, ClientToHubEvents>,
      name: 'node-tab',
      kind: 'headless',
      backend: { name: 'wasm' },
      data: loggingProvider(batchesOf),
      yieldEvery: () => new Promise((resolve) => setTimeout(resolve, 0)),
      onChange: (s) => changes.push(s),
    });
    await untilSnapshot({ changes }, (s) => s.connection === 'connected');

    // A whole round first, so the model exists and the count below is that of an idle client.
    socket.fire('round:start', roundStart('warm-up'));
    await untilSnapshot({ changes }, (s) => s.lastRound?.runId === 'warm-up');
    const idleTensors = tf.memory().numTensors;

    // The hub stops run A while the tab is inside trainOnBatch and launches run B at once.
    const original = tf.LayersModel.prototype.trainOnBatch;
    let inside = 0;
    let mostInside = 0;
    let callsInA = 0;
    vi.spyOn(tf.LayersModel.prototype, 'trainOnBatch').mockImplementation(async function (this: tf.LayersModel, x, y) {
      inside++;
      mostInside = Math.max(mostInside, inside);
      try {
        const pending = original.call(this, x, y);
        if (batchesOf.at(-1) === 'run-a' && ++callsInA === 3) {
          socket.fire('round:cancel', { runId: 'run-a', round: 1, reason: 'run stopped' });
          socket.fire('round:start', roundStart('run-b'));
        }
        return await pending;
      } finally {
        inside--;
      }
    });
    socket.fire('round:start', roundStart('run-a'));

    const done = await untilSnapshot({ changes }, (s) => s.lastRound?.runId === 'run-b' || (s.lastError !== null && s.round?.runId !== 'warm-up'));
    expect(done.lastError).toBeNull();
    expect(done.lastRound?.runId).toBe('run-b');
    // Run A's batches all come before run B's: B waited for A to let go of the model.
    const firstB = batchesOf.indexOf('run-b');
    expect(firstB).toBeGreaterThan(0);
    expect(batchesOf.slice(firstB).filter((run) => run === 'run-a')).toEqual([]);
    expect(mostInside).toBe(1);
    // B trained its whole round (2 epochs of 128 digits in batches of 16), and A sent nothing.
    expect(batchesOf.filter((run) => run === 'run-b')).toHaveLength(16);
    expect(socket.submits.map((s) => s.runId)).toEqual(['warm-up', 'run-b']);
    expect(changes.some((s) => s.cancelled?.runId === 'run-a' && s.cancelled.reason === 'run stopped')).toBe(true);
    expect(tf.memory().numTensors).toBe(idleTensors);
    client.close();
  });
});
