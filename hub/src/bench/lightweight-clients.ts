import { io, type Socket } from 'socket.io-client';
import {
  CLIENT_NAMESPACE,
  createRng,
  decodeWeights,
  encodeWeights,
  isErrorResponse,
  seedFromString,
  toBytes,
  type AckResponse,
  type ClientToHubEvents,
  type HubToClientEvents,
  type RoundStart,
} from '@fl/shared';

type ClientSocket = Socket<HubToClientEvents, ClientToHubEvents>;

export interface RoundTimings {
  firstReceived: number;
  lastReceived: number;
  lastEmitted: number;
  lastAcked: number;
}

export interface LightweightPool {
  sockets: ClientSocket[];
  /** Updates refused by the hub (should stay 0). */
  refused: () => number;
  /** Per round, over all clients (performance.now, ms): round:start received first and last, updates emitted last, acks received last. */
  timings: () => Map<number, RoundTimings>;
  close(): void;
}

/**
 * Clients that do no training: after `delayMs` (simulated local training) they send a valid random
 * update, the global model plus small noise. One update per round is shared by all, so that the
 * bench process measures the hub, not its own random number generation.
 */
export async function startLightweightClients(hubUrl: string, count: number, delayMs: number): Promise<LightweightPool> {
  const sockets: ClientSocket[] = [];
  let refused = 0;
  const timings = new Map<number, RoundTimings>();
  const mark = (round: number, field: keyof RoundTimings) => {
    const now = performance.now();
    const t = timings.get(round) ?? { firstReceived: now, lastReceived: now, lastEmitted: NaN, lastAcked: NaN };
    t[field] = field === 'firstReceived' ? Math.min(t.firstReceived, now) : now;
    timings.set(round, t);
  };
  const frames = new Map<string, Uint8Array>();
  const updateFor = (start: RoundStart): Uint8Array => {
    const key = `${start.runId}#${start.round}`;
    let frame = frames.get(key);
    if (!frame) {
      const global = decodeWeights(toBytes(start.weights));
      const rng = createRng(start.seed);
      const values = global.values.map((v) => v + (rng() - 0.5) * 0.01);
      frame = encodeWeights({ shapes: global.shapes, values }, { round: start.round, runTag: seedFromString(start.runId) });
      frames.clear();
      frames.set(key, frame);
    }
    return frame;
  };
  const batch = 50;
  for (let i = 0; i < count; i += batch) {
    const joined = Array.from({ length: Math.min(batch, count - i) }, (_, j) => {
      const socket: ClientSocket = io(new URL(CLIENT_NAMESPACE, hubUrl).href, { transports: ['websocket'], forceNew: true, reconnection: false });
      sockets.push(socket);
      socket.on('round:start', (start) => {
        mark(start.round, 'lastReceived');
        setTimeout(async () => {
          mark(start.round, 'lastEmitted');
          const samples = start.shard ? toBytes(start.shard).byteLength / 2 : 100;
          const response = (await socket
            .timeout(120_000)
            .emitWithAck('update:submit', {
              runId: start.runId,
              round: start.round,
              samples,
              weights: updateFor(start),
              metrics: { loss: 1, accuracy: 0.5, trainMs: delayMs },
            })
            .catch(() => ({ error: { code: 'HUB_ERR_INTERNAL', message: 'no answer' } }))) as AckResponse<unknown>;
          mark(start.round, 'lastAcked');
          if (isErrorResponse(response)) refused++;
        }, delayMs);
      });
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', async () => {
          const reply = (await socket.emitWithAck('client:join', {
            name: `light-${i + j + 1}`,
            kind: 'headless',
            data: { task: 'mnist' },
            backend: { name: 'cpu', reason: 'lightweight bench client: no training' },
          })) as AckResponse<unknown>;
          if (isErrorResponse(reply)) reject(new Error(`join refused: ${reply.error.code}`));
          else resolve();
        });
        socket.once('connect_error', reject);
      });
    });
    await Promise.all(joined);
  }
  return {
    sockets,
    refused: () => refused,
    timings: () => timings,
    close: () => sockets.forEach((s) => s.disconnect()),
  };
}
