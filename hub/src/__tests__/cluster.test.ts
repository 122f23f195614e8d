import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import pg from 'pg';
import { createClient } from 'redis';
import { DASHBOARD_NAMESPACE, type HubStatus, type ParticipationRecord, type RunDetail } from '@fl/shared';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { startCluster, type Cluster, type HubNode } from '../cluster/launch-cluster';
import type { ClusterNodeView } from '../cluster/cluster-nodes';
import { freePort } from '../cluster/services/processes';
import { defaultMnistDir } from '../data/mnist-files';
import { buildMnistSprites } from '../../scripts/build-mnist';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../sim/headless-client';
import { ADMIN_TOKEN, startTestHub, tempDataDir } from './support/test-hub';
import { waitFor } from './support/wait-for';
import { closeAll, midTraining, type HeadlessClient } from './support/scenario';

// Three hub nodes on one PostgreSQL and one Redis behind nginx (all real, started by the test in temporary
// folders), nine headless MNIST clients through nginx, spread over the nodes: the node holding the engine lease runs
// the rounds, the others relay their clients to it (each folds its clients' updates into one partial sum per round),
// serve the same records and dashboards, and one of them takes over when the leader dies.

const RUN = { task: 'mnist', rounds: 3, minClients: 9, batchSize: 64, epochs: 1, init: 'fresh', seed: 11, roundTimeoutSec: 120 } as const;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

async function launchAt(url: string): Promise<string> {
  const response = await fetch(`${url}/api/runs`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(RUN) });
  const body = (await response.json()) as { id?: string; error?: unknown };
  if (response.status !== 201) throw new Error(`launch answered ${response.status}: ${JSON.stringify(body)}`);
  return body.id!;
}

/** Nine clients, each joined before the next starts: the join order (which decides shards and seeds) is the same on every hub. */
async function joinClients(url: string, prefix: string): Promise<HeadlessClient[]> {
  const data = mnistProvider(hubMnistLoader(url));
  const clients: HeadlessClient[] = [];
  for (let i = 0; i < 9; i++) {
    clients.push(startHeadlessClient({ hubUrl: url, name: `${prefix}-${i + 1}`, data }));
    await waitFor(async () => (await getJson<HubStatus>(`${url}/api/status`)).clientCount === i + 1, { timeoutMs: 60_000, what: `${i + 1} clients joined` });
  }
  return clients;
}

/** The run once it ended and every committed round's evaluation is stored. */
async function finished(url: string, runId: string): Promise<RunDetail> {
  return waitFor(
    async () => {
      const run = await getJson<RunDetail>(`${url}/api/runs/${runId}`);
      return run.status !== 'running' && run.rounds.every((r) => r.evaluation !== 'pending') ? run : null;
    },
    { timeoutMs: 300_000, intervalMs: 250, what: `run ${runId} to end` },
  );
}

async function finalWeights(url: string): Promise<Float32Array> {
  const response = await fetch(`${url}/api/models/mnist/weights.bin`);
  return new Float32Array(await response.arrayBuffer());
}

async function checkpointRounds(databaseUrl: string, runId: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ round: number }>('SELECT round FROM checkpoints WHERE run_id = $1 ORDER BY round', [runId])).rows.map((r) => r.round);
  } finally {
    await client.end();
  }
}

const participants = async (url: string, runId: string, round: number) =>
  (await getJson<ParticipationRecord[]>(`${url}/api/runs/${runId}/rounds/${round}/clients`)).map((p) => p.clientId).sort();

