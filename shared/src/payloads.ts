import Type, { type Static } from 'typebox';

// Leaf payload schemas, used by the socket contract and the HTTP views alike (no imports back).

export const BackendName = Type.Union([Type.Literal('webgpu'), Type.Literal('webgl'), Type.Literal('wasm'), Type.Literal('cpu')]);
export type BackendName = Static<typeof BackendName>;

const ProbeMs = Type.Number({ minimum: 0, maximum: 3_600_000 });

/** What a tab found of WebGPU: whether there is an adapter, what kind, and why WebGPU is or is not used. */
export const WebGpuReport = Type.Object({
  /** unavailable: no navigator.gpu, no adapter, or it would not start; software: SwiftShader or another fallback adapter. */
  adapter: Type.Union([Type.Literal('unavailable'), Type.Literal('software'), Type.Literal('gpu')]),
  /** The adapter's vendor, architecture and description, as it reports them. */
  description: Type.Optional(Type.String({ maxLength: 200 })),
  reason: Type.String({ maxLength: 300 }),
  /** Median ms per MNIST batch in the automatic choice's probe: WebGPU against the backend it would otherwise take. */
  probe: Type.Optional(Type.Object({ webgpu: ProbeMs, other: BackendName, otherMs: ProbeMs })),
});
export type WebGpuReport = Static<typeof WebGpuReport>;

/** Which TF.js backend a client trains on, and on what hardware. */
export const BackendInfo = Type.Object({
  name: BackendName,
  /** The WebGL renderer (WEBGL_debug_renderer_info). */
  renderer: Type.Optional(Type.String({ maxLength: 300 })),
  /** True when the GPU it runs on is software: WebGL's rasteriser, or WebGPU's adapter when it runs on webgpu (SwiftShader, llvmpipe). */
  software: Type.Optional(Type.Boolean()),
  /** Why this backend was chosen, in words. */
  reason: Type.Optional(Type.String({ maxLength: 300 })),
  /** Absent when the tab did not look (a backend other than webgpu was forced). */
  webgpu: Type.Optional(WebGpuReport),
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
