import type Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS client_identities (
  client_id TEXT PRIMARY KEY,
  secret_sha256 BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
`;

/** Identities nobody reclaimed for this long are forgotten (a client coming back later gets a new id). */
export const FORGET_AFTER_MS = 90 * 24 * 3600 * 1000;

export type Claim =
  /** A new client: the secret is returned this once and only its hash is kept. */
  | { kind: 'issued'; clientId: string; secret: string }
  /** A known client proved it holds the id. */
  | { kind: 'reclaimed'; clientId: string }
  /** A known id without its secret. */
  | { kind: 'refused'; clientId: string };

/** What is kept of a client's secret (SQLite and PostgreSQL alike). */
export const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/**
 * Who may speak for a client id: each id is issued with a 256-bit secret, and only a join that
 * presents it may reclaim the id, across reconnects and hub restarts.
 */
export class ClientIdentities {
  private readonly insert: Database.Statement<[string, Buffer, number, number]>;
  private readonly find: Database.Statement<[string], { secret_sha256: Buffer }>;
  private readonly touch: Database.Statement<[number, string]>;

  constructor(
    db: Database.Database,
    private readonly newId: () => string,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
    db.prepare('DELETE FROM client_identities WHERE last_seen_at < ?').run(now() - FORGET_AFTER_MS);
    this.insert = db.prepare('INSERT INTO client_identities (client_id, secret_sha256, created_at, last_seen_at) VALUES (?, ?, ?, ?)');
    this.find = db.prepare('SELECT secret_sha256 FROM client_identities WHERE client_id = ?');
    this.touch = db.prepare('UPDATE client_identities SET last_seen_at = ? WHERE client_id = ?');
  }

  /** Reclaims `clientId` with `secret`; an id this hub never issued (or none) gets a fresh id and secret. */
  claim(clientId: string | undefined, secret: string | undefined): Claim {
    const row = clientId ? this.find.get(clientId) : undefined;
    if (clientId && row) {
      // Hashing both sides gives equal lengths, so the comparison takes the same time whatever was sent.
      if (secret !== undefined && timingSafeEqual(hashSecret(secret), row.secret_sha256)) {
        this.touch.run(this.now(), clientId);
        return { kind: 'reclaimed', clientId };
      }
      return { kind: 'refused', clientId };
    }
    return this.issue();
  }

  private issue(): Claim {
    for (;;) {
      const clientId = this.newId();
      if (this.find.get(clientId)) continue; // a counter id from an earlier hub on this data folder
      const secret = randomBytes(32).toString('base64url');
      const at = this.now();
      this.insert.run(clientId, hashSecret(secret), at, at);
      return { kind: 'issued', clientId, secret };
    }
  }
}
