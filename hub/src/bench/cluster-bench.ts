import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { encodeWeights } from '@fl/shared';
import { createModel, readWeights } from '@fl/shared/models';
import { startCluster } from '../cluster/launch-cluster';
import { freePort } from '../cluster/services/processes';
import { BENCH_TOKEN, launchRun, waitForClientCount, waitForRun } from './bench-hub';
import { startLoadFleet } from './load-fleet';

/** One configuration's run: its rounds' wall times and what crossed between the nodes. */
export interface ClusterSide {
  nodes: number;
  /** Each round's duration as the run record has it (start to commit). */
  roundMs: number[];
  /** What Redis received and sent during the run (the Socket.IO adapter's traffic between the nodes). */
  redisBytes: number;
  /** Bytes the nodes sent each other over HTTP during the run (standbys forwarding to the leader), as the nodes count them. */
  forwardedBytes: number;
  /** Bytes over the relay links during the run (the relaying nodes' clients, their partial sums, the models sent to them), as the leader counts them. */
  relayBytes: number;
  /** What the relaying nodes handed the leader during the run: partial sums, and the updates they held for them or handed on whole. */
  relayed: { partials: number; partialBytes: number; binaryBytes: number; heldUpdates: number; wholeUpdates: number };
  /** The adapter's messages added to its Redis stream during the run, by namespace: count and bytes of their fields. */
  streamByNamespace: Record<string, { messages: number; bytes: number }>;
}

export interface ClusterBenchResults {
  clients: number;
  rounds: number;
  trainMs: number;
  /** One node on PostgreSQL and Redis, clients connected to it directly. */
  one: ClusterSide;
  /** Three nodes behind nginx, clients through nginx. */
  three: ClusterSide;
  /** Mean round of three nodes over the mean round of one. */
  ratio: number;
  /** The bytes of the updates a round carries: clients x one update frame of the MNIST model. */
  updateBytesPerRound: number;
  /** Between the three nodes per round (Redis, forwarded HTTP and the relay links) over the updates' bytes per round. */
  betweenNodesVsUpdates: number;
}

function redisTraffic(url: string): Promise<number> {
  return withRedis(url, async (client) => {
    const info = await client.info('stats');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    return field('total_net_input_bytes') + field('total_net_output_bytes');
  });
}

/** The Socket.IO adapter's stream (@socket.io/redis-streams-adapter's default name). */
const ADAPTER_STREAM = 'socket.io';

