import { io, type Socket } from 'socket.io-client';
import {
  CLIENT_NAMESPACE,
  decodeWeights,
  encodeWeights,
  roundWeights,
  type AckResponse,
  type FlatWeights,
  type JoinReply,
  type RoundModel,
  type RoundStart,
} from '@fl/shared';
import { decodeShard } from '@fl/shared/data/mnist-dataset';
import { waitFor } from './wait-for';

/** An untyped client socket: tests send what the contract forbids. */
export type RawSocket = Socket;

/** A structurally valid join request of a headless MNIST client. */
export function mnistJoinRequest(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    kind: 'headless',
    data: { task: 'mnist' },
    backend: { name: 'wasm', reason: 'raw test client' },
    ...extra,
  };
}

/** A connected socket on the hub's client namespace; no reconnection, so a drop stays a drop. */
export async function connectRaw(url: string): Promise<RawSocket> {
  const socket = io(new URL(CLIENT_NAMESPACE, url).href, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Emits with an acknowledgement and resolves with the hub's answer (rejects after timeoutMs). */
export async function emitAck<T = unknown>(socket: RawSocket, event: string, ...args: unknown[]): Promise<AckResponse<T>> {
  return (await socket.timeout(15_000).emitWithAck(event, ...args)) as AckResponse<T>;
}

/** The code of an error answer, or 'accepted' for a data answer: one value to compare in assertions. */
export function outcome(response: AckResponse<unknown>): string {
  return 'error' in response ? response.error.code : 'accepted';
}

/** What a raw client kept of a round:start. */
export interface ReceivedRound {
  /** As received, with the model of the round's round:model broadcast put inline. */
  start: RoundStart & { weights: Uint8Array };
  weights: FlatWeights;
  /** MNIST: indices of the client's digits for this round. */
  shard: Uint16Array;
  /** MNIST shard size: the most samples the hub accepts from this client. */
  shardSize: number;
}

export interface RawClient {
  socket: RawSocket;
  clientId: string;
  /** The secret issued with the id: a later join needs it to reclaim the id. */
  clientSecret: string | undefined;
  limits: JoinReply['limits'];
  rounds: ReceivedRound[];
  /** Waits for round:start of (runId, round) and returns it. */
  round(runId: string, round: number): Promise<ReceivedRound>;
  close(): void;
}

/** Connects, joins with MNIST data, and records every round:start it receives. */
export async function joinRaw(url: string, name: string, extra: Record<string, unknown> = {}): Promise<RawClient> {
  const socket = await connectRaw(url);
  const rounds: ReceivedRound[] = [];
  let model: RoundModel | null = null;
  socket.on('round:model', (m: RoundModel) => (model = m));
  socket.on('round:start', (raw: RoundStart) => {
    const start = { ...raw, weights: roundWeights(raw, model) };
    const shard = start.shard ? decodeShard(start.shard) : new Uint16Array();
    rounds.push({ start, weights: decodeWeights(start.weights), shard, shardSize: shard.length });
  });
  const reply = await emitAck<JoinReply>(socket, 'client:join', mnistJoinRequest(name, extra));
  if ('error' in reply) throw new Error(`join refused: ${reply.error.code} ${reply.error.message}`);
  return {
    socket,
    clientId: reply.data.clientId,
    clientSecret: reply.data.clientSecret,
    limits: reply.data.limits,
    rounds,
    round: (runId, round) =>
      waitFor(() => rounds.find((r) => r.start.runId === runId && r.start.round === round), {
        what: `round:start of round ${round} for ${name}`,
      }),
    close: () => void socket.disconnect(),
  };
}

export const LOCAL_METRICS = { loss: 0.5, accuracy: 0.5, trainMs: 10 };

/** An update:submit payload for a received round; overrides replace fields (or add unknown ones). */
export function updateFor(received: ReceivedRound, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    runId: received.start.runId,
    round: received.start.round,
    samples: received.shardSize,
    weights: encodeWeights(received.weights),
    metrics: LOCAL_METRICS,
    ...overrides,
  };
}

/** Standard normal samples from a uniform generator (Box-Muller). */
export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
