import Type, { type Static } from 'typebox';
import type { TaskId } from './tasks';
import { checker } from './validation';

export const Partition = Type.Union([Type.Literal('iid'), Type.Literal('by-label'), Type.Literal('dirichlet')]);
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
/** How the hub turns the round's combined model into the next global model (README, "Server optimisers"). */
export const ServerOptimizerName = Type.Union([
  Type.Literal('fedavg'),
  Type.Literal('fedavgm'),
  Type.Literal('fedadam'),
  Type.Literal('fedyogi'),
  Type.Literal('fedadagrad'),
]);
export type ServerOptimizerName = Static<typeof ServerOptimizerName>;

/** Differential privacy: who adds the Gaussian noise to the round's sum (README, "Differential privacy"). */
export const DpNoise = Type.Union([Type.Literal('central'), Type.Literal('distributed')]);
export type DpNoise = Static<typeof DpNoise>;

/** Bounds shared by the launch form, the HTTP body schema and the socket contract. */
export const SETTING_LIMITS = {
  rounds: { minimum: 1, maximum: 1000 },
  epochs: { minimum: 1, maximum: 100 },
  minLocalSteps: { minimum: 0, maximum: 100_000 },
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
  clientsPerRound: { minimum: 1, maximum: 100_000 },
  noiseMultiplier: { exclusiveMinimum: 0, maximum: 1000 },
  dpClipNorm: { exclusiveMinimum: 0, maximum: 1e6 },
  delta: { exclusiveMinimum: 0, exclusiveMaximum: 1 },
  targetEpsilon: { exclusiveMinimum: 0, maximum: 1e6 },
  dirichletAlpha: { exclusiveMinimum: 0, maximum: 1000 },
  proximalMu: { minimum: 0, maximum: 100 },
  serverLearningRate: { exclusiveMinimum: 0, maximum: 100 },
  momentum: { minimum: 0, exclusiveMaximum: 1 },
  beta: { minimum: 0, exclusiveMaximum: 1 },
  tau: { exclusiveMinimum: 0, maximum: 10 },
} as const;

/** A launch's server optimiser: the name, and any of its hyperparameters to override. */
export const ServerOptimizerRequest = Type.Object(
  {
    name: ServerOptimizerName,
    learningRate: Type.Optional(Type.Number(SETTING_LIMITS.serverLearningRate)),
    momentum: Type.Optional(Type.Number(SETTING_LIMITS.momentum)),
    beta1: Type.Optional(Type.Number(SETTING_LIMITS.beta)),
    beta2: Type.Optional(Type.Number(SETTING_LIMITS.beta)),
    tau: Type.Optional(Type.Number(SETTING_LIMITS.tau)),
  },
  { additionalProperties: false },
);
export type ServerOptimizerRequest = Static<typeof ServerOptimizerRequest>;

export const ServerOptimizerSettings = Type.Object({
  name: ServerOptimizerName,
  learningRate: Type.Number(SETTING_LIMITS.serverLearningRate),
  /** fedavgm: heavy-ball momentum of the pseudo-gradient. */
  momentum: Type.Number(SETTING_LIMITS.momentum),
  /** fedadam / fedyogi / fedadagrad: first-moment decay (fedadagrad's default 0 is plain Adagrad on the pseudo-gradient). */
  beta1: Type.Number(SETTING_LIMITS.beta),
  beta2: Type.Number(SETTING_LIMITS.beta),
  /** Adaptivity: added to sqrt(v) in the denominator. */
  tau: Type.Number(SETTING_LIMITS.tau),
});
export type ServerOptimizerSettings = Static<typeof ServerOptimizerSettings>;

/**
 * Each optimiser's defaults, measured on MNIST with 4 clients training SGD at 0.2 (README, "Server optimisers and uneven data";
 * hub/src/bench/optimizer-study.ts): fedavgm's momentum 0.5 beat 0.9 on IID and by-label shards; the adaptive ones at
 * lr 0.03 beat 0.01 (too slow in 10-20 rounds) and matched 0.1 with smoother curves.
 */
