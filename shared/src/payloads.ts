import Type, { type Static } from 'typebox';

// Leaf payload schemas, used by the socket contract and the HTTP views alike (no imports back).

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
