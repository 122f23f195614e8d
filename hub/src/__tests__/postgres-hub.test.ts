import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParticipationRecord } from '@fl/shared';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { startPostgres, type PostgresServer } from '../cluster/services/postgres';
import { tempDataDir } from './support/test-hub';
import { waitFor } from './support/wait-for';
import { clientIdOf, closeAll, mnistClientsAt, type HeadlessClient } from './support/scenario';
import { freePort, processRun, processStatus, startHubProcess, type HubProcess } from './support/hub-process';

// The hub with DATABASE_URL: every record in a real PostgreSQL server (its own, in a temporary folder),
// none in DATA_DIR, so that a hub started anywhere else on the same database carries on where it stopped.

describe('a hub on PostgreSQL (DATABASE_URL)', () => {
  let server: PostgresServer;
  let hub: HubProcess | null = null;
  let clients: HeadlessClient[] = [];

  beforeAll(async () => {
    await initWasmBackend();
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    closeAll(clients);
    await hub?.kill('SIGTERM');
    await server?.stop();
  });

  it('keeps a run in PostgreSQL: killed with SIGKILL after round 1, a hub on another, empty data folder resumes it with the same client ids and it learns', async () => {
    const env = { DATABASE_URL: await server.createDatabase() };
    const port = await freePort();
    const firstDir = tempDataDir();
    hub = await startHubProcess({ port, dataDir: firstDir, env });
    clients = mnistClientsAt(hub.url, 2, 'pg');
    await waitFor(async () => (await processStatus(hub!)).clients.length === 2, { what: '2 clients on the hub process' });
    const ids = (await Promise.all(clients.map(clientIdOf))).sort();

    const launched = await hub.postJson('/api/runs', { task: 'mnist', rounds: 3, minClients: 2, batchSize: 64, epochs: 1, init: 'fresh', seed: 5, roundTimeoutSec: 60 });
    expect(launched.status).toBe(201);
    const runId = (launched.json as { id: string }).id;
    await waitFor(async () => (await processRun(hub!, runId)).rounds.some((r) => r.round === 1 && r.status === 'completed'), {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: 'round 1 committed',
    });
    const before = await processRun(hub, runId);
    await hub.kill('SIGKILL');

    // What the killed hub committed is in the database, whatever it was doing when it died.
    const stored = await server.query<{ round: number; sha256: string }>(env.DATABASE_URL, 'SELECT round, sha256 FROM checkpoints WHERE run_id = $1 AND round = 1', [runId]);
    expect(stored).toEqual([{ round: 1, sha256: before.rounds.find((r) => r.round === 1)!.weightsHash }]);

    const secondDir = tempDataDir();
    hub = await startHubProcess({ port, dataDir: secondDir, env });
    const run = await waitFor(
      async () => {
        const r = await processRun(hub!, runId);
        // Evaluations of committed rounds (round 1's too, left pending by the kill) are stored after the run ends.
        return r.status !== 'running' && r.rounds.every((round) => round.evaluation !== 'pending') ? r : null;
      },
      { timeoutMs: 240_000, intervalMs: 250, what: `run ${runId} to end and be evaluated on the second hub` },
    );
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'completed', reason: null });
    const completed = run.rounds.filter((r) => r.status === 'completed');
    expect(completed.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(completed[0]!.weightsHash).toBe(before.rounds[0]!.weightsHash);
    expect(completed[2]!.accuracy).toBeGreaterThan(0.8);
    expect(completed[2]!.accuracy).toBeGreaterThan(completed[0]!.accuracy!);
    // One checkpoint per committed round, and round 0's: no round was committed twice across the crash.
    const checkpoints = await server.query<{ round: number }>(env.DATABASE_URL, 'SELECT round FROM checkpoints WHERE run_id = $1 ORDER BY round', [runId]);
    expect(checkpoints.map((c) => c.round)).toEqual([0, 1, 2, 3]);

    // The clients proved their ids to the second hub with the secrets the first one issued (kept in PostgreSQL).
    const response = await fetch(`${hub.url}/api/runs/${runId}/rounds/3/clients`);
    const last = (await response.json()) as ParticipationRecord[];
    expect(last.map((p) => p.clientId).sort()).toEqual(ids);
    expect(existsSync(join(firstDir, 'hub.sqlite')) || existsSync(join(secondDir, 'hub.sqlite'))).toBe(false);
  });
});
