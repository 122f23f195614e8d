import { TASK_DEFAULTS, seedFromString, type EvalMetrics, type EvalState, type ParticipationRecord, type RoundPrivacy, type RoundRecord, type RunDetail, type RunSettings, type RunStatus, type TaskId } from '@fl/shared';
import type { Checkpoint } from './store';

// PostgreSQL rows and how they read back as the store's records, exactly as HubStore reads its SQLite rows.

export interface RunRow {
  id: string;
  task: TaskId;
  status: RunStatus;
  settings: string;
  created_at: number;
  ended_at: number | null;
  reason: string | null;
  initial_test: string | null;
}

export interface RoundRow {
  run_id: string;
  round: number;
  status: 'completed' | 'failed';
  clients: number;
  samples: number;
  accuracy: number | null;
  loss: number | null;
  duration_ms: number;
  client_test: string | null;
  reason: string | null;
  note: string | null;
  eval_state: EvalState | null;
  weights_sha256: string | null;
  sha256: string | null;
  privacy: string | null;
}

export interface CheckpointRow {
  id: number;
  task: TaskId;
  run_id: string;
  round: number;
  shapes: string;
  weights: Buffer;
  sha256: string;
  created_at: number;
  optimizer_state?: Buffer | null;
}

export interface ParticipationRow {
  round: number;
  client_id: string;
  name: string;
  samples: number;
  loss: number;
  accuracy: number;
  train_ms: number;
  test: string | null;
}

export function toCheckpoint(row: CheckpointRow): Checkpoint {
  // A copy: the driver's Buffer may sit at an unaligned offset in a shared pool.
  const values = new Float32Array(row.weights.byteLength / 4);
  new Uint8Array(values.buffer).set(row.weights);
  return {
    id: row.id,
    task: row.task,
    runId: row.run_id,
    round: row.round,
    shapes: JSON.parse(row.shapes) as number[][],
    values,
    sha256: row.sha256,
    createdAt: row.created_at,
  };
}

function roundPrivacy(json: string | null): Pick<RoundRecord, 'epsilon' | 'privacy'> {
  if (!json) return { epsilon: null, privacy: null };
  const { epsilon, ...privacy } = JSON.parse(json) as RoundPrivacy & { epsilon: number };
  return { epsilon, privacy };
}

function toRound(r: RoundRow): RoundRecord {
  return {
    round: r.round,
    status: r.status,
    clients: r.clients,
    samples: r.samples,
    accuracy: r.accuracy,
    loss: r.loss,
    durationMs: r.duration_ms,
    clientTest: r.client_test ? (JSON.parse(r.client_test) as EvalMetrics) : null,
    reason: r.reason,
    note: r.note,
    evaluation: r.status === 'completed' ? (r.eval_state ?? 'none') : 'none',
    weightsHash: r.weights_sha256 ?? r.sha256,
    ...roundPrivacy(r.privacy),
  };
}

/** `rounds`: this run's, in round order. */
export function toDetail(row: RunRow, rounds: RoundRow[]): RunDetail {
  return {
    id: row.id,
    task: row.task,
    status: row.status,
    // Runs stored before a setting existed read as if they had used its default.
    settings: { ...TASK_DEFAULTS[row.task], seed: seedFromString(row.id), ...(JSON.parse(row.settings) as Partial<RunSettings>) } as RunSettings,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    reason: row.reason,
    initialTest: row.initial_test ? (JSON.parse(row.initial_test) as EvalMetrics) : null,
    rounds: rounds.map(toRound),
  };
}

export function toParticipation(p: ParticipationRow): ParticipationRecord {
  return {
    round: p.round,
    clientId: p.client_id,
    name: p.name,
    samples: p.samples,
    loss: p.loss,
    accuracy: p.accuracy,
    trainMs: p.train_ms,
    test: p.test ? (JSON.parse(p.test) as EvalMetrics) : null,
  };
}