describe('three hub nodes behind nginx on PostgreSQL and Redis', () => {
  let cluster: Cluster;
  let clients: HeadlessClient[] = [];
  const sockets: Socket[] = [];

  const leader = async (): Promise<HubNode> => {
    const { nodes } = await getJson<{ nodes: ClusterNodeView[] }>(`${cluster.url}/api/cluster`, admin);
    const id = nodes.find((n) => n.leader)?.id;
    return cluster.nodes.find((n) => n.id === id)!;
  };

  beforeAll(async () => {
    await initWasmBackend();
    await buildMnistSprites(defaultMnistDir(), { log: () => {} });
    cluster = await startCluster({ nodes: 3, port: await freePort(), env: { ...process.env, ADMIN_TOKEN, DATA_DIR: tempDataDir(), LOG_LEVEL: 'warn' }, restart: false });
    clients = await joinClients(cluster.url, 'c');
  }, 240_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    closeAll(clients);
    await cluster?.stop();
  });

  it('runs 3 MNIST rounds through nginx: every node serves the same history, a dashboard on a standby follows a run launched on another, and the model equals a one-node run', async () => {
    const lead = await leader();
    const [b, c] = cluster.nodes.filter((n) => n !== lead);
    // Asked of a standby, the list comes from the nodes' heartbeats (every 2 s): nginx (least_conn) spread the 9 clients.
    const nodes = await waitFor(
      async () => {
        const list = (await getJson<{ nodes: ClusterNodeView[] }>(`${b!.url}/api/cluster`, admin)).nodes;
        return list.reduce((n, node) => n + node.clients, 0) === 9 ? list : null;
      },
      { timeoutMs: 10_000, what: 'the heartbeats to count the 9 clients' },
    );
    expect(nodes.map((n) => [n.id, n.leader]).sort()).toEqual(cluster.nodes.map((n) => [n.id, n === lead]).sort());
    expect(nodes.every((n) => n.clients >= 1), JSON.stringify(nodes)).toBe(true);

    const updates: RunDetail[] = [];
    const dashboard = io(`${b!.url}${DASHBOARD_NAMESPACE}`, { transports: ['websocket'] });
    sockets.push(dashboard);
    dashboard.on('run:update', (run: RunDetail) => updates.push(run));
    await new Promise<void>((resolve) => dashboard.once('connect', () => resolve()));

    const runId = await launchAt(c!.url); // a standby: it hands the launch to the leader
    const run = await finished(cluster.url, runId);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'completed', reason: null });
    expect(run.rounds.map((r) => [r.round, r.status, r.clients])).toEqual([
      [1, 'completed', 9],
      [2, 'completed', 9],
      [3, 'completed', 9],
    ]);
    expect(run.rounds[2]!.accuracy).toBeGreaterThan(0.85);
    for (const node of cluster.nodes) expect(await getJson<RunDetail>(`${node.url}/api/runs/${runId}`)).toEqual(run);
    await waitFor(() => updates.some((u) => u.id === runId && u.status === 'completed' && u.rounds.length === 3), { what: 'the dashboard on a standby to see the run end' });

    // Hierarchical FedAvg: each standby handed the leader one partial sum per round in which it had clients, never an update.
    for (const node of [b!, c!]) {
      const { relay } = await getJson<{ relay: { sent: { wholeUpdates: number; heldUpdates: number; partials: number } } }>(`${node.url}/api/cluster/forwarded`, admin);
      const clientsThere = nodes.find((n) => n.id === node.id)!.clients;
      expect({ whole: relay.sent.wholeUpdates, held: relay.sent.heldUpdates, partials: relay.sent.partials }).toEqual({ whole: 0, held: 3 * clientsThere, partials: 3 });
    }

    // Only dashboard events went through Redis: no relay-link message (model frames, partial sums) and no client message.
    const redis = createClient({ url: cluster.redisUrl });
    await redis.connect();
    try {
      const namespaces = new Set((await redis.xRange('socket.io', '-', '+')).map((entry) => String(entry.message.nsp)));
      expect([...namespaces]).toEqual(['/dashboard']);
    } finally {
      await redis.quit();
    }

    const clustered = await finalWeights(cluster.url);
    const single = await startTestHub({ dataDir: tempDataDir() });
    const singleClients = await joinClients(single.url, 'c');
    try {
      const response = await fetch(`${single.url}/api/runs`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(RUN) });
      const reference = await finished(single.url, ((await response.json()) as { id: string }).id);
      expect(reference.rounds.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
      const alone = await finalWeights(single.url);
      expect(alone.length).toBe(clustered.length);
      const worst = alone.reduce((m, v, i) => Math.max(m, Math.abs(v - clustered[i]!)), 0);
      expect(worst).toBeLessThan(1e-5);
    } finally {
      closeAll(singleClients);
      await single.close();
    }
  });

  it("completes a run when a standby is killed in round 2: its clients continue on the other nodes under the same ids", async () => {
    const lead = await leader();
    const standby = cluster.nodes.find((n) => n !== lead)!;
    const runId = await launchAt(cluster.url);
    await waitFor(async () => {
      const s = await getJson<HubStatus>(`${cluster.url}/api/status`);
      return s.run?.round === 2 && s.clients.some((cl) => midTraining(s, cl.id) !== null);
    }, { timeoutMs: 120_000, intervalMs: 100, what: 'round 2 in training' });
    const relayed = (await getJson<{ nodes: ClusterNodeView[] }>(`${cluster.url}/api/cluster`, admin)).nodes.find((n) => n.id === standby.id)!.clients;
    expect(relayed).toBeGreaterThanOrEqual(1);
    await standby.kill('SIGKILL');
    const run = await finished(cluster.url, runId);
    expect(run.rounds.map((r) => [r.round, r.status, r.clients])).toEqual([
      [1, 'completed', 9],
      [2, 'completed', 9],
      [3, 'completed', 9],
    ]);
    expect(await participants(cluster.url, runId, 3)).toEqual(await participants(cluster.url, runId, 1));
  });

  it('completes a run when the leader is killed in round 2: another node takes the lease and resumes, each round committed once, the clients keep their ids', async () => {
    const lead = await leader();
    const runId = await launchAt(cluster.url);
    await waitFor(async () => {
      const s = await getJson<HubStatus>(`${cluster.url}/api/status`);
      return s.run?.round === 2 && s.clients.some((cl) => midTraining(s, cl.id) !== null);
    }, { timeoutMs: 120_000, intervalMs: 100, what: 'round 2 in training' });
    const before = await getJson<RunDetail>(`${cluster.url}/api/runs/${runId}`);
    expect(before.rounds.map((r) => [r.round, r.status])).toEqual([[1, 'completed']]);
    const killedAt = Date.now();
    await lead.kill('SIGKILL');

    const next = await waitFor(async () => {
      try {
        const { nodes } = await getJson<{ nodes: ClusterNodeView[] }>(`${cluster.url}/api/cluster`, admin);
        const id = nodes.find((n) => n.leader && n.id !== lead.id)?.id;
        return id ? cluster.nodes.find((n) => n.id === id) : null;
      } catch {
        return null;
      }
    }, { timeoutMs: 15_000, intervalMs: 100, what: 'another node to take the lease' });
    expect(next).not.toBe(lead);
    expect(Date.now() - killedAt).toBeLessThan(15_000);

    const run = await finished(cluster.url, runId);
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'completed', reason: null });
    expect(run.rounds.filter((r) => r.status === 'completed').map((r) => r.round)).toEqual([1, 2, 3]);
    expect(run.rounds[0]!.weightsHash).toBe(before.rounds[0]!.weightsHash);
    // One checkpoint per committed round (and round 0's): no round was committed twice across the failover.
    expect(await checkpointRounds(cluster.databaseUrl, runId)).toEqual([0, 1, 2, 3]);
    expect(await participants(cluster.url, runId, 3)).toEqual(await participants(cluster.url, runId, 1));
  });
});
