import Type, { type Static } from 'typebox';
import type { TaskId } from './tasks';
import { checker } from './validation';

export const Partition = Type.Union([Type.Literal('iid'), Type.Literal('by-label')]);
export const Init = Type.Union([Type.Literal('continue'), Type.Literal('fresh')]);
export const Optimizer = Type.Union([Type.Literal('adam'), Type.Literal('sgd')]);
export const TaskSchema = Type.Union([Type.Literal('mnist'), Type.Literal('chest-xray')]);
/** How the hub combines the round's updates (README, "Robust aggregation"). */
export const Strategy = Type.Union([
  Type.Literal('fedavg'),
  Type.Literal('median'),
  Type.Literal('trimmed-mean'),
  Type.Literal('krum'),
  Type.Literal('multi-krum'),
]);
export type Strategy = Static<typeof Strategy>;
/** Wire format of client updates (sent as deltas when lossy); the global model goes down as float16 when lossy. */
export const Compression = Type.Union([Type.Literal('float32'), Type.Literal('float16'), Type.Literal('int8')]);
export type Compression = Static<typeof Compression>;

/** Bounds shared by the launch form, the HTTP body schema and the socket contract. */
export const SETTING_LIMITS = {
  rounds: { minimum: 1, maximum: 1000 },
  epochs: { minimum: 1, maximum: 100 },
  batchSize: { minimum: 1, maximum: 1024 },
  learningRate: { exclusiveMinimum: 0, maximum: 10 },
  minClients: { minimum: 1, maximum: 10_000 },
  roundTimeoutSec: { minimum: 5, maximum: 86_400 },
  trimFraction: { minimum: 0, maximum: 0.45 },
  byzantine: { minimum: 0, maximum: 1000 },
  clipNorm: { exclusiveMinimum: 0, maximum: 1e6 },
  seed: { minimum: 0, maximum: 0x7fffffff },
  maxClientShare: { exclusiveMinimum: 0, maximum: 1 },
  secAggClip: { exclusiveMinimum: 0, maximum: 100 },
} as const;

/** What a launch may say; every omitted setting takes the task's default. */
export const LaunchRequest = Type.Object(
  {
    task: TaskSchema,
    rounds: Type.Integer(SETTING_LIMITS.rounds),
    epochs: Type.Optional(Type.Integer(SETTING_LIMITS.epochs)),
    batchSize: Type.Optional(Type.Integer(SETTING_LIMITS.batchSize)),
    learningRate: Type.Optional(Type.Number(SETTING_LIMITS.learningRate)),
    minClients: Type.Optional(Type.Integer(SETTING_LIMITS.minClients)),
    roundTimeoutSec: Type.Optional(Type.Integer(SETTING_LIMITS.roundTimeoutSec)),
    partition: Type.Optional(Partition),
    init: Type.Optional(Init),
    optimizer: Type.Optional(Optimizer),
    strategy: Type.Optional(Strategy),
    /** trimmed-mean: share of the largest and of the smallest values dropped per coordinate. */
    trimFraction: Type.Optional(Type.Number(SETTING_LIMITS.trimFraction)),
    /** krum / multi-krum: how many updates may be hostile (f). */
    byzantine: Type.Optional(Type.Integer(SETTING_LIMITS.byzantine)),
    /** Clip each update's change from the global model to this L2 norm; omitted: no clipping. */
    clipNorm: Type.Optional(Type.Number(SETTING_LIMITS.clipNorm)),
    compression: Type.Optional(Compression),
    /** Seeds the MNIST partition and every client's batch order: the same seed and join order repeat a run. Omitted: random. */
    seed: Type.Optional(Type.Integer(SETTING_LIMITS.seed)),
    /** The largest share of a round's FedAvg weight one client may carry, however many samples it declares (README, "Run settings"). */
    maxClientShare: Type.Optional(Type.Number(SETTING_LIMITS.maxClientShare)),
    /** The hub sees only the sum of the round's updates (README, "Secure aggregation"). */
    secureAggregation: Type.Optional(Type.Boolean()),
    /** Secure aggregation: each coordinate of a client's change is clipped to [-secAggClip, secAggClip] before fixed point. */
    secAggClip: Type.Optional(Type.Number(SETTING_LIMITS.secAggClip)),
  },
  { additionalProperties: false },
);
export type LaunchRequest = Static<typeof LaunchRequest>;

