import { io, type Socket } from 'socket.io-client';
import {
  CodedError,
  decodeWeights,
  roundModelChecker,
  roundStartChecker,
  seedFromString,
  toBytes,
  type AckResponse,
  type DataChange,
  type EvalSubmit,
  type JoinReply,
  type JoinRequest,
  type RoundProgress,
  type RunSettings,
  type SecAggMasked,
  type SecAggMessage,
  type TaskId,
  type UpdateReceipt,
  type UpdateSubmit,
} from '@fl/shared';
import { decodeSetup } from '@fl/shared/secagg/index';
import { wordsOf } from '@fl/shared/secagg/bytes';
import { MASKED_HEADER_BYTES, readMaskedHeader } from '@fl/shared/secagg/frames';
import { createFedAvg, foldUpdate, type FedAvgAccumulator } from '../aggregation/fedavg';
import type { Logger } from '../engine/ports';
import { checkFrame } from '../engine/update-validator';
import type { ClientEngine, SocketTransport } from '../socket/client-handlers';
import {
  RELAY_NAMESPACE,
  foldsOnRelay,
  type HeldMasked,
  type HeldReceipt,
  type HeldUpdate,
  type LeaderToRelayEvents,
  type PartialSum,
  type RelayedEvent,
  type RelaySend,
  type RelayToLeaderEvents,
} from './relay-protocol';

/** How long a relayed message waits for the leader's answer before its client is told the leader is gone. */
const ANSWER_TIMEOUT_MS = 30_000;

export interface RelayLinkOptions {
  nodeId: string;
  /** The cluster's admin token: the leader admits relays that hold it. */
  token: string;
  /** Where the leader is now (null: no node leads). */
  leaderUrl: () => Promise<string | null>;
  /** This node's training-client sockets. */
  transport: SocketTransport;
  shapes: (task: TaskId) => number[][];
  maxUpdateBytes: number;
  log: Logger;
  /** The link closed: this node's training clients must go (they reconnect through the load balancer, to a node that leads or relays). */
  onDown: () => void;
  /** Between tries to reach the leader (default 500 ms). */
  retryMs?: number;
}

/** A round as its relayed messages showed it: its settings (round:start) and the model its clients received (their deltas add to it). */
interface RoundSeen {
  runId: string;
  round: number;
  settings: RunSettings | null;
  base: Float32Array | null;
}

/** The updates (or masked inputs) this node holds for one round attempt, folded as they are accepted. */
type Partial = { kind: 'fedavg'; acc: FedAvgAccumulator; clients: string[] } | { kind: 'masked'; words: Uint32Array; clients: string[] };

/** A relayed client's place in its secure round, from the setup its round:start carried. */
interface SecureSeat {
  runId: string;
  round: number;
  index: number;
  /** The model's length: a masked input has length + 1 words. */
  length: number;
}

/** What crossed this node's link to the leader (GET /api/cluster/forwarded; the cluster bench reads it). */
export interface RelayStats {
  /** Updates handed on whole (rounds whose strategy needs each one), and their bytes. */
  wholeUpdates: number;
  wholeUpdateBytes: number;
  /** Updates kept here and folded into a partial sum. */
  heldUpdates: number;
  heldUpdateBytes: number;
  /** Masked inputs of secure rounds kept here and summed modulo 2^32, and those handed on whole. */
  heldMasked: number;
  wholeMasked: number;
  /** Partial sums handed to the leader, and their bytes. */
  partials: number;
  partialBytes: number;
}

/**
 * A hub node that does not run the round engine relays its training clients to the node that does: one Socket.IO
 * connection to the leader carries the clients' checked messages there and the engine's messages back (a round's
 * model once per node, broadcast here to its own clients). A plain-FedAvg update is checked here, its envelope
 * accepted by the leader, and its values folded into this node's partial sum; the leader takes the partial, one
 * model's worth of bytes, when the round closes (hierarchical FedAvg). While the link is down this node serves no
 * training client.
 */
