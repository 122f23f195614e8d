import { io, type Socket } from 'socket.io-client';
import { SecAggClient, decodeSetup } from '@fl/shared/secagg/index';
import { StageMailbox } from '@fl/shared/secure-round-client';
import { decodeShard } from '@fl/shared/data/mnist-dataset';
import {
  CLIENT_NAMESPACE,
  CLIENT_HANDSHAKE_QUERY,
  createRng,
  decodeWeights,
  encodeWeights,
  isErrorResponse,
  roundWeights,
  seedFromString,
  toBytes,
  type AckResponse,
  type ClientToHubEvents,
  type HubToClientEvents,
  type RoundModel,
  type RoundStart,
} from '@fl/shared';

type ClientSocket = Socket<HubToClientEvents, ClientToHubEvents>;

export interface RoundTimings {
  firstReceived: number;
  lastReceived: number;
  lastEmitted: number;
  lastAcked: number;
  /** Secure rounds: the last client to receive its shares-in (ready to train), and to have its reveal acked. */
  lastSharesIn: number;
  lastRevealed: number;
}

/** Secure rounds, per client (ms of wall time, each alongside every other simulated client's work in this process). */
export interface SecureClientTimes {
  /** SecAggClient.create: the two X25519 pairs and the self-mask seed. */
  keygen: number[];
  /** sharesMessage: Shamir split and AES-GCM sealing for each neighbour. */
  shares: number[];
  /** receiveShares: opening the neighbours' shares. */
  open: number[];
  /** maskedInput: fixed point, the self mask and the pairwise masks. */
  mask: number[];
  /** reveal: the shares the unmask request names. */
  reveal: number[];
}

/** Bytes one client handed its transport, by event: the text packet (JSON envelope) and the binary attachments. */
export type SentBytes = Map<string, { text: number; binary: number; messages: number }>;

export interface LightweightPool {
  sockets: ClientSocket[];
  /** Updates refused by the hub (should stay 0). */
  refused: () => number;
  /** Per round, over all clients (performance.now, ms): round:start received first and last, updates emitted last, acks received last. */
  timings: () => Map<number, RoundTimings>;
  /** Secure rounds: per round, each client's time in each protocol step. */
  secureTimes: () => Map<number, SecureClientTimes>;
  /** Summed over all clients (counted only with `countBytes`). */
  sentBytes: () => SentBytes;
  close(): void;
}

/** Counts what a socket writes, by the event being emitted (an emit writes its packets synchronously after the outgoing listeners). */
function countSent(socket: ClientSocket, into: SentBytes): void {
  let current = '';
  socket.onAnyOutgoing((event: string) => (current = event));
  const attach = () =>
    socket.io.engine.on('packetCreate', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message') return;
      const entry = into.get(current) ?? { text: 0, binary: 0, messages: 0 };
      const { data } = packet;
      if (typeof data === 'string') {
        entry.text += Buffer.byteLength(data);
        entry.messages++;
      } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
        entry.binary += data.byteLength;
      }
      into.set(current, entry);
    });
  if (socket.io.engine) attach();
  else socket.io.once('open', attach);
}

/**
 * Clients that do no training: after `delayMs` (simulated local training) they send a valid random
 * update, the global model (from round:start, or the round:model broadcast just before it) plus small noise. One update per round is shared by all, so that the
 * bench process measures the hub, not its own random number generation. When the round is secure
 * (round:start carries a setup) they speak the protocol with SecAggClient: keys and shares before the
 * delay, the masked change (the same noise) after it, then their reveal.
 */
