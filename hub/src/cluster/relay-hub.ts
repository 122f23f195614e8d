import type { Namespace, Socket } from 'socket.io';
import {
  CodedError,
  dataChangeChecker,
  evalSubmitChecker,
  joinRequestChecker,
  roundProgressChecker,
  secAggMaskedChecker,
  secAggMessageChecker,
  updateSubmitChecker,
  type AckResponse,
  type Checker,
  type HubToClientEvents,
} from '@fl/shared';
import type { TSchema } from 'typebox';
import type { Coordinator, PartialSource } from '../engine/coordinator';
import type { Logger, Transport } from '../engine/ports';
import { tokensEqual } from '../http/auth';
import type { SocketTransport } from '../socket/client-handlers';
import {
  heldMaskedChecker,
  heldUpdateChecker,
  partialSumChecker,
  relayEventChecker,
  type LeaderToRelayEvents,
  type PartialSum,
  type RelayEvent,
  type RelaySend,
  type RelayToLeaderEvents,
} from './relay-protocol';

/** How long the leader waits for a relay's partial sum when a round closes. */
const PARTIAL_TIMEOUT_MS = 30_000;

type RelaySocket = Socket<RelayToLeaderEvents, LeaderToRelayEvents>;

export interface RelayHubOptions {
  /** The cluster's admin token, which relaying nodes present. */
  token: string;
  /** The engine while this node leads; relays are refused without it. */
  engine: () => Coordinator | null;
  /** This node's own training clients. */
  local: SocketTransport;
  log: Logger;
}

/** What crossed the relay links on the leader (GET /api/cluster/forwarded; the cluster bench reads it). */
export interface RelayHubStats {
  /** Every byte of the links' Engine.IO packets, both ways (messages and their binary attachments; not WebSocket framing). */
  linkBytes: number;
  /** Engine messages to relayed clients, one per node for a broadcast, and the bytes of their binary parts (round models). */
  messages: number;
  binaryBytes: number;
  /** Whole updates handed on by relays, partial sums taken from them, and their bytes. */
  wholeUpdates: number;
  wholeUpdateBytes: number;
  partials: number;
  partialBytes: number;
}

/**
 * The leader's side of the relays (RelayLink): admits hub nodes that hold the admin token on RELAY_NAMESPACE, hands
 * their clients' messages to the engine (checked again against the shared contract: nothing from the wire is
 * trusted unchecked), routes the engine's messages for those clients back to their node, and takes each node's
 * partial sum when a round closes. A node that goes takes its clients and the updates it held with it.
 */
export class RelayHub implements PartialSource {
  private readonly links = new Map<string, RelaySocket>();
  /** Relayed client id -> the node it is on. */
  private readonly remote = new Map<string, string>();
  readonly stats: RelayHubStats = { linkBytes: 0, messages: 0, binaryBytes: 0, wholeUpdates: 0, wholeUpdateBytes: 0, partials: 0, partialBytes: 0 };
  readonly transport: Transport;
  /** Partial sums asked for and not answered yet, by request id. */
  private readonly asked = new Map<number, { nodeId: string; settle: (response: AckResponse<PartialSum> | null) => void }>();
  private nextAsk = 1;

  constructor(
    private readonly nsp: Namespace<RelayToLeaderEvents, LeaderToRelayEvents>,
    private readonly options: RelayHubOptions,
  ) {
    this.transport = new ClusterTransport(options.local, this);
    nsp.use((socket, next) => {
      const auth = (socket.handshake.auth ?? {}) as { token?: unknown; nodeId?: unknown };
      const refuse = (code: string, message: string) => next(Object.assign(new Error(message), { data: { code } }));
      if (typeof auth.token !== 'string' || !tokensEqual(auth.token, options.token)) return refuse('HUB_ERR_UNAUTHORIZED', 'relays must present the cluster admin token');
      if (typeof auth.nodeId !== 'string' || auth.nodeId.length === 0 || auth.nodeId.length > 64) return refuse('HUB_ERR_INVALID_PAYLOAD', 'relays name their node id');
      if (!options.engine()) return refuse('HUB_ERR_NO_LEADER', 'this hub node does not run the round engine');
      next();
    });
    nsp.on('connection', (socket) => this.admit(socket, (socket.handshake.auth as { nodeId: string }).nodeId));
    // A client of this node that was relayed before is this node's now.
    options.local.onAdopt = (clientId) => this.forget(clientId);
  }