export class RelayLink implements ClientEngine {
  private socket: Socket<LeaderToRelayEvents, RelayToLeaderEvents> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** A failed try was logged since the link was last up: the next ones (every retryMs) are not. */
  private warned = false;
  private seen: RoundSeen | null = null;
  private readonly seats = new Map<string, SecureSeat>();
  private readonly partials = new Map<string, Partial>();
  readonly stats: RelayStats = { wholeUpdates: 0, wholeUpdateBytes: 0, heldUpdates: 0, heldUpdateBytes: 0, heldMasked: 0, wholeMasked: 0, partials: 0, partialBytes: 0 };

  constructor(private readonly options: RelayLinkOptions) {}

  /** Connected to the leader: this node takes training clients. */
  get up(): boolean {
    return this.socket?.connected === true;
  }

  /** Keeps a link to whichever node leads, from now until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connectSoon(0);
  }

  /** Closes the link (this node is about to lead, or shuts down); its clients are let go. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    if (socket) this.down(socket);
    socket?.close();
  }

  private connectSoon(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.connect(), ms);
    this.timer.unref();
  }

  private async connect(): Promise<void> {
    this.timer = null;
    const { log, retryMs = 500 } = this.options;
    let url: string | null = null;
    try {
      url = await this.options.leaderUrl();
    } catch (err) {
      log.warn({ err }, 'the cluster could not be asked for its leader');
    }
    if (this.stopped) return;
    if (!url) return this.connectSoon(retryMs);
    const socket: Socket<LeaderToRelayEvents, RelayToLeaderEvents> = io(`${url}${RELAY_NAMESPACE}`, {
      auth: { token: this.options.token, nodeId: this.options.nodeId },
      transports: ['websocket'],
      reconnection: false,
      timeout: 5000,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.warned = false;
      log.info({ leader: url }, 'relaying training clients to the leader');
    });
    socket.on('connect_error', (err) => {
      if (!this.warned) log.warn({ leader: url, reason: err.message }, 'the leader refused or missed the relay connection; trying again until it answers');
      this.warned = true;
      this.down(socket);
    });
    socket.on('disconnect', (reason) => {
      log.warn({ leader: url, reason }, 'the link to the leader closed: this node lets its training clients go');
      this.down(socket);
    });
    socket.on('relay:send', (message) => this.deliver(message));
    socket.on('relay:drop', ({ clientId }) => this.drop(clientId));
    socket.on('relay:partial', (request) => socket.emit('relay:partial-sum', { id: request?.id, response: this.takePartial(String(request?.partial)) }));
  }

  /** The link is gone: what it held is void; the clients go; another try follows. */
  private down(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    socket.removeAllListeners();
    socket.close();
    this.seen = null;
    this.seats.clear();
    this.partials.clear();
    this.options.onDown();
    this.connectSoon(this.options.retryMs ?? 500);
  }

  /** The engine's message for clients of this node: sent to them (one broadcast for many); round messages are read for what updates need. */
  private deliver(message: RelaySend): void {
    if (!Array.isArray(message?.to) || !Array.isArray(message.args) || typeof message.event !== 'string') return;
    const [payload] = message.args;
    if (message.event === 'round:model' && roundModelChecker.check(payload).ok) {
      const model = payload as { runId: string; round: number; weights: Uint8Array };
      this.learn(model.runId, model.round, null, model.weights);
    } else if (message.event === 'round:start' && roundStartChecker.check(payload).ok) {
      const start = payload as { runId: string; round: number; settings: RunSettings; weights?: Uint8Array; secagg?: Uint8Array };
      this.learn(start.runId, start.round, start.settings, start.weights ?? null);
      if (start.secagg && message.to.length === 1) this.seat(message.to[0]!, start.runId, start.round, start.secagg);
    }
    const { transport } = this.options;
    const args = message.args as Parameters<SocketTransport['broadcast']>[2][];
    if (message.to.length === 1) transport.send(message.to[0]!, message.event, ...(args as [never]));
    else transport.broadcast(message.to, message.event, ...(args as [never]));
  }