export const SERVER_OPTIMIZER_DEFAULTS: Record<ServerOptimizerName, ServerOptimizerSettings> = {
  fedavg: { name: 'fedavg', learningRate: 1, momentum: 0, beta1: 0, beta2: 0, tau: 1e-3 },
  fedavgm: { name: 'fedavgm', learningRate: 1, momentum: 0.5, beta1: 0, beta2: 0, tau: 1e-3 },
  fedadam: { name: 'fedadam', learningRate: 0.03, momentum: 0, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
  fedyogi: { name: 'fedyogi', learningRate: 0.03, momentum: 0, beta1: 0.9, beta2: 0.99, tau: 1e-3 },
  fedadagrad: { name: 'fedadagrad', learningRate: 0.03, momentum: 0, beta1: 0, beta2: 0, tau: 1e-3 },
};

/** A request's server optimiser with its omitted hyperparameters at that optimiser's defaults. */
export function resolveServerOptimizer(request: ServerOptimizerRequest | undefined, fallback: ServerOptimizerSettings): ServerOptimizerSettings {
  if (!request) return fallback;
  const defaults = SERVER_OPTIMIZER_DEFAULTS[request.name];
  return {
    name: request.name,
    learningRate: request.learningRate ?? defaults.learningRate,
    momentum: request.momentum ?? defaults.momentum,
    beta1: request.beta1 ?? defaults.beta1,
    beta2: request.beta2 ?? defaults.beta2,
    tau: request.tau ?? defaults.tau,
  };
}

/** User-level DP-FedAvg as a launch states it: each client's change clipped to `clipNorm`, the sum noised with std `noiseMultiplier * clipNorm`. */
export const DpRequest = Type.Object(
  {
    noiseMultiplier: Type.Number(SETTING_LIMITS.noiseMultiplier),
    clipNorm: Type.Number(SETTING_LIMITS.dpClipNorm),
    delta: Type.Number(SETTING_LIMITS.delta),
    /** The run ends before a round that would spend more than this epsilon. */
    targetEpsilon: Type.Optional(Type.Number(SETTING_LIMITS.targetEpsilon)),
    /** 'central' (default): the hub adds the noise; 'distributed': each client adds its share (needs secure aggregation). */
    noise: Type.Optional(DpNoise),
  },
  { additionalProperties: false },
);
export type DpRequest = Static<typeof DpRequest>;

export const DpSettings = Type.Object({
  noiseMultiplier: Type.Number(SETTING_LIMITS.noiseMultiplier),
  clipNorm: Type.Number(SETTING_LIMITS.dpClipNorm),
  delta: Type.Number(SETTING_LIMITS.delta),
  targetEpsilon: Type.Union([Type.Number(SETTING_LIMITS.targetEpsilon), Type.Null()]),
  noise: DpNoise,
});
export type DpSettings = Static<typeof DpSettings>;

/** What a launch may say; every omitted setting takes the task's default. */
export const LaunchRequest = Type.Object(
  {
    task: TaskSchema,
    rounds: Type.Integer(SETTING_LIMITS.rounds),
    epochs: Type.Optional(Type.Integer(SETTING_LIMITS.epochs)),
    /** Each client adds whole epochs until it takes at least this many batches a round, so a small folder still learns (0: `epochs` only). */
    minLocalSteps: Type.Optional(Type.Integer(SETTING_LIMITS.minLocalSteps)),
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
    /** Each round draws this many of the eligible clients (seeded); the rest wait. Omitted: every eligible client. */
    clientsPerRound: Type.Optional(Type.Integer(SETTING_LIMITS.clientsPerRound)),
    /** User-level differential privacy with an accountant (README, "Differential privacy"). */
    dp: Type.Optional(DpRequest),
    /** partition "dirichlet": label skew; smaller is more uneven (0.1 nearly one digit per client, 100 nearly IID). */
    dirichletAlpha: Type.Optional(Type.Number(SETTING_LIMITS.dirichletAlpha)),
    /** FedProx: each client's local loss gains (mu / 2) * ||w - w_global||^2. 0: plain local training. */
    proximalMu: Type.Optional(Type.Number(SETTING_LIMITS.proximalMu)),
    serverOptimizer: Type.Optional(ServerOptimizerRequest),
  },
  { additionalProperties: false },
);
export type LaunchRequest = Static<typeof LaunchRequest>;

/** The complete settings of a run, as stored and as sent to clients. */
export const RunSettings = Type.Object({
  task: TaskSchema,
  rounds: Type.Integer(SETTING_LIMITS.rounds),
  epochs: Type.Integer(SETTING_LIMITS.epochs),
  /** Omitted: `epochs` only (see `localEpochs`). */
  minLocalSteps: Type.Optional(Type.Integer(SETTING_LIMITS.minLocalSteps)),
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
  clientsPerRound: Type.Union([Type.Integer(SETTING_LIMITS.clientsPerRound), Type.Null()]),
  dp: Type.Union([DpSettings, Type.Null()]),
  dirichletAlpha: Type.Number(SETTING_LIMITS.dirichletAlpha),
  proximalMu: Type.Number(SETTING_LIMITS.proximalMu),
  serverOptimizer: ServerOptimizerSettings,
});
export type RunSettings = Static<typeof RunSettings>;

/** Defaults measured to train well with a few clients (see README, "Run settings"). */
const AGGREGATION_DEFAULTS = { strategy: 'fedavg', trimFraction: 0.2, byzantine: 1, clipNorm: null, compression: 'float32', maxClientShare: 0.5, secureAggregation: false, secAggClip: 1, clientsPerRound: null, dp: null, dirichletAlpha: 0.5, proximalMu: 0 } as const;

export const TASK_DEFAULTS: Record<TaskId, Omit<RunSettings, 'task' | 'rounds' | 'seed'>> = {
  // Plain SGD, which has no state to lose between rounds (Adam's restarted every round and drifted on uneven shards), and
  // server momentum: measured in hub/src/bench/optimizer-study.ts (README, "Server optimisers and uneven data").
  mnist: {
    epochs: 1,
    batchSize: 32,
    learningRate: 0.2,
    minClients: 1,
    roundTimeoutSec: 300,
    partition: 'iid',
    init: 'continue',
    optimizer: 'sgd',
    ...AGGREGATION_DEFAULTS,
    serverOptimizer: SERVER_OPTIMIZER_DEFAULTS.fedavgm,
  },
  // Measured with two tabs from a fresh model on the e2e fixture (hub/src/bench/chest-study.ts, README "Run settings").
  'chest-xray': {
    epochs: 2,
    minLocalSteps: 60,
    batchSize: 8,
    learningRate: 0.002,
    minClients: 1,
    roundTimeoutSec: 900,
    partition: 'iid',
    init: 'continue',
    optimizer: 'adam',
    ...AGGREGATION_DEFAULTS,
    serverOptimizer: SERVER_OPTIMIZER_DEFAULTS.fedavg,
  },
};

export const launchRequestChecker = checker(LaunchRequest);
export const runSettingsChecker = checker(RunSettings);

/** Fills omitted settings with the task's defaults; `randomSeed` is the seed of a launch that names none. */
export function resolveSettings(request: LaunchRequest, randomSeed = 0): RunSettings {
  const defaults = TASK_DEFAULTS[request.task];
  const minLocalSteps = request.minLocalSteps ?? defaults.minLocalSteps;
  return {
    task: request.task,
    rounds: request.rounds,
    epochs: request.epochs ?? defaults.epochs,
    ...(minLocalSteps === undefined ? {} : { minLocalSteps }),
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
    clientsPerRound: request.clientsPerRound ?? defaults.clientsPerRound,
    dp: request.dp
      ? { noiseMultiplier: request.dp.noiseMultiplier, clipNorm: request.dp.clipNorm, delta: request.dp.delta, targetEpsilon: request.dp.targetEpsilon ?? null, noise: request.dp.noise ?? 'central' }
      : defaults.dp,
    dirichletAlpha: request.dirichletAlpha ?? defaults.dirichletAlpha,
    proximalMu: request.proximalMu ?? defaults.proximalMu,
    serverOptimizer: resolveServerOptimizer(request.serverOptimizer, defaults.serverOptimizer),
  };
}

/** The epochs a client trains this round on `samples` examples: `epochs`, or more whole epochs to reach `minLocalSteps` batches. */
export function localEpochs(settings: Pick<RunSettings, 'epochs' | 'batchSize' | 'minLocalSteps'>, samples: number): number {
  const perEpoch = Math.ceil(samples / settings.batchSize);
  const minSteps = settings.minLocalSteps ?? 0;
  return perEpoch === 0 ? settings.epochs : Math.max(settings.epochs, Math.ceil(minSteps / perEpoch));
}

/** Secure aggregation: the fewest clients a round may have, so that no client's update is the sum minus one other's. */
export const SECURE_MIN_CLIENTS = 3;

/**
 * Settings that cannot go together, in words (the launch form and the hub's 400 say the same), or null.
 * Secure aggregation gives the hub only the sum of the round's updates, so nothing that needs each update.
 */
export function settingsConflict(settings: RunSettings): string | null {
  if (settings.clientsPerRound !== null && settings.clientsPerRound < settings.minClients) {
    return `clientsPerRound (${settings.clientsPerRound}) is below minClients (${settings.minClients}): no round could ever close; raise clientsPerRound or lower minClients`;
  }
  const dp = dpConflict(settings);
  if (dp) return dp;
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

/** Differential privacy bounds each client's influence on a uniform mean: nothing that weighs or picks single updates. */
function dpConflict(settings: RunSettings): string | null {
  const { dp } = settings;
  if (!dp) return null;
  if (settings.strategy !== 'fedavg') {
    return `differential privacy clips and noises the sum of the updates; strategy "${settings.strategy}" uses each update on its own, which the accountant cannot bound: use "fedavg"`;
  }
  if (settings.clipNorm !== null) {
    return 'with differential privacy, dp.clipNorm bounds every change: leave the top-level clipNorm out';
  }
  if (dp.noise === 'distributed' && !settings.secureAggregation) {
    return 'distributed noise leaves each update with only a share of the noise, so the hub must see only the sum: set secureAggregation to true, or use dp.noise "central"';
  }
  return null;
}
