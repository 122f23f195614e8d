import type { EvalMetrics, FlatWeights, HubToClientEvents, RunDetail, RunSettings, RunStatus, TaskId } from '@fl/shared';
import type { Checkpoint, CompletedRound, PendingEvaluation, RoundCheckpoint } from '../store/store';

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

/** What the round engine keeps: the part of HubStore it uses, so tests can pass a fake. */
export interface EngineStore {
  createRun(id: string, settings: RunSettings, at: number, initial: FlatWeights): Checkpoint;
  completeRound(round: CompletedRound): Checkpoint;
  failRound(runId: string, round: number, reason: string, durationMs: number, at: number): void;
  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, reason: string | null, at: number): void;
  setRoundEvaluation(runId: string, round: number, accuracy: number, loss: number): void;
  failRoundEvaluation(runId: string, round: number): void;
  pendingEvaluations(): PendingEvaluation[];
  setClientTest(runId: string, round: number, metrics: EvalMetrics): void;
  setShardOwners(runId: string, owners: string[]): void;
  shardOwners(runId: string): string[] | null;
  latestCheckpoint(task: TaskId): Checkpoint | null;
  /** With the server optimiser's state stored beside it (completeRound's `optimizerState`). */
  checkpoint(runId: string, round: number): RoundCheckpoint | null;
  runsWithStatus(status: RunStatus): string[];
  run(id: string): RunDetail | null;
}

/** The hub's models: shapes, fresh weights and the held-out evaluation (ModelService in production). */
export interface Evaluator {
  shapes(task: TaskId): number[][];
  freshWeights(task: TaskId): FlatWeights;
  /** Held-out accuracy and loss; null for tasks only the clients can score. */
  evaluate(task: TaskId, weights: FlatWeights): Promise<{ accuracy: number; loss: number } | null>;
  /** Whether `evaluate` scores this task (the hub holds its test data). */
  evaluates(task: TaskId): boolean;
}
