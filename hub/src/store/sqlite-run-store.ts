import type { EvalMetrics, FlatWeights, RunSettings, RunStatus, TaskId } from '@fl/shared';
import { ClientIdentities } from './client-identities';
import type { CompletedRound } from './store';
import { HubStore, type StoreOptions } from './store';
import { refuse, type ConstraintKind } from './store-error';
import type { IdentityOptions, RunStore } from './store-port';

function constraintKind(err: unknown): ConstraintKind {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique';
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ? 'foreign-key' : null;
}

/**
 * RunStore over the synchronous SQLite HubStore, unchanged: each call runs to completion inside the
 * promise, so a throwing statement becomes a rejection and its transaction has already rolled back;
 * a constraint it breaks rejects as the same StoreError the PostgreSQL store gives.
 */
export class SqliteRunStore implements RunStore {
  private readonly identities: ClientIdentities;

  constructor(
    /** The SQLite store itself, for callers that still use it synchronously. */
    readonly sqlite: HubStore,
    identity: IdentityOptions,
  ) {
    this.identities = new ClientIdentities(sqlite.db, identity.newId, identity.now);
  }

  /** Opens (or creates) `dataDir/hub.sqlite`. */
  static open(dataDir: string, identity: IdentityOptions, options: StoreOptions = {}): SqliteRunStore {
    return new SqliteRunStore(new HubStore(dataDir, options), identity);
  }

  async createRun(id: string, settings: RunSettings, at: number, initial: FlatWeights) {
    try {
      return this.sqlite.createRun(id, settings, at, initial);
    } catch (err) {
      return refuse(err, constraintKind(err), `createRun ${id}`);
    }
  }

  async completeRound(round: CompletedRound) {
    try {
      return this.sqlite.completeRound(round);
    } catch (err) {
      return refuse(err, constraintKind(err), `completeRound ${round.runId} round ${round.round}`);
    }
  }

  async failRound(runId: string, round: number, reason: string, durationMs: number, at: number) {
    try {
      this.sqlite.failRound(runId, round, reason, durationMs, at);
    } catch (err) {
      refuse(err, constraintKind(err), `failRound ${runId} round ${round}`);
    }
  }

  async finishRun(runId: string, status: Exclude<RunStatus, 'running'>, reason: string | null, at: number) {
    this.sqlite.finishRun(runId, status, reason, at);
  }

  async setRoundEvaluation(runId: string, round: number, accuracy: number, loss: number) {
    this.sqlite.setRoundEvaluation(runId, round, accuracy, loss);
  }

  async failRoundEvaluation(runId: string, round: number) {
    this.sqlite.failRoundEvaluation(runId, round);
  }

  async pendingEvaluations() {
    return this.sqlite.pendingEvaluations();
  }

  async setClientTest(runId: string, round: number, metrics: EvalMetrics) {
    this.sqlite.setClientTest(runId, round, metrics);
  }

  async setShardOwners(runId: string, owners: string[]) {
    this.sqlite.setShardOwners(runId, owners);
  }

  async shardOwners(runId: string) {
    return this.sqlite.shardOwners(runId);
  }

  async latestCheckpoint(task: TaskId) {
    return this.sqlite.latestCheckpoint(task);
  }

  async modelSummaries() {
    return this.sqlite.modelSummaries();
  }

  async checkpoint(runId: string, round: number) {
    return this.sqlite.checkpoint(runId, round);
  }

  async runsWithStatus(status: RunStatus) {
    return this.sqlite.runsWithStatus(status);
  }

  async run(id: string) {
    return this.sqlite.run(id);
  }

  async runs(limit?: number) {
    return this.sqlite.runs(limit);
  }

  async participation(runId: string, round: number) {
    return this.sqlite.participation(runId, round);
  }

  async claimIdentity(clientId: string | undefined, secret: string | undefined) {
    return this.identities.claim(clientId, secret);
  }

  async close() {
    this.sqlite.close();
  }
}