export async function startLightweightClients(
  hubUrl: string,
  count: number,
  delayMs: number,
  options: { countBytes?: boolean; firstIndex?: number } = {},
): Promise<LightweightPool> {
  const sockets: ClientSocket[] = [];
  let refused = 0;
  const timings = new Map<number, RoundTimings>();
  const secureTimes = new Map<number, SecureClientTimes>();
  const sent: SentBytes = new Map();
  const mark = (round: number, field: keyof RoundTimings) => {
    const now = performance.now();
    const t = timings.get(round) ?? { firstReceived: now, lastReceived: now, lastEmitted: NaN, lastAcked: NaN, lastSharesIn: NaN, lastRevealed: NaN };
    t[field] = field === 'firstReceived' ? Math.min(t.firstReceived, now) : now;
    timings.set(round, t);
  };
  const timed = async <T>(round: number, step: keyof SecureClientTimes, work: () => Promise<T> | T): Promise<T> => {
    const from = performance.now();
    const result = await work();
    const times = secureTimes.get(round) ?? { keygen: [], shares: [], open: [], mask: [], reveal: [] };
    times[step].push(performance.now() - from);
    secureTimes.set(round, times);
    return result;
  };
  const frames = new Map<string, Uint8Array>();
  const updateFor = (start: RoundStart, model: Uint8Array): Uint8Array => {
    const key = `${start.runId}#${start.round}`;
    let frame = frames.get(key);
    if (!frame) {
      const global = decodeWeights(model);
      const rng = createRng(start.seed);
      const values = global.values.map((v) => v + (rng() - 0.5) * 0.01);
      frame = encodeWeights({ shapes: global.shapes, values }, { round: start.round, runTag: seedFromString(start.runId) });
      frames.clear();
      frames.set(key, frame);
    }
    return frame;
  };
  // The secure clients' change: the same noise as the plain update, minus the global model.
  const deltas = new Map<string, Float32Array>();
  const deltaFor = (start: RoundStart, length: number): Float32Array => {
    const key = `${start.runId}#${start.round}`;
    let delta = deltas.get(key);
    if (!delta) {
      const rng = createRng(start.seed);
      delta = Float32Array.from({ length }, () => (rng() - 0.5) * 0.01);
      deltas.clear();
      deltas.set(key, delta);
    }
    return delta;
  };
  const failed = { error: { code: 'HUB_ERR_INTERNAL', message: 'no answer' } } as const;
  const send = async (socket: ClientSocket, event: string, payload: object): Promise<AckResponse<unknown>> =>
    (await (socket.timeout(120_000).emitWithAck as (e: string, p: object) => Promise<unknown>)(event, payload).catch(() => failed)) as AckResponse<unknown>;
  const post = async (socket: ClientSocket, event: string, payload: object): Promise<void> => {
    const response = await send(socket, event, payload);
    if (isErrorResponse(response)) throw new Error(`${event}: ${response.error.code} ${response.error.message}`);
  };

  async function secureRound(socket: ClientSocket, mailbox: StageMailbox, start: RoundStart): Promise<void> {
    const { runId, round } = start;
    const wait = (event: 'secagg:keyset' | 'secagg:shares-in' | 'secagg:unmask') => mailbox.wait(event, runId, round, start.deadline - Date.now());
    const { params, index } = decodeSetup(toBytes(start.secagg!));
    const role = await timed(round, 'keygen', () => SecAggClient.create(params, index));
    await post(socket, 'secagg:keys', { runId, round, frame: role.keysMessage() });
    const keyset = await wait('secagg:keyset');
    const shares = await timed(round, 'shares', () => role.sharesMessage(keyset));
    await post(socket, 'secagg:shares', { runId, round, frame: shares });
    const sharesIn = await wait('secagg:shares-in');
    await timed(round, 'open', () => role.receiveShares(sharesIn));
    mark(round, 'lastSharesIn');
    await new Promise((r) => setTimeout(r, delayMs));
    const frame = await timed(round, 'mask', () => role.maskedInput(deltaFor(start, params.length)));
    mark(round, 'lastEmitted');
    const metrics = { loss: 1, accuracy: 0.5, trainMs: delayMs };
    const response = await send(socket, 'secagg:masked', { runId, round, frame, metrics });
    mark(round, 'lastAcked');
    if (isErrorResponse(response)) {
      refused++;
      return;
    }
    const request = await wait('secagg:unmask');
    const reveal = await timed(round, 'reveal', () => role.reveal(request));
    await post(socket, 'secagg:reveal', { runId, round, frame: reveal });
    mark(round, 'lastRevealed');
  }

  /** A plain round: the model (in round:start or the round:model broadcast before it), the simulated training, the update. */
  async function plainRound(socket: ClientSocket, start: RoundStart, broadcast: RoundModel | null): Promise<void> {
    const model = roundWeights(start, broadcast);
    await new Promise((r) => setTimeout(r, delayMs));
    mark(start.round, 'lastEmitted');
    const samples = start.shard ? decodeShard(start.shard).length : 100;
    const update = { runId: start.runId, round: start.round, samples, weights: updateFor(start, model), metrics: { loss: 1, accuracy: 0.5, trainMs: delayMs } };
    const response = await send(socket, 'update:submit', update);
    mark(start.round, 'lastAcked');
    if (isErrorResponse(response)) refused++;
  }

  const batch = 50;
  const firstIndex = options.firstIndex ?? 0;
  for (let i = 0; i < count; i += batch) {
    const joined = Array.from({ length: Math.min(batch, count - i) }, (_, j) => {
      const socket: ClientSocket = io(new URL(CLIENT_NAMESPACE, hubUrl).href, { transports: ['websocket'], query: CLIENT_HANDSHAKE_QUERY, forceNew: true, reconnection: false });
      sockets.push(socket);
      if (options.countBytes) countSent(socket, sent);
      const mailbox = new StageMailbox();
      for (const event of ['secagg:keyset', 'secagg:shares-in', 'secagg:unmask'] as const) socket.on(event, (message) => mailbox.deliver(event, message));
      // The round's model comes once to every participant, just before its own round:start on the same connection.
      let broadcast: RoundModel | null = null;
      socket.on('round:model', (model) => (broadcast = model));
      socket.on('round:start', (start) => {
        mark(start.round, 'lastReceived');
        if (start.secagg) {
          mailbox.cancelAll('a new round');
          void secureRound(socket, mailbox, start).catch(() => refused++);
          return;
        }
        void plainRound(socket, start, broadcast).catch(() => refused++);
      });
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', async () => {
          const reply = (await socket.emitWithAck('client:join', {
            name: `light-${firstIndex + i + j + 1}`,
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
    secureTimes: () => secureTimes,
    sentBytes: () => sent,
    close: () => sockets.forEach((s) => s.disconnect()),
  };
}
