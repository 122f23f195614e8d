import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientIdentities } from '../client-identities';

// Group commit of client identities: claims of one moment share a transaction, and none resolves before it is
// committed, so a secret never reaches a client while the hub could still lose it.
describe('ClientIdentities', () => {
  let dir: string;
  let db: Database.Database;
  let reader: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-identities-'));
    db = new Database(join(dir, 'hub.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  });

  afterEach(() => {
    reader?.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const counterIds = (names: string[]) => {
    let i = 0;
    return () => names[i++] ?? `id-${i}`;
  };
  const committedIds = () => (reader.prepare('SELECT client_id FROM client_identities ORDER BY client_id').all() as { client_id: string }[]).map((r) => r.client_id);

  it('commits the claims of one moment together, and each resolves only after the commit', async () => {
    const identities = new ClientIdentities(db, counterIds(['a', 'b', 'c']));
    reader = new Database(join(dir, 'hub.db'), { readonly: true });
    const claims = [identities.claim(undefined, undefined), identities.claim(undefined, undefined), identities.claim('unknown', 'x')];
    // Nothing is visible to another connection yet: the batch waits for the end of this turn of the event loop.
    expect(committedIds()).toEqual([]);
    const seenAtResolve: string[][] = [];
    const results = await Promise.all(claims.map((c) => c.then((claim) => (seenAtResolve.push(committedIds()), claim))));
    expect(results.map((r) => [r.kind, r.clientId])).toEqual([['issued', 'a'], ['issued', 'b'], ['issued', 'c']]);
    // Whichever claim resolved first already saw all three rows: one transaction.
    expect(seenAtResolve).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
  });

  it('reclaims with the secret, refuses without it, and never issues an id twice within a batch', async () => {
    // The id source repeats itself, as a counter restarted on the same data folder would.
    const identities = new ClientIdentities(db, counterIds(['a', 'a', 'b']));
    const [first, second] = await Promise.all([identities.claim(undefined, undefined), identities.claim(undefined, undefined)]);
    expect([first!.clientId, second!.clientId]).toEqual(['a', 'b']);
    const secret = first!.kind === 'issued' ? first!.secret : '';
    expect(await identities.claim('a', secret)).toEqual({ kind: 'reclaimed', clientId: 'a' });
    expect(await identities.claim('a', 'wrong')).toEqual({ kind: 'refused', clientId: 'a' });
    expect(await identities.claim('a', undefined)).toEqual({ kind: 'refused', clientId: 'a' });
  });

  it('fails every claim of a batch whose transaction fails, and writes none of it', async () => {
    const identities = new ClientIdentities(db, counterIds(['a', 'bad', 'c']));
    db.exec(`CREATE TRIGGER refuse_bad BEFORE INSERT ON client_identities WHEN NEW.client_id = 'bad' BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    reader = new Database(join(dir, 'hub.db'), { readonly: true });
    const outcomes = await Promise.allSettled([identities.claim(undefined, undefined), identities.claim(undefined, undefined), identities.claim(undefined, undefined)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committedIds()).toEqual([]);
    // The next batch works.
    db.exec('DROP TRIGGER refuse_bad');
    const next = await identities.claim(undefined, undefined);
    expect(next.kind).toBe('issued');
    expect(committedIds()).toEqual([next.clientId]);
  });
});
