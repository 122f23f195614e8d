import type { PoolClient } from 'pg';
import { StoreError } from './store-error';

/**
 * Bumped with each change a hub must make to an existing database; version 1 is SQLite's schema, version 2 adds
 * the engine lease and the node list (a version-1 hub would write without the lease's fencing, so it must refuse).
 */
export const PG_SCHEMA_VERSION = 2;

// SQLite's tables with PostgreSQL's types: INTEGER times, ids and counts as BIGINT, REAL as DOUBLE PRECISION,
// BLOB as BYTEA. `seq` stands in for SQLite's rowid, which orders runs created at the same millisecond.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS store_schema (
  only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  settings TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  ended_at BIGINT,
  reason TEXT,
  shard_owners TEXT,
  initial_test TEXT
);
CREATE TABLE IF NOT EXISTS checkpoints (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task TEXT NOT NULL,
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  shapes TEXT NOT NULL,
  weights BYTEA NOT NULL,
  sha256 TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  optimizer_state BYTEA,
  UNIQUE (run_id, round)
);
CREATE INDEX IF NOT EXISTS checkpoints_task ON checkpoints (task, id);
CREATE TABLE IF NOT EXISTS rounds (
  run_id TEXT NOT NULL REFERENCES runs (id),
  round INTEGER NOT NULL,
  status TEXT NOT NULL,
  clients INTEGER NOT NULL,
  samples BIGINT NOT NULL,
  accuracy DOUBLE PRECISION,
  loss DOUBLE PRECISION,
  duration_ms BIGINT NOT NULL,
  client_test TEXT,
  reason TEXT,
  note TEXT,
  checkpoint_id BIGINT REFERENCES checkpoints (id),
  ended_at BIGINT NOT NULL,
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
  samples BIGINT NOT NULL,
  loss DOUBLE PRECISION,
  accuracy DOUBLE PRECISION,
  train_ms DOUBLE PRECISION,
  test TEXT,
  PRIMARY KEY (run_id, round, client_id)
);
CREATE TABLE IF NOT EXISTS cluster_lease (
  name TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,
  holder TEXT,
  acquired_at BIGINT
);
INSERT INTO cluster_lease (name, epoch) VALUES ('engine', 0) ON CONFLICT (name) DO NOTHING;
CREATE TABLE IF NOT EXISTS cluster_nodes (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  seen_at BIGINT NOT NULL,
  clients INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS client_identities (
  client_id TEXT PRIMARY KEY,
  secret_sha256 BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
`;

/**
 * Creates the tables if missing and records the schema version; run it in a transaction, whose advisory
 * lock keeps hubs opening one fresh database at once from racing on CREATE TABLE.
 */
export async function ensureSchema(client: PoolClient): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext('fl-hub-store-schema'))");
  await client.query(SCHEMA);
  const { rows } = await client.query<{ version: number }>('SELECT version FROM store_schema');
  const version = rows[0]?.version;
  if (version === undefined) await client.query('INSERT INTO store_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
  else if (version > PG_SCHEMA_VERSION) {
    throw new StoreError('HUB_ERR_STORE_SCHEMA', `the database has schema version ${version}; this hub knows up to ${PG_SCHEMA_VERSION}`);
  } else if (version < PG_SCHEMA_VERSION) {
    // The tables a newer version adds were created above (IF NOT EXISTS); nothing else changed.
    await client.query('UPDATE store_schema SET version = $1', [PG_SCHEMA_VERSION]);
  }
}
