import Type, { type Static } from 'typebox';
import type { TaskId } from './tasks';
import { checker } from './validation';

export const Partition = Type.Union([Type.Literal('iid'), Type.Literal('by-label')]);
export const Init = Type.Union([Type.Literal('continue'), Type.Literal('fresh')]);
export const Optimizer = Type.Union([Type.Literal('adam'), Type.Literal('sgd')]);
export const TaskSchema = Type.Union([Type.Literal('mnist'), Type.Literal('chest-xray')]);

/** Bounds shared by the launch form, the HTTP body schema and the socket contract. */
export const SETTING_LIMITS = {
  rounds: { minimum: 1, maximum: 1000 },
  epochs: { minimum: 1, maximum: 100 },
  batchSize: { minimum: 1, maximum: 1024 },
  learningRate: { exclusiveMinimum: 0, maximum: 10 },
  minClients: { minimum: 1, maximum: 10_000 },
  roundTimeoutSec: { minimum: 5, maximum: 86_400 },
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
});
export type RunSettings = Static<typeof RunSettings>;

/** Defaults measured to train well with a few clients (see README, "Run settings"). */
export const TASK_DEFAULTS: Record<TaskId, Omit<RunSettings, 'task' | 'rounds'>> = {
  mnist: {
    epochs: 1,
    batchSize: 32,
    learningRate: 0.002,
    minClients: 1,
    roundTimeoutSec: 300,
    partition: 'iid',
    init: 'continue',
    optimizer: 'adam',
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
  },
};

export const launchRequestChecker = checker(LaunchRequest);
export const runSettingsChecker = checker(RunSettings);

/** Fills omitted settings with the task's defaults. */
export function resolveSettings(request: LaunchRequest): RunSettings {
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
  };
}
