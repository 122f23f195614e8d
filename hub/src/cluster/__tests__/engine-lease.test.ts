import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineLease } from '../engine-lease';
import { PgRunStore } from '../../store/pg-store';
import { startPostgres, type PostgresServer } from '../services/postgres';

// The engine lease on a real PostgreSQL: one holder at a time, a new epoch at each taking, and a standby that
// takes over when the holder's session ends, whether it gave the lease back or its connection was cut.

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

interface Events {
  acquired: number[];
  lost: Error[];
  taken: Promise<number>;
}

function watched(): { events: Events; onAcquired: (epoch: number) => void; onLost: (error: Error) => void } {
  let resolve!: (epoch: number) => void;
  const events: Events = { acquired: [], lost: [], taken: new Promise<number>((r) => (resolve = r)) };
  return {
    events,
    onAcquired: (epoch) => {
      events.acquired.push(epoch);
      resolve(epoch);
    },
    onLost: (error) => events.lost.push(error),
  };
}

describe('EngineLease', () => {
  let server: PostgresServer;
  const leases: EngineLease[] = [];

  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(leases.map((l) => l.close()));
    await server?.stop();
  });

  async function database(): Promise<string> {
    const url = await server.createDatabase();
    await (await PgRunStore.open(url, { newId: () => 'x' })).close(); // the schema, with the lease row
    return url;
  }

  async function lease(url: string, nodeId: string, w: ReturnType<typeof watched>): Promise<EngineLease> {
    const l = await EngineLease.start({ databaseUrl: url, nodeId, pollMs: 50, log: quiet, onAcquired: w.onAcquired, onLost: w.onLost });
    leases.push(l);
    return l;
  }

  it('goes to one node; the other takes it with the next epoch once the first gives it back', async () => {
    const url = await database();
    const a = watched();
    const b = watched();
    const first = await lease(url, 'node-a', a);
    const second = await lease(url, 'node-b', b);
    // start() resolves after the first try: the first node holds it, the second keeps trying.
    expect(a.events.acquired).toEqual([1]);
    expect(first.leader).toBe(true);
    expect(b.events.acquired).toEqual([]);
    expect(second.leader).toBe(false);
    expect(await server.query(url, "SELECT holder, epoch::int AS epoch FROM cluster_lease WHERE name = 'engine'")).toEqual([{ holder: 'node-a', epoch: 1 }]);

    await first.close();
    expect(await b.events.taken).toBe(2);
    expect(second.leader).toBe(true);
    expect(a.events.lost).toEqual([]);
    expect(await server.query(url, "SELECT holder, epoch::int AS epoch FROM cluster_lease WHERE name = 'engine'")).toEqual([{ holder: 'node-b', epoch: 2 }]);
  });

  it("tells the holder it lost the lease when its session is cut, and a standby takes it over", async () => {
    const url = await database();
    const a = watched();
    const b = watched();
    await lease(url, 'node-a', a);
    const standby = await lease(url, 'node-b', b);
    expect(standby.leader).toBe(false);
    const lost = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (a.events.lost.length) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    // What a killed process or a cut network does to the holder's session, done from outside.
    await server.query(url, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted");
    await lost;
    expect(await b.events.taken).toBe(2);
    expect(a.events.acquired).toEqual([1]);
  });

  it('gives the lease back when the engine does not start, so that another node can lead', async () => {
    const url = await database();
    const failing = await EngineLease.start({
      databaseUrl: url,
      nodeId: 'node-a',
      pollMs: 60_000,
      log: quiet,
      onAcquired: () => Promise.reject(new Error('the store cannot be read')),
      onLost: () => {},
    });
    leases.push(failing);
    expect(failing.leader).toBe(false);
    const b = watched();
    await lease(url, 'node-b', b);
    expect(b.events.acquired).toEqual([2]);
  });
});