/** The complete settings of a run, as stored and as sent to clients. */
export const RunSettings = Type.Object({
  task: TaskSchema,
  rounds: Type.Integer(SETTING_LIMITS.rounds),
  epochs: Type.Integer(SETTING_LIMITS.epochs),
  batchSize: Type.Integer(SETTING_LIMITS.batchSize),
  learningRate: Type.Number(SETTING_LIMITS.learningRate),
  minClients: Type.Integer(SETTING_LIMITS.minClients),
  roundTimeoutSec: Type.Integer(SETTING_LIMITS.roundTimeoutSec),
  partition: Partition,
  init: Init,
  optimizer: Optimizer,
  strategy: Strategy,
  trimFraction: Type.Number(SETTING_LIMITS.trimFraction),
  byzantine: Type.Integer(SETTING_LIMITS.byzantine),
  clipNorm: Type.Union([Type.Number(SETTING_LIMITS.clipNorm), Type.Null()]),
  compression: Compression,
  seed: Type.Integer(SETTING_LIMITS.seed),
  maxClientShare: Type.Number(SETTING_LIMITS.maxClientShare),
  secureAggregation: Type.Boolean(),
  secAggClip: Type.Number(SETTING_LIMITS.secAggClip),
});
export type RunSettings = Static<typeof RunSettings>;

/** Defaults measured to train well with a few clients (see README, "Run settings"). */
const AGGREGATION_DEFAULTS = { strategy: 'fedavg', trimFraction: 0.2, byzantine: 1, clipNorm: null, compression: 'float32', maxClientShare: 0.5, secureAggregation: false, secAggClip: 1 } as const;

export const TASK_DEFAULTS: Record<TaskId, Omit<RunSettings, 'task' | 'rounds' | 'seed'>> = {
  mnist: {
    epochs: 1,
    batchSize: 32,
    learningRate: 0.002,
    minClients: 1,
    roundTimeoutSec: 300,
    partition: 'iid',
    init: 'continue',
    optimizer: 'adam',
    ...AGGREGATION_DEFAULTS,
  },
  'chest-xray': {
    epochs: 2,
    batchSize: 32,
    learningRate: 0.001,
    minClients: 1,
    roundTimeoutSec: 900,
    partition: 'iid',
    init: 'continue',
    optimizer: 'adam',
    ...AGGREGATION_DEFAULTS,
  },
};

export const launchRequestChecker = checker(LaunchRequest);
export const runSettingsChecker = checker(RunSettings);

/** Fills omitted settings with the task's defaults; `randomSeed` is the seed of a launch that names none. */
export function resolveSettings(request: LaunchRequest, randomSeed = 0): RunSettings {
  const defaults = TASK_DEFAULTS[request.task];
  return {
    task: request.task,
    rounds: request.rounds,
    epochs: request.epochs ?? defaults.epochs,
    batchSize: request.batchSize ?? defaults.batchSize,
    learningRate: request.learningRate ?? defaults.learningRate,
    minClients: request.minClients ?? defaults.minClients,
    roundTimeoutSec: request.roundTimeoutSec ?? defaults.roundTimeoutSec,
    partition: request.partition ?? defaults.partition,
    init: request.init ?? defaults.init,
    optimizer: request.optimizer ?? defaults.optimizer,
    strategy: request.strategy ?? defaults.strategy,
    trimFraction: request.trimFraction ?? defaults.trimFraction,
    byzantine: request.byzantine ?? defaults.byzantine,
    clipNorm: request.clipNorm ?? defaults.clipNorm,
    compression: request.compression ?? defaults.compression,
    seed: request.seed ?? randomSeed,
    maxClientShare: request.maxClientShare ?? defaults.maxClientShare,
    secureAggregation: request.secureAggregation ?? defaults.secureAggregation,
    secAggClip: request.secAggClip ?? defaults.secAggClip,
  };
}

/** Secure aggregation: the fewest clients a round may have, so that no client's update is the sum minus one other's. */
export const SECURE_MIN_CLIENTS = 3;

/**
 * Settings that cannot go together, in words (the launch form and the hub's 400 say the same), or null.
 * Secure aggregation gives the hub only the sum of the round's updates, so nothing that needs each update.
 */
export function settingsConflict(settings: RunSettings): string | null {
  if (!settings.secureAggregation) return null;
  if (settings.strategy !== 'fedavg') {
    return `secure aggregation gives the hub only the sum of the updates; strategy "${settings.strategy}" needs each update: use "fedavg"`;
  }
  if (settings.compression !== 'float32') {
    return `secure aggregation sends fixed-point masked values; compression "${settings.compression}" cannot be combined with it: use "float32"`;
  }
  if (settings.minClients < SECURE_MIN_CLIENTS) {
    return `secure aggregation needs at least ${SECURE_MIN_CLIENTS} clients per round: set minClients to ${SECURE_MIN_CLIENTS} or more`;
  }
  return null;
}
