import type { IncomingMessage } from 'node:http';
import type { Socket } from 'socket.io';
import type { HubNamespace } from './socket-plugin';
import {
  CodedError,
  dataChangeChecker,
  evalSubmitChecker,
  joinRequestChecker,
  secAggMaskedChecker,
  secAggMessageChecker,
  roundProgressChecker,
  updateSubmitChecker,
  type AckResponse,
  type Checker,
  type ClientSocketData,
  type ClientToHubEvents,
  type HubToClientEvents,
  type JoinReply,
  type JoinRequest,
  type DataChange,
  type EvalSubmit,
  type RoundProgress,
  type SecAggMasked,
  type SecAggMessage,
  type UpdateReceipt,
  type UpdateSubmit,
} from '@fl/shared';
import type { Static, TSchema } from 'typebox';
import type { Logger, Transport } from '../engine/coordinator';
import { tokensEqual } from '../http/auth';
import type { WindowCounter } from './window-counter';
import type { Claim } from '../store/client-identities';
import { DEFAULT_EVENT_BUDGET, EventBudget, type EventBudgetConfig } from './event-budget';
import { Intake } from './intake';

type ClientNamespace = HubNamespace;
type ClientSocket = Socket<ClientToHubEvents, HubToClientEvents, Record<string, never>, ClientSocketData>;

/** The most time the answers to client messages take in one turn of the event loop; the rest wait for the next (intake.ts). */
export const INTAKE_BUDGET_MS = 10;

const KNOWN_EVENTS = new Set(['client:join', 'client:data', 'round:progress', 'update:submit', 'eval:submit', 'secagg:keys', 'secagg:shares', 'secagg:masked', 'secagg:reveal']);

/** Sends to a client by id; the newest socket of a client wins. */
export class SocketTransport implements Transport {
  readonly sockets = new Map<string, ClientSocket>();
  /** Called when a client joins on this node (a leader forgets a relayed connection of it). */
  onAdopt: ((clientId: string) => void) | null = null;

  /** `clustered`: Socket.IO's adapter is Redis's (REDIS_URL), shared with other hub nodes. */
  constructor(private readonly clustered = false) {}

  /**
   * With connection state recovery Socket.IO routes even a socket's own emit through the adapter, which in a cluster
   * would publish every client's messages to Redis (and wait for it) although the socket is on this node: there it
   * is a local broadcast to the socket's own room. (Not `socket.local`: that is a broadcast to every other socket.)
   * One node keeps the plain emit, which sends a round to 10,000 clients faster than the broadcast operator.
   */
  send<E extends keyof HubToClientEvents>(clientId: string, event: E, ...args: Parameters<HubToClientEvents[E]>): void {
    const socket = this.sockets.get(clientId);
    if (!socket) return;
    if (this.clustered) socket.nsp.local.to(socket.id).emit(event, ...args);
    else socket.emit(event, ...args);
  }

  /**
   * Socket.IO encodes a broadcast's packet once and writes the same bytes to every socket in the rooms. Local: the
   * sockets are this node's, and a model frame must never travel through a cluster's Redis adapter.
   */
  broadcast<E extends keyof HubToClientEvents>(clientIds: readonly string[], event: E, ...args: Parameters<HubToClientEvents[E]>): void {
    const sockets = clientIds.flatMap((id) => this.sockets.get(id) ?? []);
    if (!sockets.length) return;
    sockets[0]!.nsp.local.to(sockets.map((socket) => socket.id)).emit(event, ...args);
  }
}

/**
 * What a training client's messages are handed to once checked and authenticated: the round engine on the node that
 * runs it (the Coordinator), or a relay to it on any other node of a cluster. Answers now or later.
 */
export interface ClientEngine {
  join(clientId: string, request: JoinRequest): Pick<JoinReply, 'clientId'> | Promise<Pick<JoinReply, 'clientId'>>;
  changeData(clientId: string, change: DataChange): void | Promise<void>;
  progress(clientId: string, progress: RoundProgress): void | Promise<void>;
  submit(clientId: string, update: UpdateSubmit): UpdateReceipt | Promise<UpdateReceipt>;
  submitEvaluation(clientId: string, submit: EvalSubmit): { accepted: true } | Promise<{ accepted: true }>;
  submitSecAgg(clientId: string, stage: 'keys' | 'shares' | 'reveal', message: SecAggMessage): { accepted: true } | Promise<{ accepted: true }>;
  submitMasked(clientId: string, message: SecAggMasked): UpdateReceipt | Promise<UpdateReceipt>;
  leave(clientId: string): void;
}

