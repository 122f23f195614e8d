import Type, { type Static } from 'typebox';
import { Binary, checker, toBytes } from './validation';
import { RunSettings, TaskSchema } from './settings';
import { CodedError, type Ack } from './errors';
import type { HubStatus, RunDetail } from './api';
import { BackendInfo, ClientData, ClientKind, EvalMetrics } from './payloads';

export * from './payloads';

/** Socket.IO namespace of training clients (browser tabs and headless clients). */
export const CLIENT_NAMESPACE = '/clients';
/** Socket.IO namespace of dashboards: live status, read-only. */
export const DASHBOARD_NAMESPACE = '/dashboard';
/**
 * The handshake query a training client's connection carries, so that a hub node that does not run the round
 * engine can refuse it before the WebSocket opens (503), and a load balancer tries the next node.
 */
export const CLIENT_HANDSHAKE_QUERY = { role: 'client' } as const;

export const JoinRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    kind: ClientKind,
    data: Type.Union([ClientData, Type.Null()]),
    backend: BackendInfo,
    /** The id a reconnecting client had, so the hub can treat it as the same client. */
    clientId: Type.Optional(Type.String({ maxLength: 64 })),
    /** The secret the hub issued with `clientId`; without it a known id is refused (HUB_ERR_CLIENT_CLAIMED). */
    clientSecret: Type.Optional(Type.String({ maxLength: 128 })),
    joinToken: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type JoinRequest = Static<typeof JoinRequest>;

export interface JoinReply {
  clientId: string;
  /** Sent once, when the id is issued: the client keeps it to reclaim the id later. */
  clientSecret?: string;
  /** Limits the client must respect so that nothing it sends is refused for its size. */
  limits: { maxUpdateBytes: number };
}

export const DataChange = Type.Object(
  { data: Type.Union([ClientData, Type.Null()]), backend: Type.Optional(BackendInfo) },
  { additionalProperties: false },
);
export type DataChange = Static<typeof DataChange>;

const RunRef = { runId: Type.String({ minLength: 1, maxLength: 64 }), round: Type.Integer({ minimum: 1, maximum: 100_000 }) };

