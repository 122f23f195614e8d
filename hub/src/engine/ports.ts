import type { FlatWeights, HubToClientEvents, TaskId } from '@fl/shared';
import type { RunStore } from '../store/store-port';

/** Sends hub events to one training client. */
export interface Transport {
  send<E extends keyof HubToClientEvents>(clientId: string, event: E, ...args: Parameters<HubToClientEvents[E]>): void;
  /** One message to many clients, encoded once (the round's model). */
  broadcast<E extends keyof HubToClientEvents>(clientIds: readonly string[], event: E, ...args: Parameters<HubToClientEvents[E]>): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A port's answer now (an in-memory or synchronous SQLite store) or later (PostgreSQL). */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * What the round engine keeps: the part of the RunStore it uses (SQLite or PostgreSQL), with the same arguments and
 * answers, now or later, so tests can pass a synchronous fake. The engine awaits every answer and issues its writes
 * one at a time, in the order it decided them.
 */
export type EngineStore = {
  [K in EngineStoreMethod]: (...args: Parameters<RunStore[K]>) => Awaitable<Awaited<ReturnType<RunStore[K]>>>;
};

type EngineStoreMethod =
  | 'createRun'
  | 'completeRound'
  | 'failRound'
  | 'finishRun'
  | 'setRoundEvaluation'
  | 'failRoundEvaluation'
  | 'pendingEvaluations'
  | 'setClientTest'
  | 'setShardOwners'
  | 'shardOwners'
  | 'latestCheckpoint'
  | 'checkpoint'
  | 'runsWithStatus'
  | 'run';

/** The hub's models: shapes, fresh weights and the held-out evaluation (ModelService in production). */
export interface Evaluator {
  shapes(task: TaskId): number[][];
  /** A new model's weights; with `seed` (a run's), the same on every hub. */
  freshWeights(task: TaskId, seed?: number): FlatWeights;
  /** Held-out accuracy and loss; null for tasks only the clients can score. */
  evaluate(task: TaskId, weights: FlatWeights): Promise<{ accuracy: number; loss: number } | null>;
  /** Whether `evaluate` scores this task (the hub holds its test data). */
  evaluates(task: TaskId): boolean;
}