  private learn(runId: string, round: number, settings: RunSettings | null, frame: Uint8Array | null): void {
    let seen = this.seen;
    if (!seen || seen.runId !== runId || seen.round !== round) seen = this.seen = { runId, round, settings: null, base: null };
    if (settings) seen.settings = settings;
    // The model exactly as the clients decode it: a delta update is added to it.
    if (frame && !seen.base) {
      try {
        seen.base = decodeWeights(toBytes(frame)).values;
      } catch (err) {
        this.options.log.warn({ err, runId, round }, "a round's model frame from the leader could not be read: its updates go to the leader whole");
      }
    }
  }

  private seat(clientId: string, runId: string, round: number, setup: Uint8Array): void {
    try {
      const { params, index } = decodeSetup(toBytes(setup));
      if (params.runId === runId && params.round === round) this.seats.set(clientId, { runId, round, index, length: params.length });
    } catch (err) {
      this.options.log.warn({ err, runId, round }, "a secure round's setup from the leader could not be read: its masked inputs go to the leader whole");
    }
  }

  private drop(clientId: string): void {
    const socket = this.options.transport.sockets.get(clientId);
    if (!socket) return;
    // Joined on another node with its secret: this connection is stale, and its departure is not the client's.
    this.options.transport.sockets.delete(clientId);
    socket.data.clientId = undefined;
    socket.disconnect(true);
  }

  private takePartial(name: string): AckResponse<PartialSum> {
    const partial = this.partials.get(name);
    if (!partial) return { error: { code: 'HUB_ERR_NOT_FOUND', message: `this node holds no partial sum ${name}` } };
    this.partials.delete(name);
    this.stats.partials += 1;
    if (partial.kind === 'masked') {
      const sum = new Uint8Array(partial.words.buffer);
      this.stats.partialBytes += sum.byteLength;
      return { data: { kind: 'masked', partial: name, clients: partial.clients, weight: partial.clients.length, sum } };
    }
    // A copy: the running sum may be a view of the fold kernel's wasm memory.
    const sum = new Uint8Array(Float64Array.from(partial.acc.sum).buffer);
    this.stats.partialBytes += sum.byteLength;
    return { data: { kind: 'fedavg', partial: name, clients: partial.clients, weight: partial.acc.totalWeight, sum } };
  }