  private admit(socket: RelaySocket, nodeId: string): void {
    const { log } = this.options;
    const previous = this.links.get(nodeId);
    if (previous) {
      this.lost(nodeId, previous);
      previous.disconnect(true);
    }
    this.links.set(nodeId, socket);
    // The relay's connection carries only this namespace: its packets are the link's traffic.
    const count = (packet: { data?: unknown }) => (this.stats.linkBytes += packetBytes(packet.data));
    socket.conn.on('packet', count);
    socket.conn.on('packetCreate', count);
    log.info({ node: nodeId }, 'a hub node relays its training clients here');
    socket.on('relay:event', (message, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      void this.handle(nodeId, message).then(reply);
    });
    socket.on('relay:partial-sum', (answer) => {
      const asked = this.asked.get(Number(answer?.id));
      if (!asked || asked.nodeId !== nodeId) return;
      this.asked.delete(Number(answer.id));
      asked.settle(answer.response ?? null);
    });
    socket.on('disconnect', (reason) => {
      if (this.links.get(nodeId) !== socket) return;
      log.warn({ node: nodeId, reason }, 'a relaying hub node left: its clients leave with it');
      this.lost(nodeId, socket);
    });
  }

  /** The node's link is gone: the updates it held are lost, its clients have left. */
  private lost(nodeId: string, socket: RelaySocket): void {
    if (this.links.get(nodeId) === socket) this.links.delete(nodeId);
    for (const [id, asked] of [...this.asked]) {
      if (asked.nodeId !== nodeId) continue;
      this.asked.delete(id);
      asked.settle(null);
    }
    const engine = this.options.engine();
    engine?.relayLost(nodeId);
    for (const [clientId, node] of [...this.remote]) {
      if (node !== nodeId) continue;
      this.remote.delete(clientId);
      if (!this.options.local.sockets.has(clientId)) engine?.leave(clientId);
    }
  }

  /** The node a relayed client is on (none when it is this node's, or unknown). */
  nodeOf(clientId: string): RelaySocket | undefined {
    const node = this.remote.get(clientId);
    return node === undefined ? undefined : this.links.get(node);
  }

  /**
   * Sends on a relay's link. With connection state recovery Socket.IO routes even a socket's own emit through the
   * adapter, which in a cluster would publish every message (round models included) to Redis: a `local` broadcast
   * to the link's own room delivers it on this node only.
   */
  private linkTo(link: RelaySocket) {
    return this.nsp.local.to(link.id);
  }

  send(link: RelaySocket, message: RelaySend): void {
    this.linkTo(link).emit('relay:send', message);
  }

  /** The client joined on this node: a relayed connection of it elsewhere is stale. */
  private forget(clientId: string): void {
    const node = this.remote.get(clientId);
    if (node === undefined) return;
    this.remote.delete(clientId);
    const link = this.links.get(node);
    if (link) this.linkTo(link).emit('relay:drop', { clientId });
  }

  countSend(args: unknown[]): void {
    this.stats.messages += 1;
    for (const arg of args) this.stats.binaryBytes += binaryBytes(arg);
  }

  private async handle(nodeId: string, message: unknown): Promise<AckResponse<unknown>> {
    const { log } = this.options;
    const checked = relayEventChecker.check(message);
    if (!checked.ok) return { error: { code: 'HUB_ERR_INVALID_PAYLOAD', message: `relay:event: ${checked.reason}` } };
    const engine = this.options.engine();
    if (!engine) return { error: { code: 'HUB_ERR_NO_LEADER', message: 'this hub node no longer runs the round engine' } };
    try {
      return { data: await this.dispatch(engine, nodeId, checked.value) };
    } catch (error) {
      if (error instanceof CodedError) return { error: error.toBody() };
      log.error({ err: error, event: checked.value.event, node: nodeId }, 'a relayed message failed');
      return { error: { code: 'HUB_ERR_INTERNAL', message: 'the hub could not handle this message' } };
    }
  }

