import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgRunStore } from '../pg-store';
import { PG_SCHEMA_VERSION } from '../pg-schema';
import { findPostgresBinaries, startPostgres, type PostgresServer } from '../../cluster/services/postgres';
import { completedRound, mnist, weights } from './support/store-fixtures';

// What only the PostgreSQL store has: a schema version, several hubs on one database, BIGINT limits, and the
// test server's own checks. The behaviours both stores share are in run-store*.test.ts.

const identity = () => {
  let n = 0;
  return { newId: () => `client-${++n}` };
};

describe('PgRunStore', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());

  it('creates its schema on a fresh database and records version 2', async () => {
    const url = await server.createDatabase();
    const store = await PgRunStore.open(url, identity());
    await store.close();
    expect(await server.query(url, 'SELECT version FROM store_schema')).toEqual([{ version: PG_SCHEMA_VERSION }]);
    expect(PG_SCHEMA_VERSION).toBe(2);
  });

  it('opens one fresh database from several hubs at once, each with a working store and one schema row', async () => {
    const url = await server.createDatabase();
    const opened = await Promise.allSettled(Array.from({ length: 6 }, () => PgRunStore.open(url, identity(), { maxConnections: 2 })));
    const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      expect(opened.filter((o) => o.status === 'rejected')).toEqual([]);
      await stores[0]!.createRun('run-1', mnist, 1, weights(1));
      expect(await stores[5]!.runsWithStatus('running')).toEqual(['run-1']);
      expect(await server.query(url, 'SELECT count(*)::int AS n FROM store_schema')).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('gives two hubs on one database different client ids even when their counters agree', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([PgRunStore.open(url, identity()), PgRunStore.open(url, identity())]);
    try {
      const claims = await Promise.all([a!.claimIdentity(undefined, undefined), b!.claimIdentity(undefined, undefined)]);
      expect(claims.map((c) => c.kind)).toEqual(['issued', 'issued']);
      expect(new Set(claims.map((c) => c.clientId))).toEqual(new Set(['client-1', 'client-2']));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('refuses a database written by a newer hub with HUB_ERR_STORE_SCHEMA and changes nothing in it', async () => {
    const url = await server.createDatabase();
    const store = await PgRunStore.open(url, identity());
    await store.createRun('run-1', mnist, 1, weights(1));
    await store.close();
    await server.query(url, 'UPDATE store_schema SET version = $1', [PG_SCHEMA_VERSION + 1]);
    await expect(PgRunStore.open(url, identity())).rejects.toMatchObject({ code: 'HUB_ERR_STORE_SCHEMA', message: expect.stringContaining(`version ${PG_SCHEMA_VERSION + 1}`) });
    expect(await server.query(url, 'SELECT version FROM store_schema')).toEqual([{ version: PG_SCHEMA_VERSION + 1 }]);
    expect(await server.query(url, 'SELECT id FROM runs')).toEqual([{ id: 'run-1' }]);
  });

  it('brings a version-1 database up to version 2 with the engine lease and node tables, keeping its runs', async () => {
    const url = await server.createDatabase();
    const first = await PgRunStore.open(url, identity());
    await first.createRun('run-1', mnist, 1, weights(1));
    await first.close();
    await server.query(url, 'DROP TABLE cluster_lease; DROP TABLE cluster_nodes; UPDATE store_schema SET version = 1');
    const store = await PgRunStore.open(url, identity());
    await store.close();
    expect(await server.query(url, 'SELECT version FROM store_schema')).toEqual([{ version: 2 }]);
    expect(await server.query(url, 'SELECT name, epoch::int AS epoch FROM cluster_lease')).toEqual([{ name: 'engine', epoch: 0 }]);
    expect(await server.query(url, 'SELECT count(*)::int AS n FROM cluster_nodes')).toEqual([{ n: 0 }]);
    expect(await server.query(url, 'SELECT id FROM runs')).toEqual([{ id: 'run-1' }]);
  });

  it('refuses every engine write under an old lease epoch with HUB_ERR_STORE_FENCED and stores nothing of it; reads still work', async () => {
    const url = await server.createDatabase();
    const store = await PgRunStore.open(url, identity());
    try {
      await server.query(url, "UPDATE cluster_lease SET epoch = 7 WHERE name = 'engine'");
      store.fenceWith(7);
      await store.createRun('run-1', mnist, 1, weights(1));
      await store.completeRound(completedRound('run-1', 1));
      // Another node took the lease.
      await server.query(url, "UPDATE cluster_lease SET epoch = 8 WHERE name = 'engine'");
      const fenced = { name: 'StoreError', code: 'HUB_ERR_STORE_FENCED', message: expect.stringContaining('epoch 8') };
      await expect(store.createRun('run-2', mnist, 2, weights(2))).rejects.toMatchObject(fenced);
      await expect(store.completeRound(completedRound('run-1', 2))).rejects.toMatchObject(fenced);
      await expect(store.failRound('run-1', 2, 'late', 1, 3)).rejects.toMatchObject(fenced);
      await expect(store.finishRun('run-1', 'completed', null, 4)).rejects.toMatchObject(fenced);
      await expect(store.setRoundEvaluation('run-1', 1, 0.9, 0.1)).rejects.toMatchObject(fenced);
      await expect(store.setShardOwners('run-1', ['a'])).rejects.toMatchObject(fenced);
      await expect(store.setClientTest('run-1', 0, { samples: 1, accuracy: 1 })).rejects.toMatchObject(fenced);
      expect(await server.query(url, 'SELECT id, status, shard_owners, initial_test FROM runs')).toEqual([{ id: 'run-1', status: 'running', shard_owners: null, initial_test: null }]);
      expect(await server.query(url, 'SELECT round, status, accuracy FROM rounds')).toEqual([{ round: 1, status: 'completed', accuracy: null }]);
      expect((await store.run('run-1'))!.rounds).toHaveLength(1);
      // Under the new epoch the same store writes again.
      store.fenceWith(8);
      await store.finishRun('run-1', 'completed', null, 5);
      expect((await store.run('run-1'))!.status).toBe('completed');
    } finally {
      await store.close();
    }
  });

  it('fails a read whose BIGINT does not fit a JavaScript number rather than losing digits', async () => {
    const url = await server.createDatabase();
    const store = await PgRunStore.open(url, identity());
    try {
      await store.createRun('run-1', mnist, 1, weights(1));
      await server.query(url, "UPDATE runs SET created_at = 9007199254740993 WHERE id = 'run-1'");
      await expect(store.run('run-1')).rejects.toThrow(/9007199254740993 is beyond a safe JavaScript integer/);
      // The pool is still usable afterwards.
      expect(await store.runsWithStatus('running')).toEqual(['run-1']);
    } finally {
      await store.close();
    }
  });

  it('rejects the open when no server answers at the URL', async () => {
    const nowhere = mkdtempSync(join(tmpdir(), 'fl-pg-nowhere-'));
    try {
      await expect(PgRunStore.open(`postgresql://fl@localhost/x?host=${encodeURIComponent(nowhere)}&port=5432`, identity())).rejects.toThrow(/ENOENT|ECONNREFUSED/);
    } finally {
      rmSync(nowhere, { recursive: true, force: true });
    }
  });
});

describe('the PostgreSQL test server', () => {
  it("fails with a message naming Debian's postgresql package when no server binaries are installed", () => {
    const empty = mkdtempSync(join(tmpdir(), 'fl-pg-bin-'));
    try {
      mkdirSync(join(empty, '15', 'bin'), { recursive: true });
      writeFileSync(join(empty, '15', 'bin', 'psql'), ''); // a client alone is not a server
      expect(() => findPostgresBinaries(empty, undefined)).toThrow(/Debian's `postgresql` package.*scripts\/install\.sh/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('takes the newest installed major version', () => {
    const root = mkdtempSync(join(tmpdir(), 'fl-pg-bin-'));
    try {
      for (const v of ['9', '15', '13']) {
        mkdirSync(join(root, v, 'bin'), { recursive: true });
        for (const tool of ['initdb', 'pg_ctl']) writeFileSync(join(root, v, 'bin', tool), '');
      }
      expect(findPostgresBinaries(root, undefined)).toBe(join(root, '15', 'bin'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
