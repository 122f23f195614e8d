import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { PgRunStore } from '../../pg-store';
import { SqliteRunStore } from '../../sqlite-run-store';
import type { RunStore } from '../../store-port';
import { startPostgres, type PostgresServer } from '../../../cluster/services/postgres';

// The engines the shared RunStore suite runs on. Each test gets an empty store of its own: a fresh
// folder for SQLite, a fresh database on the file's PostgreSQL server.

export interface OpenOptions {
  keepCheckpoints?: number;
  newId?: () => string;
  now?: () => number;
}

/** One test's store location: open it (again), and count rows behind the store's back. */
export interface StoreLocation {
  open(options?: OpenOptions): Promise<RunStore>;
  /** `from`: a table, with a WHERE clause if need be. */
  count(from: string): Promise<number>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  start(): Promise<void>;
  stop(): Promise<void>;
  fresh(): Promise<StoreLocation>;
}

let counter = 0;
const defaultIds = () => `client-${++counter}`;

const sqlite: Backend = {
  name: 'sqlite',
  async start() {},
  async stop() {},
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'fl-run-store-'));
    return {
      async open(options = {}) {
        return SqliteRunStore.open(dir, { newId: options.newId ?? defaultIds, now: options.now }, { keepCheckpoints: options.keepCheckpoints });
      },
      async count(from) {
        const db = new Database(join(dir, 'hub.sqlite'), { readonly: true });
        try {
          return (db.prepare(`SELECT COUNT(*) AS n FROM ${from}`).get() as { n: number }).n;
        } finally {
          db.close();
        }
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(): Backend {
  let server: PostgresServer | undefined;
  const running = () => {
    if (!server) throw new Error('the PostgreSQL test server did not start (see the error in beforeAll)');
    return server;
  };
  return {
    name: 'postgres',
    async start() {
      server = await startPostgres();
    },
    async stop() {
      await server?.stop();
    },
    async fresh() {
      const url = await running().createDatabase();
      return {
        async open(options = {}) {
          return PgRunStore.open(url, { newId: options.newId ?? defaultIds, now: options.now }, { keepCheckpoints: options.keepCheckpoints });
        },
        async count(from) {
          const [row] = await running().query<{ n: number }>(url, `SELECT COUNT(*)::int AS n FROM ${from}`);
          return row!.n;
        },
        async dispose() {},
      };
    },
  };
}

export const backends = (): Backend[] => [sqlite, postgres()];

/** Inside a describe: the backend up for the file, a fresh location and an open store for each test. */
export function useStore(backend: Backend, options?: () => OpenOptions) {
  let location: StoreLocation | undefined;
  let store: RunStore | undefined;
  beforeAll(() => backend.start());
  afterAll(() => backend.stop());
  beforeEach(async () => {
    location = await backend.fresh();
    store = await location.open(options?.());
  });
  afterEach(async () => {
    const open = store;
    store = undefined;
    await open?.close();
    await location?.dispose();
    location = undefined;
  });
  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`no ${what}: beforeEach failed`);
    return value;
  };
  return {
    get store() {
      return required(store, 'store');
    },
    get location() {
      return required(location, 'store location');
    },
    /** Closes the test's store and opens its location again, as a restarted hub does. */
    async reopen(next?: OpenOptions): Promise<RunStore> {
      const open = store;
      store = undefined;
      await open?.close();
      store = await required(location, 'store location').open(next ?? options?.());
      return store;
    },
  };
}
