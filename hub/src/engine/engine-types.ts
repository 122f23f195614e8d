import type { Map as PersistentMap } from 'immutable';
import type { PrivacyStep } from '@fl/shared/privacy/index';
import type {
  BackendInfo,
  ClientData,
  ClientKind,
  ClientProgress,
  ClientState,
  EvalMetrics,
  RunSettings,
} from '@fl/shared';

/** A client as the round engine knows it. */
export interface ClientEntry {
  id: string;
  name: string;
  kind: ClientKind;
  data: ClientData | null;
  backend: BackendInfo;
  connected: boolean;
  state: ClientState;
  progress: ClientProgress | null;
  /** Chest-xray: images held; MNIST: the shard size of the current or last run. */
  samples: number;
  joinedAt: number;
  lastSeen: number;
  lastMetrics: { loss: number; accuracy: number; test?: EvalMetrics } | null;
}

/** 'evaluating': after the last round, the participants score the final model on their own test data. */
export type RunPhase = 'waiting' | 'training' | 'aggregating' | 'evaluating';

export interface RunState {
  id: string;
  settings: RunSettings;
  startedAt: number;
  /** The round in progress (1-based). */
  round: number;
  phase: RunPhase;
  /** Waiting: when to give up on enough clients arriving; training: when the round closes. */
  deadline: number;
  roundStartedAt: number;
  participants: string[];
  /** Eligible clients when the round started: the population its participants were drawn from (sampling rate = participants / population). */
  population: number;
  /** Differential privacy: what each committed round of the run spent, for the accountant (README, "Differential privacy"). */
  privacySpent: PrivacyStep[];
  /** Accepted updates of the current round: client id -> samples (a persistent map: one update costs O(log n), not a copy). */
  submitted: PersistentMap<string, number>;
  /** Participants that left during the round. */
  dropped: string[];
  /** MNIST: the clients that hold a shard of the 8,000 digits, in shard order; reassigned when the participants change. */
  shardOwners: string[] | null;
  /** Attempt of the current round (a round that fails is tried once more). */
  attempt: number;
  /** Why the attempt before this one failed, so a round that fails twice says both. */
  previousFailure?: string;
}

/**
 * The engine's state. The client table is a persistent map (immutable-js): a join, a progress report or an update
 * makes a new state that shares all but O(log n) of the table with the old one, so the reducer stays a pure function
 * and a hub of 10,000 clients does not copy 10,000 entries per event (README, "Sizing").
 */
export interface EngineState {
  clients: PersistentMap<string, ClientEntry>;
  run: RunState | null;
}

export type EngineEvent =
  | {
      type: 'client-joined';
      at: number;
      client: Pick<ClientEntry, 'id' | 'name' | 'kind' | 'data' | 'backend'>;
    }
  | { type: 'client-data'; at: number; clientId: string; data: ClientData | null; backend?: BackendInfo }
  | { type: 'client-left'; at: number; clientId: string }
  | { type: 'client-progress'; at: number; clientId: string; progress: ClientProgress }
  | { type: 'run-launched'; at: number; runId: string; settings: RunSettings }
  /** A run that was active when the hub stopped, continued from its last completed round. */
  | {
      type: 'run-resumed';
      at: number;
      runId: string;
      settings: RunSettings;
      round: number;
      startedAt: number;
      shardOwners: string[] | null;
      /** Differential privacy: what the committed rounds spent, so the resumed run keeps its budget. */
      privacySpent: PrivacyStep[];
    }
  | { type: 'shards-assigned'; at: number; runId: string; sizes: Record<string, number> }
  | {
      type: 'update-accepted';
      at: number;
      clientId: string;
      runId: string;
      round: number;
      samples: number;
      metrics: { loss: number; accuracy: number };
    }
  /** A client's score of the model after `round` (the one before the current round, or the final one). */
  | { type: 'evaluation-accepted'; at: number; clientId: string; runId: string; round: number; metrics: EvalMetrics }
  /** Accepted updates that were held on a hub node that is gone (README, "Several hub nodes"): their clients must send them again. */
  | { type: 'updates-lost'; at: number; runId: string; round: number; clients: string[] }
  | { type: 'timer'; at: number; runId: string; round: number; phase: RunPhase }
  /** `privacy`: what the round spent under differential privacy (its sampling rate and the noise that was actually added). */
  | { type: 'round-completed'; at: number; runId: string; round: number; privacy?: PrivacyStep }
  /** `retry`: a failure of the clients (secure aggregation could not be unmasked), tried again like a round that timed out. */
  | { type: 'round-aborted'; at: number; runId: string; round: number; reason: string; retry?: boolean }
  /** A participant left out of the rest of the round (it missed a secure-aggregation stage). */
  | { type: 'client-excluded'; at: number; runId: string; round: number; clientId: string }
  | { type: 'stop'; at: number; runId: string };

export type Effect =
  | {
      type: 'start-round';
      runId: string;
      round: number;
      participants: string[];
      /** Eligible clients the participants were drawn from. */
      population: number;
      deadline: number;
      /** Set when shards must be assigned to these clients (first round of an MNIST run). */
      assignShards: string[] | null;
    }
  | { type: 'cancel-round'; runId: string; round: number; clients: string[]; reason: string }
  /** A participant that reconnected within its round gets the round again. */
  | { type: 'resend-round'; runId: string; round: number; clientId: string; deadline: number }
  | { type: 'round-retry'; runId: string; round: number; attempt: number; reason: string }
  | { type: 'set-timer'; runId: string; round: number; phase: RunPhase; at: number }
  | { type: 'aggregate'; runId: string; round: number; contributors: string[]; roundStartedAt: number }
  | { type: 'round-failed'; runId: string; round: number; reason: string; roundStartedAt: number }
  | { type: 'run-finished'; runId: string; status: 'completed' | 'failed' | 'stopped'; reason: string | null }
  /** Ask these clients to score the final model (the run's last round) on their own test data. */
  | { type: 'request-evaluation'; runId: string; round: number; clients: string[] }
  | { type: 'status-changed' };

export interface Transition {
  state: EngineState;
  effects: Effect[];
}
