import Type, { type Static } from 'typebox';
import { Binary, checker } from './validation';
import { RunSettings, TaskSchema } from './settings';
import type { Ack } from './errors';
import type { HubStatus, RunDetail } from './api';

/** Socket.IO namespace of training clients (browser tabs and headless clients). */
export const CLIENT_NAMESPACE = '/clients';
/** Socket.IO namespace of dashboards: live status, read-only. */
export const DASHBOARD_NAMESPACE = '/dashboard';

export const BackendName = Type.Union([Type.Literal('webgl'), Type.Literal('wasm'), Type.Literal('cpu')]);
export type BackendName = Static<typeof BackendName>;

/** Which TF.js backend a client trains on, and on what hardware. */
export const BackendInfo = Type.Object({
  name: BackendName,
  renderer: Type.Optional(Type.String({ maxLength: 300 })),
  /** True when WebGL runs on a software rasteriser (SwiftShader, llvmpipe). */
  software: Type.Optional(Type.Boolean()),
  /** Why this backend was chosen, in words. */
  reason: Type.Optional(Type.String({ maxLength: 300 })),
});
export type BackendInfo = Static<typeof BackendInfo>;

const Count = Type.Integer({ minimum: 0, maximum: 10_000_000 });
export const ClassCounts = Type.Object({ normal: Count, pneumonia: Count });
export type ClassCounts = Static<typeof ClassCounts>;

/** What data a client holds. MNIST clients hold the hub's digits; their shard is assigned per run. */
export const ClientData = Type.Union([
  Type.Object({ task: Type.Literal('mnist') }),
  Type.Object({
    task: Type.Literal('chest-xray'),
    imageSize: Type.Integer({ minimum: 16, maximum: 512 }),
    train: ClassCounts,
    test: ClassCounts,
  }),
]);
export type ClientData = Static<typeof ClientData>;

export const ClientKind = Type.Union([Type.Literal('browser'), Type.Literal('headless')]);
export type ClientKind = Static<typeof ClientKind>;

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

/** Metrics of a model on a client's own held-out split (chest-xray: its test/ folder). */
export const EvalMetrics = Type.Object({
  samples: Count,
  accuracy: Type.Number({ minimum: 0, maximum: 1 }),
  loss: Type.Optional(Type.Number()),
  sensitivity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  specificity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  auc: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});
export type EvalMetrics = Static<typeof EvalMetrics>;

export const LocalMetrics = Type.Object({
  loss: Type.Number(),
  accuracy: Type.Number({ minimum: 0, maximum: 1 }),
  trainMs: Type.Number({ minimum: 0 }),
  /** The received global model scored on the client's test split before training. */
  test: Type.Optional(EvalMetrics),
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
  /** The global model as a weight frame (weight-codec). */
  weights: Binary,
  /** MNIST: the client's shard as little-endian uint16 indices into the training sprite. */
  shard: Type.Optional(Binary),
  /** Epoch milliseconds after which the hub closes the round. */
  deadline: Type.Number(),
  /** Seed for the client's batch order, so runs can be repeated. */
  seed: Type.Integer(),
});
export type RoundStart = Static<typeof RoundStart>;

export const RoundCancel = Type.Object({ ...RunRef, reason: Type.String() });
export type RoundCancel = Static<typeof RoundCancel>;

/** Events a training client sends; each request is answered through its acknowledgement. */
export interface ClientToHubEvents {
  'client:join': (request: JoinRequest, ack: Ack<JoinReply>) => void;
  'client:data': (change: DataChange, ack: Ack<{ ok: true }>) => void;
  'round:progress': (progress: RoundProgress, ack: Ack<{ ok: true }>) => void;
  'update:submit': (update: UpdateSubmit, ack: Ack<UpdateReceipt>) => void;
}

/** Events the hub sends to training clients. */
export interface HubToClientEvents {
  'round:start': (start: RoundStart) => void;
  'round:cancel': (cancel: RoundCancel) => void;
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
export const roundCancelChecker = checker(RoundCancel);
export { TaskSchema };
