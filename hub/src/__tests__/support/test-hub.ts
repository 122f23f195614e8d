import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { FlatWeights, HubStatus, RunDetail, TaskId } from '@fl/shared';
import { createModel, readWeights } from '@fl/shared/models';
import { buildApp, type HubOptions } from '../../app';
import { defaultMnistDir } from '../../data/mnist-files';
import { buildMnistSprites } from '../../../scripts/build-mnist';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../../sim/headless-client';
import { waitFor } from './wait-for';

export const ADMIN_TOKEN = 'test-admin-token';

export interface TestHub {
  app: FastifyInstance;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'fl-hub-test-'));
}

/** Ids from a counter (`buildApp`'s `newId`), so that clients and runs get the same ids in every test run. */
export function sequentialIds(prefix = 'id'): () => string {
  let next = 0;
  return () => `${prefix}-${++next}`;
}

/** One set of fresh weights per task, made once: hubs given it start every run from the same model. */
export function fixedInitialWeights(): (task: TaskId) => FlatWeights {
  const initial = new Map<TaskId, FlatWeights>();
  return (task) => {
    if (!initial.has(task)) {
      const model = createModel(task);
      initial.set(task, readWeights(model));
      model.dispose();
    }
    return initial.get(task)!;
  };
}

/** A real hub on an ephemeral port with its own storage. */
export async function startTestHub(options: Partial<HubOptions> = {}): Promise<TestHub> {
  const mnistDir = defaultMnistDir();
  await buildMnistSprites(mnistDir, { log: () => {} });
  const dataDir = options.dataDir ?? tempDataDir();
  const app = await buildApp({ dataDir, adminToken: ADMIN_TOKEN, mnistDir, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, dataDir, close: () => app.close() };
}

export function startMnistClients(hub: TestHub, count: number, prefix = 'test') {
  const data = mnistProvider(hubMnistLoader(hub.url));
  return Array.from({ length: count }, (_, i) => startHeadlessClient({ hubUrl: hub.url, name: `${prefix}-${i + 1}`, data }));
}

export async function status(hub: TestHub): Promise<HubStatus> {
  return (await hub.app.inject({ method: 'GET', url: '/api/status' })).json() as HubStatus;
}

export async function launch(hub: TestHub, body: object, token: string | null = ADMIN_TOKEN) {
  return hub.app.inject({
    method: 'POST',
    url: '/api/runs',
    payload: body,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

export async function runDetail(hub: TestHub, id: string): Promise<RunDetail> {
  return (await hub.app.inject({ method: 'GET', url: `/api/runs/${id}` })).json() as RunDetail;
}

export async function waitForRunEnd(hub: TestHub, id: string, timeoutMs = 120_000): Promise<RunDetail> {
  return waitFor(
    async () => {
      const run = await runDetail(hub, id);
      // Held-out evaluations run in their own thread after each commit: the run's record is whole once none is pending.
      return run.status !== 'running' && run.rounds.every((r) => r.evaluation !== 'pending') ? run : null;
    },
    { timeoutMs, intervalMs: 200, what: `run ${id} to end, its evaluations stored` },
  );
}

export async function waitForClients(hub: TestHub, count: number): Promise<HubStatus> {
  return waitFor(
    async () => {
      const s = await status(hub);
      return s.clients.filter((c) => c.state !== 'lost').length === count ? s : null;
    },
    { what: `${count} connected clients` },
  );
}