export const RoundProgress = Type.Object(
  {
    ...RunRef,
    epoch: Type.Integer({ minimum: 0 }),
    epochs: Type.Integer({ minimum: 1 }),
    batch: Type.Integer({ minimum: 0 }),
    batches: Type.Integer({ minimum: 1 }),
    loss: Type.Optional(Type.Number()),
    accuracy: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
export type RoundProgress = Static<typeof RoundProgress>;

export const LocalMetrics = Type.Object({
  loss: Type.Number(),
  accuracy: Type.Number({ minimum: 0, maximum: 1 }),
  trainMs: Type.Number({ minimum: 0 }),
});
export type LocalMetrics = Static<typeof LocalMetrics>;

export const UpdateSubmit = Type.Object(
  {
    ...RunRef,
    samples: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    weights: Binary,
    metrics: LocalMetrics,
  },
  { additionalProperties: false },
);
export type UpdateSubmit = Static<typeof UpdateSubmit>;

export interface UpdateReceipt {
  accepted: true;
  /** Updates received for this round so far, this one included. */
  received: number;
}

/** What a picked client gets at the start of a round. */
export const RoundStart = Type.Object({
  ...RunRef,
  rounds: Type.Integer({ minimum: 1 }),
  settings: RunSettings,
  /**
   * The global model as a weight frame (weight-codec); absent when it came just before in the round's
   * `round:model` broadcast (encoded once for every participant). A round sent again to one client carries it.
   */
  weights: Type.Optional(Binary),
  /** MNIST: the client's shard, little-endian uint16 indices into the training sprite, in base64 (mnist-dataset's encodeShard). */
  shard: Type.Optional(Type.String({ maxLength: 200_000 })),
  /** Epoch milliseconds after which the hub closes the round. */
  deadline: Type.Number(),
  /** Seed for the client's batch order, so runs can be repeated. */
  seed: Type.Integer(),
  /** Secure aggregation: this round's protocol parameters and the client's place in it (secagg/frames setup layout). */
  secagg: Type.Optional(Binary),
});
export type RoundStart = Static<typeof RoundStart>;

/** The round's global model, broadcast once to all of its participants ahead of their own `round:start`. */
export const RoundModel = Type.Object({ ...RunRef, weights: Binary });
export type RoundModel = Static<typeof RoundModel>;

/**
 * The model frame of a round: inline in its `round:start`, or the `round:model` broadcast for the same run and
 * round that arrived before it (a connection delivers in order). Throws when neither has it.
 */
export function roundWeights(start: RoundStart, model: RoundModel | null): Uint8Array {
  if (start.weights !== undefined) return toBytes(start.weights);
  if (model && model.runId === start.runId && model.round === start.round) return toBytes(model.weights);
  throw new CodedError('HUB_ERR_BAD_FRAME', `round ${start.round} of run ${start.runId} came without its model`);
}

export const RoundCancel = Type.Object({ ...RunRef, reason: Type.String() });
export type RoundCancel = Static<typeof RoundCancel>;

/** Model rounds: 0 is the model a run starts from, r the global model after round r. */
const ModelRef = { runId: RunRef.runId, round: Type.Integer({ minimum: 0, maximum: 100_000 }) };

/** After the last round: score the final model on your own test split and answer with `eval:submit`. */
export const ModelEvaluate = Type.Object({ ...ModelRef, task: TaskSchema, weights: Binary });
export type ModelEvaluate = Static<typeof ModelEvaluate>;

/**
 * A client's score of one global model on its own test split: the model it received with
 * `round:start` (round - 1), sent before it trains, or the final model of `model:evaluate`.
 */
export const EvalSubmit = Type.Object({ ...ModelRef, metrics: EvalMetrics }, { additionalProperties: false });
export type EvalSubmit = Static<typeof EvalSubmit>;

/**
 * One secure-aggregation stage message, either way: a fixed-layout binary frame of the round's protocol
 * (shared/src/secagg/frames.ts). Client to hub: keys, shares, reveal. Hub to client: keyset, shares-in, unmask.
 */
export const SecAggMessage = Type.Object({ ...RunRef, frame: Binary }, { additionalProperties: false });
export type SecAggMessage = Static<typeof SecAggMessage>;

/** A client's masked input: its weighted, clipped, fixed-point change plus masks; the hub can only add these up. */
export const SecAggMasked = Type.Object({ ...RunRef, frame: Binary, metrics: LocalMetrics }, { additionalProperties: false });
export type SecAggMasked = Static<typeof SecAggMasked>;

/** Events a training client sends; each request is answered through its acknowledgement. */
export interface ClientToHubEvents {
  'client:join': (request: JoinRequest, ack: Ack<JoinReply>) => void;
  'client:data': (change: DataChange, ack: Ack<{ ok: true }>) => void;
  'round:progress': (progress: RoundProgress, ack: Ack<{ ok: true }>) => void;
  'update:submit': (update: UpdateSubmit, ack: Ack<UpdateReceipt>) => void;
  'eval:submit': (submit: EvalSubmit, ack: Ack<{ accepted: true }>) => void;
  'secagg:keys': (message: SecAggMessage, ack: Ack<{ accepted: true }>) => void;
  'secagg:shares': (message: SecAggMessage, ack: Ack<{ accepted: true }>) => void;
  'secagg:masked': (message: SecAggMasked, ack: Ack<UpdateReceipt>) => void;
  'secagg:reveal': (message: SecAggMessage, ack: Ack<{ accepted: true }>) => void;
}

/** Events the hub sends to training clients. */
export interface HubToClientEvents {
  'round:model': (model: RoundModel) => void;
  'round:start': (start: RoundStart) => void;
  'round:cancel': (cancel: RoundCancel) => void;
  'model:evaluate': (request: ModelEvaluate) => void;
  /** The public keys of the client's neighbours that are still in the round. */
  'secagg:keyset': (message: SecAggMessage) => void;
  /** The encrypted shares other clients made for this one (the hub only relays ciphertext). */
  'secagg:shares-in': (message: SecAggMessage) => void;
  /** Who sent a masked input and who dropped: reveal the matching shares. */
  'secagg:unmask': (message: SecAggMessage) => void;
}

/** Events the hub pushes to dashboards. */
export interface HubToDashboardEvents {
  'hub:status': (status: HubStatus) => void;
  'run:update': (run: RunDetail) => void;
}

export type DashboardToHubEvents = Record<string, never>;

/** Per-socket data the hub keeps for a training client. */
export interface ClientSocketData {
  clientId?: string;
}

export const joinRequestChecker = checker(JoinRequest);
export const dataChangeChecker = checker(DataChange);
export const roundProgressChecker = checker(RoundProgress);
export const updateSubmitChecker = checker(UpdateSubmit);
export const roundStartChecker = checker(RoundStart);
export const roundModelChecker = checker(RoundModel);
export const roundCancelChecker = checker(RoundCancel);
export const modelEvaluateChecker = checker(ModelEvaluate);
export const evalSubmitChecker = checker(EvalSubmit);
export const secAggMessageChecker = checker(SecAggMessage);
export const secAggMaskedChecker = checker(SecAggMasked);
export { TaskSchema };
