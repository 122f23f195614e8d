import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { io, type Socket } from 'socket.io-client';
import type { AckResponse, HubStatus, RunDetail } from '@fl/shared';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { buildApp } from '../../app';
import { defaultMnistDir } from '../../data/mnist-files';
import { buildMnistSprites } from '../../../scripts/build-mnist';
import { startPostgres, type PostgresServer } from '../services/postgres';
import { freePort } from '../services/processes';
import { RELAY_NAMESPACE } from '../relay-protocol';
import { ADMIN_TOKEN, tempDataDir } from '../../__tests__/support/test-hub';
import { waitFor } from '../../__tests__/support/wait-for';
import { closeAll, mnistClientsAt, type HeadlessClient } from '../../__tests__/support/scenario';

// Two hub nodes on one real PostgreSQL, no load balancer: node A takes the engine lease, node B relays. Two MNIST
// clients connect to each. B checks its clients' updates, has the leader accept their envelopes, and folds them
// into one partial sum per round, which the leader takes when the round closes (hierarchical FedAvg).

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const RUN = { task: 'mnist', rounds: 2, minClients: 4, batchSize: 64, epochs: 1, init: 'fresh', seed: 5, roundTimeoutSec: 120 } as const;

interface Node {
  app: FastifyInstance;
  url: string;
}

interface Forwarded {
  relay: {
    sent: { wholeUpdates: number; heldUpdates: number; heldUpdateBytes: number; heldMasked: number; wholeMasked: number; partials: number; partialBytes: number } | null;
    received: { messages: number; binaryBytes: number; wholeUpdates: number; partials: number; partialBytes: number };
  } | null;
}

async function startNode(databaseUrl: string, id: string): Promise<Node> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = await buildApp({ dataDir: tempDataDir(), adminToken: ADMIN_TOKEN, mnistDir: defaultMnistDir(), databaseUrl, nodeId: id, nodeUrl: url, leasePollMs: 200 });
  await app.listen({ port, host: '127.0.0.1' });
  return { app, url };
}

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url, { headers: admin })).json()) as T;

async function runToEnd(at: string, settings: object): Promise<RunDetail> {
  const response = await fetch(`${at}/api/runs`, { method: 'POST', headers: admin, body: JSON.stringify({ ...RUN, ...settings }) });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  return waitFor(
    async () => {
      const run = await getJson<RunDetail>(`${at}/api/runs/${id}`);
      return run.status !== 'running' && run.rounds.every((r) => r.evaluation !== 'pending') ? run : null;
    },
    { timeoutMs: 240_000, intervalMs: 250, what: `run ${id} to end` },
  );
}

