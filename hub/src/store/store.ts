import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TASK_DEFAULTS, seedFromString, type EvalMetrics, type EvalState, type FlatWeights, type ParticipationRecord, type RoundPrivacy, type RoundRecord, type RunDetail, type RunSettings, type RunStatus, type TaskId } from '@fl/shared';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  settings TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  ended_at INTEGER,
  reason TEXT,
  shard_owners TEXT,
  initial_test TEXT
);
CREATE TABLE IF NOT EXISTS checkpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task TEXT NOT NULL,
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  shapes TEXT NOT NULL,
  weights BLOB NOT NULL,
  sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  optimizer_state BLOB,
  UNIQUE (run_id, round)
);
CREATE INDEX IF NOT EXISTS checkpoints_task ON checkpoints (task, id);
CREATE TABLE IF NOT EXISTS rounds (
  run_id TEXT NOT NULL REFERENCES runs (id),
  round INTEGER NOT NULL,
  status TEXT NOT NULL,
  clients INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  accuracy REAL,
  loss REAL,
  duration_ms INTEGER NOT NULL,
  client_test TEXT,
  reason TEXT,
  note TEXT,
  checkpoint_id INTEGER REFERENCES checkpoints (id),
  ended_at INTEGER NOT NULL,
  eval_state TEXT,
  weights_sha256 TEXT,
  privacy TEXT,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS participation (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  name TEXT NOT NULL,
  samples INTEGER NOT NULL,
  loss REAL,
  accuracy REAL,
  train_ms REAL,
  test TEXT,
  PRIMARY KEY (run_id, round, client_id)
);
`;

export interface Checkpoint extends FlatWeights {
  id: number;
  task: TaskId;
  runId: string;
  round: number;
  sha256: string;
  createdAt: number;
}

/** A run's checkpoint with what the server optimiser kept after that round (null: fedavg, round 0, or a hub from before). */
export interface RoundCheckpoint extends Checkpoint {
  optimizerState: Uint8Array | null;
}

export interface CompletedRound {
  runId: string;
  task: TaskId;
  round: number;
  weights: FlatWeights;
  /** 'pending' when the hub evaluates this model after the commit; 'none' when only clients score it. */
  evaluation: 'pending' | 'none';
  durationMs: number;
  /** What the aggregation strategy did, in words (clipping, Krum's choice). */
  note?: string | null;
  participants: ParticipationRecord[];
  at: number;
  /** Differential privacy: what the round spent and the run's epsilon after it. */
  privacy?: (RoundPrivacy & { epsilon: number }) | null;
  /** The server optimiser's state after this round (encoded), kept with its checkpoint for a resume. */
  optimizerState?: Uint8Array | null;
}

export function hashWeights(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

interface RunRow {
  id: string;
  task: TaskId;
  status: RunStatus;
  settings: string;
  created_at: number;
  ended_at: number | null;
  reason: string | null;
  initial_test: string | null;
}

interface RoundRow {
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

interface CheckpointRow {
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

function roundPrivacy(json: string | null): Pick<RoundRecord, 'epsilon' | 'privacy'> {
  if (!json) return { epsilon: null, privacy: null };
  const { epsilon, ...privacy } = JSON.parse(json) as RoundPrivacy & { epsilon: number };
  return { epsilon, privacy };
}

/** A checkpoint's columns but its optimiser state (a model export or a new run's start never needs it). */
const MODEL_COLUMNS = 'id, task, run_id, round, shapes, weights, sha256, created_at';

function toCheckpoint(row: CheckpointRow): Checkpoint {
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

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface StoreOptions {
  synchronous?: SqliteSynchronous;
  /** Checkpoints kept per run: the last K rounds' (the final model is always among them). Default 10. */
  keepCheckpoints?: number;
}

/** A committed round whose held-out evaluation has not been stored. */
export interface PendingEvaluation {
  runId: string;
  task: TaskId;
  round: number;
}

/** Everything the hub must not lose, in one SQLite file (WAL; each round commits in one transaction). */
export class HubStore {
  readonly db: Database.Database;

  /** `synchronous`: FULL (default) fsyncs every commit; NORMAL may lose the last commits on power loss (not on a crash). */
  private readonly keepCheckpoints: number;

  constructor(dataDir: string, options: StoreOptions = {}) {
    this.keepCheckpoints = Math.max(1, Math.floor(options.keepCheckpoints ?? 10));
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'hub.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    this.migrate();
  }

  /** Columns added after a database may have been created. */
  private migrate(): void {
    const columns = (table: string) => (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    if (!columns('runs').includes('shard_owners')) this.db.exec('ALTER TABLE runs ADD COLUMN shard_owners TEXT');
    if (!columns('rounds').includes('note')) this.db.exec('ALTER TABLE rounds ADD COLUMN note TEXT');
    if (!columns('rounds').includes('privacy')) this.db.exec('ALTER TABLE rounds ADD COLUMN privacy TEXT');
    if (!columns('checkpoints').includes('optimizer_state')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN optimizer_state BLOB');
    if (!columns('runs').includes('initial_test')) this.db.exec('ALTER TABLE runs ADD COLUMN initial_test TEXT');
    if (!columns('rounds').includes('weights_sha256')) {
      this.db.exec('ALTER TABLE rounds ADD COLUMN weights_sha256 TEXT');
      this.db.exec('UPDATE rounds SET weights_sha256 = (SELECT sha256 FROM checkpoints c WHERE c.id = rounds.checkpoint_id)');
    }
    if (!columns('rounds').includes('eval_state')) {
      this.db.exec('ALTER TABLE rounds ADD COLUMN eval_state TEXT');
      // A database from before evaluation states: an MNIST round without accuracy lost its evaluation in a crash.
      this.db.exec(`UPDATE rounds SET eval_state = CASE
        WHEN status = 'completed' AND accuracy IS NULL AND (SELECT task FROM runs WHERE id = rounds.run_id) = 'mnist' THEN 'pending'
        WHEN status = 'completed' AND accuracy IS NOT NULL THEN 'done' ELSE 'none' END`);
    }
  }

  close(): void {
    this.db.close();
  }

  createRun(id: string, settings: RunSettings, at: number, initial: FlatWeights): Checkpoint {
    return this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO runs (id, task, status, settings, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(id, settings.task, 'running', JSON.stringify(settings), at);
      return this.insertCheckpoint(settings.task, id, 0, initial, at);
    })();
  }

  private insertCheckpoint(task: TaskId, runId: string, round: number, weights: FlatWeights, at: number, optimizerState: Uint8Array | null = null): Checkpoint {
    const sha256 = hashWeights(weights.values);
    const bytes = Buffer.from(weights.values.buffer, weights.values.byteOffset, weights.values.byteLength);
    const state = optimizerState ? Buffer.from(optimizerState.buffer, optimizerState.byteOffset, optimizerState.byteLength) : null;
    const info = this.db
      .prepare('INSERT INTO checkpoints (task, run_id, round, shapes, weights, sha256, created_at, optimizer_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(task, runId, round, JSON.stringify(weights.shapes), bytes, sha256, at, state);
    return { id: Number(info.lastInsertRowid), task, runId, round, ...weights, sha256, createdAt: at };
  }

  /**
   * Stores a finished round, its participants, the new global model and the server optimiser's state atomically;
   * older checkpoints of the run beyond K go, with their optimiser states.
   */
  completeRound(r: CompletedRound): Checkpoint {
    return this.db.transaction(() => {
      const checkpoint = this.insertCheckpoint(r.task, r.runId, r.round, r.weights, r.at, r.optimizerState ?? null);
      this.db
        .prepare(
          `INSERT INTO rounds (run_id, round, status, clients, samples, accuracy, loss, duration_ms, client_test, reason, note, checkpoint_id, ended_at, eval_state, weights_sha256, privacy)
           VALUES (?, ?, 'completed', ?, ?, NULL, NULL, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.runId,
          r.round,
          r.participants.length,
          r.participants.reduce((n, p) => n + p.samples, 0),
          Math.round(r.durationMs),
          r.note ?? null,
          checkpoint.id,
          r.at,
          r.evaluation,
          checkpoint.sha256,
          r.privacy ? JSON.stringify(r.privacy) : null,
        );
      this.pruneCheckpoints(r.runId, r.round - this.keepCheckpoints);
      const insert = this.db.prepare(
        'INSERT INTO participation (run_id, round, client_id, name, samples, loss, accuracy, train_ms, test) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const p of r.participants) {
        insert.run(r.runId, r.round, p.clientId, p.name, p.samples, p.loss, p.accuracy, p.trainMs, p.test ? JSON.stringify(p.test) : null);
      }
      return checkpoint;
    })();
  }

  /** Drops a run's checkpoints up to `upTo` (their hashes stay on the rounds). */
  private pruneCheckpoints(runId: string, upTo: number): void {
    if (upTo < 0) return;
    this.db.prepare('UPDATE rounds SET checkpoint_id = NULL WHERE run_id = ? AND round <= ?').run(runId, upTo);
    this.db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND round <= ?').run(runId, upTo);
  }

  /** The held-out evaluation of a round's global model, stored when it is done. */
  setRoundEvaluation(runId: string, round: number, accuracy: number, loss: number): void {
    this.db
      .prepare("UPDATE rounds SET accuracy = ?, loss = ?, eval_state = 'done' WHERE run_id = ? AND round = ?")
      .run(accuracy, loss, runId, round);
  }

  /** An evaluation that cannot be done (its checkpoint is gone, the model failed): not retried. */
  failRoundEvaluation(runId: string, round: number): void {
    this.db.prepare("UPDATE rounds SET eval_state = 'failed' WHERE run_id = ? AND round = ?").run(runId, round);
  }

  /** Committed rounds whose evaluation was never stored (the hub stopped in between), oldest first. */
  pendingEvaluations(): PendingEvaluation[] {
    const rows = this.db
      .prepare(
        `SELECT r.run_id, r.round, u.task FROM rounds r JOIN runs u ON u.id = r.run_id
         WHERE r.eval_state = 'pending' ORDER BY u.created_at, r.round`,
      )
      .all() as { run_id: string; round: number; task: TaskId }[];
    return rows.map((r) => ({ runId: r.run_id, round: r.round, task: r.task }));
  }

  /**
   * The clients' scores of the model after `round` (0: the model the run started from), as a
   * sample-weighted mean; for chest X-rays these are the round's accuracy.
   */
  setClientTest(runId: string, round: number, metrics: EvalMetrics): void {
    const json = JSON.stringify(metrics);
    if (round === 0) {
      this.db.prepare('UPDATE runs SET initial_test = ? WHERE id = ?').run(json, runId);
      return;
    }
    this.db
      .prepare("UPDATE rounds SET client_test = ?, accuracy = ?, loss = ?, eval_state = 'done' WHERE run_id = ? AND round = ?")
      .run(json, metrics.accuracy, metrics.loss ?? null, runId, round);
  }

  failRound(runId: string, round: number, reason: string, durationMs: number, at: number): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO rounds (run_id, round, status, clients, samples, duration_ms, reason, ended_at)
         VALUES (?, ?, 'failed', 0, 0, ?, ?, ?)`,
      )
      .run(runId, round, Math.round(durationMs), reason, at);
  }

  /** MNIST: which clients hold which shard, so a resumed run gives each client the same digits. */
  setShardOwners(runId: string, owners: string[]): void {
    this.db.prepare('UPDATE runs SET shard_owners = ? WHERE id = ?').run(JSON.stringify(owners), runId);
  }

  shardOwners(runId: string): string[] | null {
    const row = this.db.prepare('SELECT shard_owners FROM runs WHERE id = ?').get(runId) as { shard_owners: string | null } | undefined;
    return row?.shard_owners ? (JSON.parse(row.shard_owners) as string[]) : null;
  }

  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, reason: string | null, at: number): void {
    this.db.prepare('UPDATE runs SET status = ?, reason = ?, ended_at = ? WHERE id = ?').run(status, reason, at, runId);
  }

  /** The newest global model of a task that came out of a completed round, from any run (without its optimiser state). */
  latestCheckpoint(task: TaskId): Checkpoint | null {
    const row = this.db
      .prepare(`SELECT ${MODEL_COLUMNS} FROM checkpoints WHERE task = ? AND round > 0 ORDER BY id DESC LIMIT 1`)
      .get(task) as CheckpointRow | undefined;
    return row ? toCheckpoint(row) : null;
  }

  /** Per task: where its newest trained model came from. */
  modelSummaries(): { task: TaskId; runId: string; round: number; createdAt: number; parameters: number; sha256: string }[] {
    const rows = this.db
      .prepare(
        `SELECT task, run_id, round, created_at, length(weights) AS bytes, sha256 FROM checkpoints
         WHERE id IN (SELECT max(id) FROM checkpoints WHERE round > 0 GROUP BY task) ORDER BY task`,
      )
      .all() as { task: TaskId; run_id: string; round: number; created_at: number; bytes: number; sha256: string }[];
    return rows.map((r) => ({ task: r.task, runId: r.run_id, round: r.round, createdAt: r.created_at, parameters: r.bytes / 4, sha256: r.sha256 }));
  }

  /** A run's checkpoint of a round, with the server optimiser's state after it. */
  checkpoint(runId: string, round: number): RoundCheckpoint | null {
    const row = this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? AND round = ?').get(runId, round) as
      | CheckpointRow
      | undefined;
    if (!row) return null;
    const state = row.optimizer_state ? Uint8Array.from(row.optimizer_state) : null;
    return { ...toCheckpoint(row), optimizerState: state };
  }

  runsWithStatus(status: RunStatus): string[] {
    return (this.db.prepare('SELECT id FROM runs WHERE status = ? ORDER BY created_at').all(status) as { id: string }[]).map(
      (r) => r.id,
    );
  }

  run(id: string): RunDetail | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? this.toDetail(row) : null;
  }

  /** Newest first. */
  runs(limit = 100): RunDetail[] {
    const rows = this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as RunRow[];
    return rows.map((row) => this.toDetail(row));
  }

  participation(runId: string, round: number): ParticipationRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM participation WHERE run_id = ? AND round = ? ORDER BY client_id')
      .all(runId, round) as {
      round: number;
      client_id: string;
      name: string;
      samples: number;
      loss: number;
      accuracy: number;
      train_ms: number;
      test: string | null;
    }[];
    return rows.map((p) => ({
      round: p.round,
      clientId: p.client_id,
      name: p.name,
      samples: p.samples,
      loss: p.loss,
      accuracy: p.accuracy,
      trainMs: p.train_ms,
      test: p.test ? (JSON.parse(p.test) as EvalMetrics) : null,
    }));
  }

  private toDetail(row: RunRow): RunDetail {
    const rounds = this.db
      .prepare(
        `SELECT r.*, c.sha256 FROM rounds r LEFT JOIN checkpoints c ON c.id = r.checkpoint_id
         WHERE r.run_id = ? ORDER BY r.round`,
      )
      .all(row.id) as RoundRow[];
    return {
      id: row.id,
      task: row.task,
      status: row.status,
      // Runs stored before a setting existed read as if they had used its default.
      // Runs from before the seed setting drew their partitions from the run id.
      settings: { ...TASK_DEFAULTS[row.task], seed: seedFromString(row.id), ...(JSON.parse(row.settings) as Partial<RunSettings>) } as RunSettings,
      createdAt: row.created_at,
      endedAt: row.ended_at,
      reason: row.reason,
      initialTest: row.initial_test ? (JSON.parse(row.initial_test) as EvalMetrics) : null,
      rounds: rounds.map(
        (r): RoundRecord => ({
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
        }),
      ),
    };
  }
}
