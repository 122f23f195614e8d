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

/** A write waiting for the next group commit, and who waits on it. */
interface PendingWrite {
  write: () => void;
  settle: (error?: unknown) => void;
}

/**
 * Who may speak for a client id: each id is issued with a 256-bit secret, and only a join that
 * presents it may reclaim the id, across reconnects and hub restarts.
 *
 * Writes are group-committed: every issue and reclaim made in the same turn of the event loop goes into one
 * transaction, committed (and, with `synchronous = FULL`, synced) once before any of their claims resolves, so
 * a secret reaches its client only once it is on disk, and a thousand joins arriving together cost one sync, not
 * a thousand.
 */
export class ClientIdentities {
  private readonly insert: Database.Statement<[string, Buffer, number, number]>;
  private readonly find: Database.Statement<[string], { secret_sha256: Buffer }>;
  private readonly touch: Database.Statement<[number, string]>;
  private readonly commit: (writes: PendingWrite[]) => void;
  private pending: PendingWrite[] = [];
  /** Ids issued in the open batch: not yet in the table, already taken. */
  private readonly issuing = new Set<string>();

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
    this.commit = db.transaction((writes: PendingWrite[]) => {
      for (const w of writes) w.write();
    });
  }

  /** Reclaims `clientId` with `secret`; an id this hub never issued (or none) gets a fresh id and secret. */
  claim(clientId: string | undefined, secret: string | undefined): Promise<Claim> {
    const row = clientId ? this.find.get(clientId) : undefined;
    if (clientId && row) {
      // Hashing both sides gives equal lengths, so the comparison takes the same time whatever was sent.
      if (secret !== undefined && timingSafeEqual(hashSecret(secret), row.secret_sha256)) {
        const at = this.now();
        return this.enqueue(() => this.touch.run(at, clientId), { kind: 'reclaimed', clientId });
      }
      return Promise.resolve({ kind: 'refused', clientId });
    }
    return this.issue();
  }

  private issue(): Promise<Claim> {
    for (;;) {
      const clientId = this.newId();
      // A counter id from an earlier hub on this data folder, or one issued in this batch.
      if (this.issuing.has(clientId) || this.find.get(clientId)) continue;
      const secret = randomBytes(32).toString('base64url');
      const at = this.now();
      const hash = hashSecret(secret);
      this.issuing.add(clientId);
      return this.enqueue(() => this.insert.run(clientId, hash, at, at), { kind: 'issued', clientId, secret });
    }
  }

  private enqueue(write: () => void, claim: Claim): Promise<Claim> {
    return new Promise<Claim>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ write, settle: (error) => (error === undefined ? resolve(claim) : reject(error)) });
    });
  }

  /** Commits the batch; if the transaction fails, every claim in it fails and nothing of it was written. */
  private flush(): void {
    const writes = this.pending;
    this.pending = [];
    try {
      this.commit(writes);
    } catch (error) {
      this.issuing.clear();
      for (const w of writes) w.settle(error);
      return;
    }
    this.issuing.clear();
    for (const w of writes) w.settle();
  }
}