describe('a relaying hub node: hierarchical FedAvg over a real PostgreSQL', () => {
  let server: PostgresServer;
  let a: Node;
  let b: Node;
  let clients: HeadlessClient[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    await initWasmBackend();
    await buildMnistSprites(defaultMnistDir(), { log: () => {} });
    server = await startPostgres();
    const databaseUrl = await server.createDatabase();
    a = await startNode(databaseUrl, 'node-a');
    b = await startNode(databaseUrl, 'node-b');
    // B relays once it reached the leader; then 2 clients join at A and 2 at B.
    await waitFor(async () => (await fetch(`${b.url}/`)).ok && (await getJson<Forwarded>(`${b.url}/api/cluster/forwarded`)).relay !== null, { what: 'B to answer' });
    clients = [...mnistClientsAt(a.url, 2, 'at-a'), ...mnistClientsAt(b.url, 2, 'at-b')];
    await waitFor(async () => (await getJson<HubStatus>(`${a.url}/api/status`)).clientCount === 4, { timeoutMs: 60_000, what: '4 clients on the leader' });
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    closeAll(clients);
    await b?.app.close();
    await a?.app.close();
    await server?.stop();
  });

  it('FedAvg: B hands the leader one partial sum per round, never its clients\' updates, and the model learns', async () => {
    // Asked of A, B's count comes from its heartbeat (every 2 s).
    const nodes = await waitFor(
      async () => {
        const list = (await getJson<{ nodes: { id: string; leader: boolean; clients: number }[] }>(`${a.url}/api/cluster`)).nodes;
        return list.every((n) => n.clients === 2) ? list : null;
      },
      { timeoutMs: 10_000, what: "B's heartbeat to count its 2 clients" },
    );
    expect(nodes.map((n) => [n.id, n.leader, n.clients]).sort()).toEqual([
      ['node-a', true, 2],
      ['node-b', false, 2],
    ]);
    const run = await runToEnd(b.url, { strategy: 'fedavg' });
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'completed', reason: null });
    expect(run.rounds.map((r) => [r.round, r.status, r.clients])).toEqual([
      [1, 'completed', 4],
      [2, 'completed', 4],
    ]);
    expect(run.rounds[1]!.accuracy).toBeGreaterThan(0.8);
    const relayed = (await getJson<Forwarded>(`${b.url}/api/cluster/forwarded`)).relay!.sent!;
    const leader = (await getJson<Forwarded>(`${a.url}/api/cluster/forwarded`)).relay!.received;
    expect({ whole: relayed.wholeUpdates, held: relayed.heldUpdates, partials: relayed.partials }).toEqual({ whole: 0, held: 4, partials: 2 });
    expect({ whole: leader.wholeUpdates, partials: leader.partials, bytes: leader.partialBytes }).toEqual({ whole: 0, partials: 2, bytes: relayed.partialBytes });
    // A partial is the model's values in float64 (8 bytes each; an update frame has 4 and a header), whatever the clients behind it.
    const frameBytes = relayed.heldUpdateBytes / relayed.heldUpdates;
    const partialBytes = relayed.partialBytes / relayed.partials;
    expect(partialBytes).toBeGreaterThan(1.99 * frameBytes);
    expect(partialBytes).toBeLessThan(2 * frameBytes);
    // The round's model crossed to B once per round (one broadcast for both of its clients), not once per client.
    expect(leader.binaryBytes).toBeGreaterThanOrEqual(run.rounds.length * frameBytes);
    expect(leader.binaryBytes).toBeLessThan(run.rounds.length * frameBytes * 1.5);
  });

  it('a robust strategy gets every update: B hands them on whole, and the run completes', async () => {
    const before = (await getJson<Forwarded>(`${b.url}/api/cluster/forwarded`)).relay!.sent!;
    const run = await runToEnd(a.url, { strategy: 'median', rounds: 1 });
    expect(run.rounds.map((r) => [r.round, r.status, r.clients])).toEqual([[1, 'completed', 4]]);
    const after = (await getJson<Forwarded>(`${b.url}/api/cluster/forwarded`)).relay!.sent!;
    expect({ whole: after.wholeUpdates - before.wholeUpdates, partials: after.partials - before.partials }).toEqual({ whole: 2, partials: 0 });
  });

  it('secure aggregation with distributed DP noise across the nodes: B sums its clients\' masked inputs modulo 2^32, relays their keys, shares and reveals, and the run learns', async () => {
    const before = (await getJson<Forwarded>(`${b.url}/api/cluster/forwarded`)).relay!.sent!;
    const run = await runToEnd(a.url, { rounds: 2, secureAggregation: true, dp: { noiseMultiplier: 0.05, clipNorm: 1, delta: 1e-5, noise: 'distributed' } });
    expect({ status: run.status, reason: run.reason }).toEqual({ status: 'completed', reason: null });
    expect(run.rounds.map((r) => [r.round, r.status, r.clients])).toEqual([
      [1, 'completed', 4],
      [2, 'completed', 4],
    ]);
    for (const r of run.rounds) expect(r.note).toMatch(/secure aggregation.*differential privacy: 4 of 4 drawn clients' changes, distributed noise/);
    expect(run.rounds[1]!.accuracy).toBeGreaterThan(0.7);
    // B summed its two clients' masked inputs modulo 2^32 and handed the leader one sum per round, still masked.
    const after = (await getJson<Forwarded>(`${b.url}/api/cluster/forwarded`)).relay!.sent!;
    expect({
      heldMasked: after.heldMasked - before.heldMasked,
      wholeMasked: after.wholeMasked - before.wholeMasked,
      partials: after.partials - before.partials,
      updates: after.heldUpdates - before.heldUpdates + after.wholeUpdates - before.wholeUpdates,
    }).toEqual({ heldMasked: 4, wholeMasked: 0, partials: 2, updates: 0 });
  });

  it('refuses a relay without the admin token, and relayed messages that are malformed or speak for a client that did not join through it', async () => {
    const refused = io(`${a.url}${RELAY_NAMESPACE}`, { auth: { token: 'wrong', nodeId: 'x' }, transports: ['websocket'], reconnection: false });
    sockets.push(refused);
    const error = await new Promise<{ data?: { code?: string } }>((resolve) => refused.once('connect_error', resolve));
    expect(error.data?.code).toBe('HUB_ERR_UNAUTHORIZED');

    const relay = io(`${a.url}${RELAY_NAMESPACE}`, { auth: { token: ADMIN_TOKEN, nodeId: 'node-test' }, transports: ['websocket'], reconnection: false });
    sockets.push(relay);
    await new Promise<void>((resolve) => relay.once('connect', () => resolve()));
    const ask = (message: unknown) => relay.timeout(10_000).emitWithAck('relay:event', message) as Promise<AckResponse<unknown>>;
    expect(await ask({ clientId: 'c', event: 'client:explode', payload: {} })).toMatchObject({ error: { code: 'HUB_ERR_INVALID_PAYLOAD' } });
    expect(await ask({ clientId: 'c', event: 'client:join', payload: { name: 42 } })).toMatchObject({ error: { code: 'HUB_ERR_INVALID_PAYLOAD' } });
    // A client of node B (or of the leader itself) is not this relay's to speak for.
    const someone = (await getJson<HubStatus>(`${a.url}/api/status`)).clients[0]!.id;
    const held = { runId: 'r', round: 1, samples: 10, metrics: { loss: 1, accuracy: 0.5, trainMs: 1 }, bytes: 10 };
    expect(await ask({ clientId: someone, event: 'update:held', payload: held })).toMatchObject({ error: { code: 'HUB_ERR_NOT_JOINED' } });
    expect((await getJson<HubStatus>(`${a.url}/api/status`)).clientCount).toBe(4);
  });
});
