import { randomBytes, timingSafeEqual } from 'node:crypto';
import pg, { type Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import type { EvalMetrics, FlatWeights, ParticipationRecord, RunDetail, RunSettings, RunStatus, TaskId } from '@fl/shared';
import { FORGET_AFTER_MS, hashSecret, type Claim } from './client-identities';
import { ensureSchema } from './pg-schema';
import { toCheckpoint, toDetail, toParticipation, type CheckpointRow, type ParticipationRow, type RoundRow, type RunRow } from './pg-rows';
import { hashWeights, type Checkpoint, type CompletedRound, type PendingEvaluation, type RoundCheckpoint } from './store';
import { refuse, StoreError, type ConstraintKind } from './store-error';
import type { IdentityOptions, ModelSummary, RunStore } from './store-port';

const INT8_OID = 20;

/** BIGINT (times, ids, counts) as a number; one beyond 2^53 fails its query rather than losing digits. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} is beyond a safe JavaScript integer`);
  return n;
}

const TYPES: NonNullable<PoolConfig['types']> = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** SQLSTATE classes: 23505 unique_violation, 23503 foreign_key_violation. */
function constraintKind(err: unknown): ConstraintKind {
  const code = (err as { code?: unknown }).code;
  return code === '23505' ? 'unique' : code === '23503' ? 'foreign-key' : null;
}

/**
 * Runs `fn` in one transaction on one pooled connection; a throw rolls it all back. A connection that
 * fails meanwhile (the server dropped it between two queries, which pg reports as an 'error' event on a
 * checked-out client) or cannot roll back is closed rather than returned to the pool.
 */
async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!broken) await client.query('ROLLBACK').catch(onError);
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

const bytes = (a: Uint8Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A checkpoint's columns but its optimiser state (a model export or a new run's start never needs it). */
const MODEL_COLUMNS = 'id, task, run_id, round, shapes, weights, sha256, created_at';

const ROUND_COLUMNS = `r.run_id, r.round, r.status, r.clients, r.samples, r.accuracy, r.loss, r.duration_ms, r.client_test,
  r.reason, r.note, r.eval_state, r.weights_sha256, r.privacy, c.sha256`;

export interface PgStoreOptions {
  /** Checkpoints kept per run: the last K rounds' (the final model is always among them). Default 10. */
  keepCheckpoints?: number;
  /** Connections in the pool. Default 10. */
  maxConnections?: number;
  /** An idle pooled connection failed (the server restarted); the pool drops it and the next query reconnects. */
  onIdleError?: (err: Error) => void;
}

/**
 * RunStore on PostgreSQL, with HubStore's semantics: each round's record, participants, checkpoint and
 * optimiser state commit in one transaction, and a refused write (StoreError) leaves nothing behind.
 */
export class PgRunStore implements RunStore {
  private readonly keepCheckpoints: number;
  /** The engine lease's epoch this node's engine writes under; null: no lease (tests of the store alone). */
  private fence: number | null = null;

  private constructor(
    private readonly pool: Pool,
    private readonly identity: IdentityOptions,
    options: PgStoreOptions,
  ) {
    this.keepCheckpoints = Math.max(1, Math.floor(options.keepCheckpoints ?? 10));
  }