export interface ClientHandlerOptions {
  /** The engine a new connection's messages go to now; null: none (the connection is closed). */
  engine: () => ClientEngine | null;
  transport: SocketTransport;
  log: Logger;
  /** Updates larger than this are refused with HUB_ERR_TOO_LARGE. */
  maxUpdateBytes: number;
  /** Joins per address. */
  joinLimiter: WindowCounter;
  /** The address a connection's joins count against (default: the peer's, as Socket.IO saw it). */
  clientAddress?: (request: IncomingMessage) => string;
  joinToken?: string;
  /** Who may speak for which client id. */
  identities: { claim(clientId: string | undefined, secret: string | undefined): Promise<Claim> };
  /** Per-connection event budget (default DEFAULT_EVENT_BUDGET). */
  eventBudget?: EventBudgetConfig;
  now?: () => number;
}

function errorBody(error: unknown): AckResponse<never> {
  if (error instanceof CodedError) return { error: error.toBody() };
  return { error: { code: 'HUB_ERR_INTERNAL', message: 'the hub could not handle this message' } };
}

/**
 * Wires the training-client namespace: each event is validated against the shared contract,
 * handed to the coordinator, and answered through its acknowledgement, errors included.
 */
export function registerClientHandlers(nsp: ClientNamespace, options: ClientHandlerOptions): void {
  const { transport, log, joinToken, joinLimiter, maxUpdateBytes, identities } = options;
  const now = options.now ?? Date.now;
  const intake = new Intake(INTAKE_BUDGET_MS);

  nsp.on('connection', (socket) => {
    // A node that stops relaying or leading closes its clients' connections: each one keeps the engine it met.
    const engine = options.engine();
    if (!engine) {
      socket.disconnect(true);
      return;
    }
    const coordinator: ClientEngine = engine;
    const address = options.clientAddress?.(socket.request) ?? socket.handshake.address;
    // Every event spends from this connection's budget before anything else looks at it; unknown
    // events are answered here too (not in onAny, which Socket.IO runs before any middleware).
    const budget = new EventBudget(options.eventBudget ?? DEFAULT_EVENT_BUDGET, now);
    let refused = 0;
    /** A join whose identity claim is not committed yet. */
    let claiming = false;
    socket.use(([rawEvent, ...args], next) => {
      const event = String(rawEvent).slice(0, 64);
      const ack = args.at(-1);
      const answer = typeof ack === 'function' ? (ack as (r: AckResponse<never>) => void) : () => {};
      const verdict = budget.take(event);
      if (verdict !== 'allowed') {
        answer({ error: { code: 'HUB_ERR_RATE_LIMITED', message: `too many ${event} messages on this connection; slow down` } });
        if (refused++ === 0) log.warn({ event, socket: socket.id, client: socket.data.clientId }, 'messages over the connection budget refused');
        if (verdict === 'flooding') {
          log.warn({ socket: socket.id, client: socket.data.clientId, address }, 'connection kept flooding: disconnected');
          socket.disconnect(true);
        }
        return;
      }
      if (KNOWN_EVENTS.has(event)) return next();
      log.warn({ event, socket: socket.id }, 'unknown event refused');
      answer({ error: { code: 'HUB_ERR_UNKNOWN_EVENT', message: `unknown event ${event}` } });
    });

    /** Validates, runs, and always answers: nothing is dropped silently. A handler's promise is answered when it settles. */
    function handle<S extends TSchema, R>(event: string, validator: Checker<S>, run: (payload: Static<S>) => R | Promise<R>) {
      return (...args: unknown[]) => intake.run(() => answer(args));
      function answer(args: unknown[]): void {
        // The acknowledgement is always the last argument, however many came before it.
        const ack = args.at(-1);
        const reply = typeof ack === 'function' ? (ack as (r: AckResponse<R>) => void) : () => {};
        const payloads = typeof ack === 'function' ? args.slice(0, -1) : args;
        if (payloads.length !== 1) {
          reply({ error: { code: 'HUB_ERR_INVALID_PAYLOAD', message: `${event} takes exactly one payload, got ${payloads.length}` } });
          return;
        }
        const payload = payloads[0];
        const checked = validator.check(payload);
        if (!checked.ok) {
          log.warn({ event, reason: checked.reason, socket: socket.id }, 'invalid message refused');
          reply({ error: { code: 'HUB_ERR_INVALID_PAYLOAD', message: `${event}: ${checked.reason}` } });
          return;
        }
        const refuse = (error: unknown) => {
          if (!(error instanceof CodedError)) log.error({ err: error, event }, 'handler failed');
          else log.warn({ event, code: error.code, message: error.message, client: socket.data.clientId }, 'message refused');
          reply(errorBody(error));
        };
        try {
          const result = run(checked.value);
          if (result instanceof Promise) result.then((data) => reply({ data }), refuse);
          else reply({ data: result });
        } catch (error) {
          refuse(error);
        }
      }
    }

    function clientId(): string {
      const id = socket.data.clientId;
      if (!id) throw new CodedError('HUB_ERR_NOT_JOINED', 'join with client:join first');
      return id;
    }

    socket.on(
      'client:join',
      handle('client:join', joinRequestChecker, (request) => {
        if (!joinLimiter.hit(address)) {
          throw new CodedError('HUB_ERR_RATE_LIMITED', 'too many joins from this address; wait a minute');
        }
        if (joinToken !== undefined && !tokensEqual(request.joinToken ?? '', joinToken)) {
          throw new CodedError('HUB_ERR_UNAUTHORIZED', 'this hub needs a join token: open the client URL with ?join=<token>');
        }
        if (socket.data.clientId && socket.data.clientId !== request.clientId) {
          throw new CodedError('HUB_ERR_INVALID_PAYLOAD', 'this connection already joined as another client');
        }
        // A join again on a connection that already proved its id (a rename) needs no secret.
        if (socket.data.clientId) return admit({ kind: 'rejoined' as const, clientId: socket.data.clientId }, request);
        if (claiming) throw new CodedError('HUB_ERR_INVALID_PAYLOAD', 'this connection is already joining; wait for the answer to its first client:join');
        claiming = true;
        // The claim resolves once its identity write is committed (writes of the same moment commit together).
        return identities.claim(request.clientId, request.clientSecret).then(
          (claim) => {
            claiming = false;
            if (!socket.connected) throw new CodedError('HUB_ERR_NOT_JOINED', 'the connection closed while it joined');
            return admit(claim, request);
          },
          (error: unknown) => {
            claiming = false;
            throw error;
          },
        );
      }),
    );

    function admit(claim: Claim | { kind: 'rejoined'; clientId: string }, request: JoinRequest) {
      if (claim.kind === 'refused') {
        // The holder keeps its connection, its place and its round.
        throw new CodedError('HUB_ERR_CLIENT_CLAIMED', 'this client id belongs to another client; join without clientId to get an id of your own');
      }
      const id = claim.clientId;
      const previous = transport.sockets.get(id);
      if (claim.kind === 'reclaimed' && previous && previous.id !== socket.id) {
        // The same client (it holds the secret) on a new connection: the old one is stale.
        previous.data.clientId = undefined;
        previous.disconnect(true);
      }
      // Reachable before the join is dispatched: the join may start a waiting round, which sends to it.
      socket.data.clientId = id;
      transport.sockets.set(id, socket);
      transport.onAdopt?.(id);
      const answer = (reply: Pick<JoinReply, 'clientId'>) => ({
        ...reply,
        clientId: id,
        ...(claim.kind === 'issued' ? { clientSecret: claim.secret } : {}),
        limits: { maxUpdateBytes },
      });
      const reply = coordinator.join(id, request);
      return reply instanceof Promise ? reply.then(answer) : answer(reply);
    }
    const ok = (done: void | Promise<void>) => (done instanceof Promise ? done.then(() => ({ ok: true as const })) : { ok: true as const });
    socket.on('client:data', handle('client:data', dataChangeChecker, (change) => ok(coordinator.changeData(clientId(), change))));
    socket.on('round:progress', handle('round:progress', roundProgressChecker, (progress) => ok(coordinator.progress(clientId(), progress))));
    socket.on(
      'update:submit',
      // The validator refuses an unjoined sender itself, after the size check that every update gets first.
      handle('update:submit', updateSubmitChecker, (update) => coordinator.submit(socket.data.clientId ?? '', update)),
    );
    socket.on('eval:submit', handle('eval:submit', evalSubmitChecker, (submit) => coordinator.submitEvaluation(clientId(), submit)));
    for (const stage of ['keys', 'shares', 'reveal'] as const) {
      const event = `secagg:${stage}` as const;
      socket.on(event, handle(event, secAggMessageChecker, (message) => coordinator.submitSecAgg(clientId(), stage, message)));
    }
    socket.on('secagg:masked', handle('secagg:masked', secAggMaskedChecker, (message) => coordinator.submitMasked(clientId(), message)));

    // After the messages that came before it, which may still wait in the intake.
    socket.on('disconnect', () =>
      intake.run(() => {
        const id = socket.data.clientId;
        if (!id || transport.sockets.get(id) !== socket) return;
        transport.sockets.delete(id);
        coordinator.leave(id);
      }),
    );
  });
}