async function withRedis<T>(url: string, fn: (client: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const client = createClient({ url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.quit();
  }
}

/** The id of the adapter stream's newest entry ('0' when empty). */
const lastStreamId = (url: string) => withRedis(url, async (c) => (await c.xRevRange(ADAPTER_STREAM, '+', '-', { COUNT: 1 }))[0]?.id ?? '0');

/** The adapter's messages after `fromId`, summed by namespace. */
function streamSince(url: string, fromId: string): Promise<Record<string, { messages: number; bytes: number }>> {
  return withRedis(url, async (c) => {
    const out: Record<string, { messages: number; bytes: number }> = {};
    for (const entry of await c.xRange(ADAPTER_STREAM, `(${fromId}`, '+')) {
      const nsp = String(entry.message.nsp ?? '?');
      const bytes = Object.entries(entry.message).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(String(v)), 0);
      const slot = (out[nsp] ??= { messages: 0, bytes: 0 });
      slot.messages += 1;
      slot.bytes += bytes;
    }
    return out;
  });
}

async function side(nodes: number, o: { clients: number; rounds: number; trainMs: number; log: (m: string) => void }): Promise<ClusterSide> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-bench-cluster-'));
  // Behind nginx (and here, from one machine) every client has the same address: the per-address limits must let them all in.
  const env = { ...process.env, ADMIN_TOKEN: BENCH_TOKEN, DATA_DIR: dataDir, LOG_LEVEL: 'warn', JOINS_PER_MINUTE: '1000000', RATE_LIMIT_PER_MINUTE: '1000000' };
  const cluster = await startCluster({ nodes, port: await freePort(), env, restart: false });
  try {
    const url = nodes === 1 ? cluster.nodes[0]!.url : cluster.url;
    const fleet = await startLoadFleet(url, o.clients, o.trainMs);
    try {
      await waitForClientCount(url, o.clients);
      const urls = cluster.nodes.map((n) => n.url);
      const before = { redis: await redisTraffic(cluster.redisUrl), traffic: await nodeTraffic(urls), stream: await lastStreamId(cluster.redisUrl) };
      const id = await launchRun(url, { task: 'mnist', rounds: o.rounds, minClients: o.clients, roundTimeoutSec: 120, seed: 1, init: 'fresh' });
      const run = await waitForRun(url, id);
      if (run.status !== 'completed') throw new Error(`the ${nodes}-node run ended ${run.status}: ${run.reason}`);
      const redisBytes = (await redisTraffic(cluster.redisUrl)) - before.redis;
      const after = await nodeTraffic(urls);
      const forwarded = after.forwarded - before.traffic.forwarded;
      const relayBytes = after.relayBytes - before.traffic.relayBytes;
      const relayed = {
        partials: after.partials - before.traffic.partials,
        partialBytes: after.partialBytes - before.traffic.partialBytes,
        binaryBytes: after.binaryBytes - before.traffic.binaryBytes,
        heldUpdates: after.heldUpdates - before.traffic.heldUpdates,
        wholeUpdates: after.wholeUpdates - before.traffic.wholeUpdates,
      };
      const streamByNamespace = await streamSince(cluster.redisUrl, before.stream);
      const roundMs = run.rounds.map((r) => r.durationMs);
      o.log(
        `   ${nodes} node${nodes > 1 ? 's' : ''}: rounds ${roundMs.map((m) => `${m} ms`).join(', ')}; Redis ${redisBytes} B, forwarded ${forwarded} B, relay links ${relayBytes} B in the run (${JSON.stringify(relayed)}); stream ${JSON.stringify(streamByNamespace)}`,
      );
      return { nodes, roundMs, redisBytes, forwardedBytes: forwarded, relayBytes, relayed, streamByNamespace };
    } finally {
      await fleet.close();
    }
  } finally {
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Forwarded {
  bytes: number;
  relay: {
    sent: { partials: number; partialBytes: number; heldUpdates: number; wholeUpdates: number } | null;
    received: { linkBytes: number; binaryBytes: number };
  } | null;
}

/** What the nodes have passed between them so far (GET /api/cluster/forwarded of each, summed). */
async function nodeTraffic(urls: string[]) {
  const total = { forwarded: 0, relayBytes: 0, partials: 0, partialBytes: 0, binaryBytes: 0, heldUpdates: 0, wholeUpdates: 0 };
  for (const url of urls) {
    const response = await fetch(`${url}/api/cluster/forwarded`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
    if (!response.ok) throw new Error(`${url}/api/cluster/forwarded answered ${response.status}`);
    const { bytes, relay } = (await response.json()) as Forwarded;
    total.forwarded += bytes;
    // The leader counts the links' bytes; each relaying node what it handed on.
    total.relayBytes += relay?.received.linkBytes ?? 0;
    total.binaryBytes += relay?.received.binaryBytes ?? 0;
    total.partials += relay?.sent?.partials ?? 0;
    total.partialBytes += relay?.sent?.partialBytes ?? 0;
    total.heldUpdates += relay?.sent?.heldUpdates ?? 0;
    total.wholeUpdates += relay?.sent?.wholeUpdates ?? 0;
  }
  return total;
}

/** Rounds through three nodes behind nginx vs one node, the same lightweight clients in load workers for both. */
export async function benchCluster(o: { clients: number; rounds: number; trainMs: number; log: (m: string) => void }): Promise<ClusterBenchResults> {
  const one = await side(1, o);
  const three = await side(3, o);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const model = createModel('mnist');
  const frameBytes = encodeWeights(readWeights(model)).byteLength;
  model.dispose();
  const updateBytesPerRound = o.clients * frameBytes;
  const betweenPerRound = (three.redisBytes + three.forwardedBytes + three.relayBytes) / o.rounds;
  return {
    clients: o.clients,
    rounds: o.rounds,
    trainMs: o.trainMs,
    one,
    three,
    ratio: mean(three.roundMs) / mean(one.roundMs),
    updateBytesPerRound,
    betweenNodesVsUpdates: betweenPerRound / updateBytesPerRound,
  };
}
