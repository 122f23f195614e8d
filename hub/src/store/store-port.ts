import type { EvalMetrics, FlatWeights, ParticipationRecord, RunDetail, RunSettings, RunStatus, TaskId } from '@fl/shared';
import type { Claim } from './client-identities';
import type { Checkpoint, CompletedRound, HubStore, PendingEvaluation, RoundCheckpoint } from './store';

/** Per task: where its newest trained model came from (GET /api/models). */
export type ModelSummary = ReturnType<HubStore['modelSummaries']>[number];

/**
 * Everything the hub must not lose (runs, rounds, checkpoints, participation, evaluation state, shard
 * owners, client identities), behind one asynchronous interface: SQLite and PostgreSQL implement it
 * with the same semantics, and a failed write rejects with nothing of it stored.
 */
export interface RunStore {
  /** The run, running, with its round-0 checkpoint; a second run with the same id rejects. */
  createRun(id: string, settings: RunSettings, at: number, initial: FlatWeights): Promise<Checkpoint>;
  /** Round, participants, checkpoint and optimiser state in one transaction; checkpoints beyond the last K go. */
  completeRound(round: CompletedRound): Promise<Checkpoint>;
  failRound(runId: string, round: number, reason: string, durationMs: number, at: number): Promise<void>;
  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, reason: string | null, at: number): Promise<void>;
  setRoundEvaluation(runId: string, round: number, accuracy: number, loss: number): Promise<void>;
  failRoundEvaluation(runId: string, round: number): Promise<void>;
  /** Committed rounds whose evaluation was never stored, oldest run first, then by round. */
  pendingEvaluations(): Promise<PendingEvaluation[]>;
  /** Round 0: the run's initial test; round r: that round's accuracy and loss. */
  setClientTest(runId: string, round: number, metrics: EvalMetrics): Promise<void>;
  setShardOwners(runId: string, owners: string[]): Promise<void>;
  shardOwners(runId: string): Promise<string[] | null>;
  /** The newest checkpoint of a task from a completed round (round > 0), any run, without optimiser state. */
  latestCheckpoint(task: TaskId): Promise<Checkpoint | null>;
  modelSummaries(): Promise<ModelSummary[]>;
  checkpoint(runId: string, round: number): Promise<RoundCheckpoint | null>;
  runsWithStatus(status: RunStatus): Promise<string[]>;
  run(id: string): Promise<RunDetail | null>;
  /** Newest first; equal creation times newest insert first. */
  runs(limit?: number): Promise<RunDetail[]>;
  participation(runId: string, round: number): Promise<ParticipationRecord[]>;
  /** Reclaims a client id with its secret, or issues a fresh id and secret (ClientIdentities' semantics). */
  claimIdentity(clientId: string | undefined, secret: string | undefined): Promise<Claim>;
  close(): Promise<void>;
}

/** How a store names new client ids and tells the time for identities (tests pass counters and fixed clocks). */
export interface IdentityOptions {
  newId: () => string;
  now?: () => number;
}