  /** Hands a message to the leader; `onAnswer` runs in the answer's own callback (before any later message of the link). */
  private ask<T>(clientId: string, event: RelayedEvent, payload: unknown, onAnswer: (data: T) => T = (data) => data): Promise<T> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.reject(new CodedError('HUB_ERR_NO_LEADER', 'this hub node lost its link to the leader: reconnect'));
    return new Promise<T>((resolve, reject) => {
      socket.timeout(ANSWER_TIMEOUT_MS).emit('relay:event', { clientId, event, payload }, (err: Error | null, response: AckResponse<unknown>) => {
        if (err) return reject(new CodedError('HUB_ERR_NO_LEADER', 'the leader did not answer in time: reconnect'));
        if ('error' in response) return reject(new CodedError(response.error.code, response.error.message));
        try {
          resolve(onAnswer(response.data as T));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  join(clientId: string, request: JoinRequest): Promise<Pick<JoinReply, 'clientId'>> {
    // This node checked the join token and the client's secret: neither goes further.
    const { clientSecret: _secret, joinToken: _token, ...rest } = request;
    return this.ask(clientId, 'client:join', rest);
  }

  changeData(clientId: string, change: DataChange): Promise<void> {
    return this.ask<unknown>(clientId, 'client:data', change).then(() => {});
  }

  progress(clientId: string, progress: RoundProgress): Promise<void> {
    return this.ask<unknown>(clientId, 'round:progress', progress).then(() => {});
  }

  submit(clientId: string, update: UpdateSubmit): Promise<UpdateReceipt> {
    const seen = this.seen;
    const bytes = update.weights.byteLength;
    if (seen?.settings && seen.base && seen.runId === update.runId && seen.round === update.round && foldsOnRelay(seen.settings)) {
      return this.hold(clientId, update, seen.base, seen.settings.task);
    }
    this.stats.wholeUpdates += 1;
    this.stats.wholeUpdateBytes += bytes;
    return this.ask(clientId, 'update:submit', update);
  }

  /** Checks the frame here (as the leader would), asks the leader to accept its envelope, and folds it once accepted. */
  private async hold(clientId: string, update: UpdateSubmit, base: Float32Array, task: TaskId): Promise<UpdateReceipt> {
    const bytes = update.weights.byteLength;
    if (bytes > this.options.maxUpdateBytes) {
      throw new CodedError('HUB_ERR_TOO_LARGE', `update of ${bytes} bytes exceeds the hub's limit of ${this.options.maxUpdateBytes}`);
    }
    const shapes = this.options.shapes(task);
    const values = checkFrame(toBytes(update.weights), { shapes, task, round: update.round, runTag: seedFromString(update.runId) }, base);
    const held: HeldUpdate = { runId: update.runId, round: update.round, samples: update.samples, metrics: update.metrics, bytes };
    const receipt = await this.ask<HeldReceipt>(clientId, 'update:held', held, (answer) => {
      if (!(answer.weight > 0) || typeof answer.partial !== 'string') throw new CodedError('HUB_ERR_INTERNAL', 'the leader answered a held update without its weight');
      // Folded in the answer's callback: the leader asks for the partial only after it answered every update in it.
      let partial = this.partials.get(answer.partial);
      if (partial?.kind !== 'fedavg') {
        this.partials.clear(); // an earlier attempt's sum is never asked for
        partial = { kind: 'fedavg', acc: createFedAvg(values.length), clients: [] };
        this.partials.set(answer.partial, partial);
      }
      foldUpdate(partial.acc, values, answer.weight);
      partial.clients.push(clientId);
      this.stats.heldUpdates += 1;
      this.stats.heldUpdateBytes += bytes;
      return answer;
    });
    return { accepted: true, received: receipt.received };
  }

  submitEvaluation(clientId: string, submit: EvalSubmit): Promise<{ accepted: true }> {
    return this.ask(clientId, 'eval:submit', submit);
  }

  submitSecAgg(clientId: string, stage: 'keys' | 'shares' | 'reveal', message: SecAggMessage): Promise<{ accepted: true }> {
    return this.ask(clientId, `secagg:${stage}`, message);
  }

  submitMasked(clientId: string, message: SecAggMasked): Promise<UpdateReceipt> {
    const seat = this.seats.get(clientId);
    if (seat && seat.runId === message.runId && seat.round === message.round) return this.holdMasked(clientId, message, seat);
    this.stats.wholeMasked += 1;
    return this.ask(clientId, 'secagg:masked', message);
  }

  /**
   * A masked input: its frame checked here (size, index, round), its envelope accepted by the leader, its words
   * added to this node's sum modulo 2^32 (still masked: no node can read it, the leader only the whole round's).
   */
  private async holdMasked(clientId: string, message: SecAggMasked, seat: SecureSeat): Promise<UpdateReceipt> {
    const frame = toBytes(message.frame);
    const header = readMaskedHeader(frame, seat.length);
    if (header.index !== seat.index || header.round !== seat.round) {
      throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', `masked frame names index ${header.index} round ${header.round}`);
    }
    const words = wordsOf(frame.subarray(MASKED_HEADER_BYTES));
    const held: HeldMasked = { runId: message.runId, round: message.round, metrics: message.metrics };
    const receipt = await this.ask<HeldReceipt>(clientId, 'secagg:masked-held', held, (answer) => {
      if (typeof answer.partial !== 'string') throw new CodedError('HUB_ERR_INTERNAL', 'the leader answered a masked input without its partial sum');
      let partial = this.partials.get(answer.partial);
      if (partial?.kind !== 'masked') {
        this.partials.clear();
        partial = { kind: 'masked', words: new Uint32Array(seat.length + 1), clients: [] };
        this.partials.set(answer.partial, partial);
      }
      const sum = partial.words;
      for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + words[k]!;
      partial.clients.push(clientId);
      this.stats.heldMasked += 1;
      return answer;
    });
    return { accepted: true, received: receipt.received };
  }

  leave(clientId: string): void {
    if (this.socket?.connected) this.socket.emit('relay:event', { clientId, event: 'client:leave', payload: null }, () => {});
  }
}