  /** Connects to `databaseUrl` (postgresql://user@host:port/db, or ?host=/socket/dir), creating the schema if missing. */
  static async open(databaseUrl: string, identity: IdentityOptions, options: PgStoreOptions = {}): Promise<PgRunStore> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: options.maxConnections ?? 10, types: TYPES });
    pool.on('error', (err) => options.onIdleError?.(err));
    try {
      await transaction(pool, ensureSchema);
      const now = (identity.now ?? Date.now)();
      await pool.query('DELETE FROM client_identities WHERE last_seen_at < $1', [now - FORGET_AFTER_MS]);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PgRunStore(pool, identity, options);
  }

  private async rows<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  private transaction<T>(fn: (client: PoolClient) => Promise<T>, begin?: string): Promise<T> {
    return transaction(this.pool, fn, begin);
  }

  /**
   * From now on every write of the round engine commits only while the engine lease is still at `epoch`: a node
   * that lost the lease (another took it, so the epoch moved on) has its writes refused with HUB_ERR_STORE_FENCED.
   */
  fenceWith(epoch: number): void {
    this.fence = epoch;
  }

  /**
   * Reads the lease's epoch under a share lock held to the commit, so a node taking the lease (which updates that
   * row) waits for a write in flight, and a write after the lease moved is refused.
   */
  private async checkFence(client: PoolClient): Promise<void> {
    if (this.fence === null) return;
    const { rows } = await client.query<{ epoch: number }>("SELECT epoch FROM cluster_lease WHERE name = 'engine' FOR SHARE");
    const epoch = rows[0]?.epoch;
    if (epoch !== this.fence) {
      throw new StoreError('HUB_ERR_STORE_FENCED', `another hub node holds the engine lease (epoch ${epoch ?? 'none'}); this node's epoch ${this.fence} may not write`);
    }
  }

  /** A transaction of the round engine: fenced when the node holds a lease. */
  private engineTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(async (client) => {
      await this.checkFence(client);
      return fn(client);
    });
  }

  /** One statement of the round engine: on its own without a lease, in a fenced transaction with one. */
  private async engineWrite(sql: string, params: unknown[]): Promise<void> {
    if (this.fence === null) {
      await this.pool.query(sql, params);
      return;
    }
    await this.engineTransaction((client) => client.query(sql, params));
  }

  private async insertCheckpoint(
    client: PoolClient,
    task: TaskId,
    runId: string,
    round: number,
    weights: FlatWeights,
    at: number,
    optimizerState: Uint8Array | null = null,
  ): Promise<Checkpoint> {
    const sha256 = hashWeights(weights.values);
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO checkpoints (task, run_id, round, shapes, weights, sha256, created_at, optimizer_state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [task, runId, round, JSON.stringify(weights.shapes), bytes(weights.values), sha256, at, optimizerState ? bytes(optimizerState) : null],
    );
    return { id: rows[0]!.id, task, runId, round, ...weights, sha256, createdAt: at };
  }

  async createRun(id: string, settings: RunSettings, at: number, initial: FlatWeights): Promise<Checkpoint> {
    try {
      return await this.engineTransaction(async (client) => {
        await client.query('INSERT INTO runs (id, task, status, settings, created_at) VALUES ($1, $2, $3, $4, $5)', [
          id,
          settings.task,
          'running',
          JSON.stringify(settings),
          at,
        ]);
        return this.insertCheckpoint(client, settings.task, id, 0, initial, at);
      });
    } catch (err) {
      return refuse(err, constraintKind(err), `createRun ${id}`);
    }
  }

  async completeRound(r: CompletedRound): Promise<Checkpoint> {
    try {
      return await this.engineTransaction(async (client) => {
        const checkpoint = await this.insertCheckpoint(client, r.task, r.runId, r.round, r.weights, r.at, r.optimizerState ?? null);
        await client.query(
          `INSERT INTO rounds (run_id, round, status, clients, samples, accuracy, loss, duration_ms, client_test, reason, note, checkpoint_id, ended_at, eval_state, weights_sha256, privacy)
           VALUES ($1, $2, 'completed', $3, $4, NULL, NULL, $5, NULL, NULL, $6, $7, $8, $9, $10, $11)`,
          [
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
          ],
        );
        const upTo = r.round - this.keepCheckpoints;
        if (upTo >= 0) {
          // Older checkpoints go, with their optimiser states; their hashes stay on the rounds.
          await client.query('UPDATE rounds SET checkpoint_id = NULL WHERE run_id = $1 AND round <= $2', [r.runId, upTo]);
          await client.query('DELETE FROM checkpoints WHERE run_id = $1 AND round <= $2', [r.runId, upTo]);
        }
        if (r.participants.length > 0) {
          const values: unknown[] = [];
          const tuples = r.participants.map((p) => {
            values.push(r.runId, r.round, p.clientId, p.name, p.samples, p.loss, p.accuracy, p.trainMs, p.test ? JSON.stringify(p.test) : null);
            const base = values.length - 9;
            return `(${Array.from({ length: 9 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
          });
          await client.query(
            `INSERT INTO participation (run_id, round, client_id, name, samples, loss, accuracy, train_ms, test) VALUES ${tuples.join(', ')}`,
            values,
          );
        }
        return checkpoint;
      });
    } catch (err) {
      return refuse(err, constraintKind(err), `completeRound ${r.runId} round ${r.round}`);
    }
  }

  async failRound(runId: string, round: number, reason: string, durationMs: number, at: number): Promise<void> {
    try {
      // SQLite's INSERT OR REPLACE: a round stored before is replaced whole, its other columns cleared.
      await this.engineWrite(
        `INSERT INTO rounds (run_id, round, status, clients, samples, duration_ms, reason, ended_at)
         VALUES ($1, $2, 'failed', 0, 0, $3, $4, $5)
         ON CONFLICT (run_id, round) DO UPDATE SET status = 'failed', clients = 0, samples = 0, accuracy = NULL, loss = NULL,
           duration_ms = EXCLUDED.duration_ms, client_test = NULL, reason = EXCLUDED.reason, note = NULL, checkpoint_id = NULL,
           ended_at = EXCLUDED.ended_at, eval_state = NULL, weights_sha256 = NULL, privacy = NULL`,
        [runId, round, Math.round(durationMs), reason, at],
      );
    } catch (err) {
      refuse(err, constraintKind(err), `failRound ${runId} round ${round}`);
    }
  }

  async finishRun(runId: string, status: Exclude<RunStatus, 'running'>, reason: string | null, at: number): Promise<void> {
    await this.engineWrite('UPDATE runs SET status = $1, reason = $2, ended_at = $3 WHERE id = $4', [status, reason, at, runId]);
  }

  async setRoundEvaluation(runId: string, round: number, accuracy: number, loss: number): Promise<void> {
    await this.engineWrite("UPDATE rounds SET accuracy = $1, loss = $2, eval_state = 'done' WHERE run_id = $3 AND round = $4", [
      accuracy,
      loss,
      runId,
      round,
    ]);
  }

  async failRoundEvaluation(runId: string, round: number): Promise<void> {
    await this.engineWrite("UPDATE rounds SET eval_state = 'failed' WHERE run_id = $1 AND round = $2", [runId, round]);
  }

  async pendingEvaluations(): Promise<PendingEvaluation[]> {
    const rows = await this.rows<{ run_id: string; round: number; task: TaskId }>(
      `SELECT r.run_id, r.round, u.task FROM rounds r JOIN runs u ON u.id = r.run_id
       WHERE r.eval_state = 'pending' ORDER BY u.created_at, u.seq, r.round`,
    );
    return rows.map((r) => ({ runId: r.run_id, round: r.round, task: r.task }));
  }

  async setClientTest(runId: string, round: number, metrics: EvalMetrics): Promise<void> {
    const json = JSON.stringify(metrics);
    if (round === 0) {
      await this.engineWrite('UPDATE runs SET initial_test = $1 WHERE id = $2', [json, runId]);
      return;
    }
    await this.engineWrite(
      "UPDATE rounds SET client_test = $1, accuracy = $2, loss = $3, eval_state = 'done' WHERE run_id = $4 AND round = $5",
      [json, metrics.accuracy, metrics.loss ?? null, runId, round],
    );
  }

  async setShardOwners(runId: string, owners: string[]): Promise<void> {
    await this.engineWrite('UPDATE runs SET shard_owners = $1 WHERE id = $2', [JSON.stringify(owners), runId]);
  }

  async shardOwners(runId: string): Promise<string[] | null> {
    const [row] = await this.rows<{ shard_owners: string | null }>('SELECT shard_owners FROM runs WHERE id = $1', [runId]);
    return row?.shard_owners ? (JSON.parse(row.shard_owners) as string[]) : null;
  }

  async latestCheckpoint(task: TaskId): Promise<Checkpoint | null> {
    const [row] = await this.rows<CheckpointRow>(
      `SELECT ${MODEL_COLUMNS} FROM checkpoints WHERE task = $1 AND round > 0 ORDER BY id DESC LIMIT 1`,
      [task],
    );
    return row ? toCheckpoint(row) : null;
  }

  async modelSummaries(): Promise<ModelSummary[]> {
    const rows = await this.rows<{ task: TaskId; run_id: string; round: number; created_at: number; bytes: number; sha256: string }>(
      `SELECT task, run_id, round, created_at, octet_length(weights) AS bytes, sha256 FROM checkpoints
       WHERE id IN (SELECT max(id) FROM checkpoints WHERE round > 0 GROUP BY task) ORDER BY task`,
    );
    return rows.map((r) => ({ task: r.task, runId: r.run_id, round: r.round, createdAt: r.created_at, parameters: r.bytes / 4, sha256: r.sha256 }));
  }

  async checkpoint(runId: string, round: number): Promise<RoundCheckpoint | null> {
    const [row] = await this.rows<CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = $1 AND round = $2', [runId, round]);
    if (!row) return null;
    const state = row.optimizer_state ? Uint8Array.from(row.optimizer_state) : null;
    return { ...toCheckpoint(row), optimizerState: state };
  }

  async runsWithStatus(status: RunStatus): Promise<string[]> {
    const rows = await this.rows<{ id: string }>('SELECT id FROM runs WHERE status = $1 ORDER BY created_at, seq', [status]);
    return rows.map((r) => r.id);
  }

  async run(id: string): Promise<RunDetail | null> {
    return (await this.details('WHERE id = $1', [id]))[0] ?? null;
  }

  async runs(limit = 100): Promise<RunDetail[]> {
    return this.details('ORDER BY created_at DESC, seq DESC LIMIT $1', [limit]);
  }

  /** Runs and their rounds read from one snapshot, so a round committed in between is in both or neither. */
  private details(tail: string, params: unknown[]): Promise<RunDetail[]> {
    return this.transaction(async (client) => {
      const runs = (await client.query<RunRow>(`SELECT * FROM runs ${tail}`, params)).rows;
      if (runs.length === 0) return [];
      const rounds = (
        await client.query<RoundRow>(
          `SELECT ${ROUND_COLUMNS} FROM rounds r LEFT JOIN checkpoints c ON c.id = r.checkpoint_id
           WHERE r.run_id = ANY($1) ORDER BY r.run_id, r.round`,
          [runs.map((r) => r.id)],
        )
      ).rows;
      const byRun = new Map<string, RoundRow[]>();
      for (const r of rounds) {
        const list = byRun.get(r.run_id);
        if (list) list.push(r);
        else byRun.set(r.run_id, [r]);
      }
      return runs.map((run) => toDetail(run, byRun.get(run.id) ?? []));
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async participation(runId: string, round: number): Promise<ParticipationRecord[]> {
    const rows = await this.rows<ParticipationRow>('SELECT * FROM participation WHERE run_id = $1 AND round = $2 ORDER BY client_id', [
      runId,
      round,
    ]);
    return rows.map(toParticipation);
  }

  /** ClientIdentities' semantics; the insert skips an id that exists, so two hubs cannot issue one id twice. */
  async claimIdentity(clientId: string | undefined, secret: string | undefined): Promise<Claim> {
    const now = this.identity.now ?? Date.now;
    if (clientId) {
      const [row] = await this.rows<{ secret_sha256: Buffer }>('SELECT secret_sha256 FROM client_identities WHERE client_id = $1', [clientId]);
      if (row) {
        // Hashing both sides gives equal lengths, so the comparison takes the same time whatever was sent.
        if (secret !== undefined && timingSafeEqual(hashSecret(secret), row.secret_sha256)) {
          await this.pool.query('UPDATE client_identities SET last_seen_at = $1 WHERE client_id = $2', [now(), clientId]);
          return { kind: 'reclaimed', clientId };
        }
        return { kind: 'refused', clientId };
      }
    }
    for (;;) {
      const id = this.identity.newId();
      const fresh = randomBytes(32).toString('base64url');
      const at = now();
      const inserted = await this.pool.query(
        `INSERT INTO client_identities (client_id, secret_sha256, created_at, last_seen_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (client_id) DO NOTHING`,
        [id, hashSecret(fresh), at],
      );
      if (inserted.rowCount === 1) return { kind: 'issued', clientId: id, secret: fresh };
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