  private dispatch(engine: Coordinator, nodeId: string, { clientId, event, payload }: RelayEvent): unknown {
    const valid = <S extends TSchema>(checker: Checker<S>) => {
      const result = checker.check(payload);
      if (!result.ok) throw new CodedError('HUB_ERR_INVALID_PAYLOAD', `${event}: ${result.reason}`);
      return result.value;
    };
    if (event === 'client:join') {
      const request = valid(joinRequestChecker);
      this.claim(clientId, nodeId);
      return engine.join(clientId, request);
    }
    // A relay speaks only for the clients that joined through it.
    if (this.remote.get(clientId) !== nodeId) {
      if (event === 'client:leave') return null;
      throw new CodedError('HUB_ERR_NOT_JOINED', 'join with client:join first');
    }
    switch (event) {
      case 'client:leave':
        this.remote.delete(clientId);
        if (!this.options.local.sockets.has(clientId)) engine.leave(clientId);
        return null;
      case 'client:data':
        engine.changeData(clientId, valid(dataChangeChecker));
        return { ok: true };
      case 'round:progress':
        engine.progress(clientId, valid(roundProgressChecker));
        return { ok: true };
      case 'update:submit': {
        const update = valid(updateSubmitChecker);
        this.stats.wholeUpdates += 1;
        this.stats.wholeUpdateBytes += update.weights.byteLength;
        return engine.submit(clientId, update);
      }
      case 'update:held':
        return engine.submitHeld(clientId, valid(heldUpdateChecker), nodeId);
      case 'secagg:masked-held':
        return engine.submitMaskedHeld(clientId, valid(heldMaskedChecker), nodeId);
      case 'eval:submit':
        return engine.submitEvaluation(clientId, valid(evalSubmitChecker));
      case 'secagg:keys':
      case 'secagg:shares':
      case 'secagg:reveal':
        return engine.submitSecAgg(clientId, event.slice('secagg:'.length) as 'keys' | 'shares' | 'reveal', valid(secAggMessageChecker));
      case 'secagg:masked':
        return engine.submitMasked(clientId, valid(secAggMaskedChecker));
      default: {
        const _exhaustive: never = event;
        throw new CodedError('HUB_ERR_UNKNOWN_EVENT', `unknown event ${String(_exhaustive)}`);
      }
    }
  }

  /** A client joins through `nodeId`: its connection on this node or on another relay is stale. */
  private claim(clientId: string, nodeId: string): void {
    const { local } = this.options;
    const socket = local.sockets.get(clientId);
    if (socket) {
      local.sockets.delete(clientId);
      socket.data.clientId = undefined;
      socket.disconnect(true);
    }
    const previous = this.remote.get(clientId);
    const stale = previous !== undefined && previous !== nodeId ? this.links.get(previous) : undefined;
    if (stale) this.linkTo(stale).emit('relay:drop', { clientId });
    this.remote.set(clientId, nodeId);
  }

  collect(nodeId: string, request: { partial: string; clients: string[] }): Promise<PartialSum> {
    const link = this.links.get(nodeId);
    if (!link) return Promise.reject(new Error(`node ${nodeId} is not connected`));
    return new Promise((resolve, reject) => {
      const id = this.nextAsk++;
      const timer = setTimeout(() => {
        this.asked.delete(id);
        reject(new Error(`node ${nodeId} did not answer in ${PARTIAL_TIMEOUT_MS / 1000} s`));
      }, PARTIAL_TIMEOUT_MS);
      this.asked.set(id, {
        nodeId,
        settle: (response) => {
          clearTimeout(timer);
          if (!response) return reject(new Error(`node ${nodeId} left before it answered`));
          if ('error' in response) return reject(new Error(`${response.error.code}: ${response.error.message}`));
          const checked = partialSumChecker.check(response.data);
          if (!checked.ok) return reject(new Error(`malformed partial sum: ${checked.reason}`));
          this.stats.partials += 1;
          this.stats.partialBytes += checked.value.sum.byteLength;
          resolve(checked.value);
        },
      });
      this.linkTo(link).emit('relay:partial', { id, ...request });
    });
  }
}

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) return data.byteLength;
  return 0;
}

/** Bytes of the binary parts (model frames) of a message's payload. */
function binaryBytes(value: unknown): number {
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return value.byteLength;
  if (value && typeof value === 'object') return Object.values(value).reduce((n: number, v) => n + binaryBytes(v), 0);
  return 0;
}

/** The engine's transport on a leader: its own clients directly, relayed ones through their node (a broadcast once per node). */
class ClusterTransport implements Transport {
  constructor(
    private readonly local: SocketTransport,
    private readonly hub: RelayHub,
  ) {}

  send<E extends keyof HubToClientEvents>(clientId: string, event: E, ...args: Parameters<HubToClientEvents[E]>): void {
    if (this.local.sockets.has(clientId)) return this.local.send(clientId, event, ...args);
    const link = this.hub.nodeOf(clientId);
    if (!link) return;
    this.hub.countSend(args);
    this.hub.send(link, { to: [clientId], event, args });
  }

  broadcast<E extends keyof HubToClientEvents>(clientIds: readonly string[], event: E, ...args: Parameters<HubToClientEvents[E]>): void {
    const here: string[] = [];
    const byNode = new Map<RelaySocket, string[]>();
    for (const id of clientIds) {
      if (this.local.sockets.has(id)) {
        here.push(id);
        continue;
      }
      const link = this.hub.nodeOf(id);
      if (!link) continue;
      const to = byNode.get(link);
      if (to) to.push(id);
      else byNode.set(link, [id]);
    }
    if (here.length) this.local.broadcast(here, event, ...args);
    for (const [link, to] of byNode) {
      this.hub.countSend(args);
      this.hub.send(link, { to, event, args });
    }
  }
}
