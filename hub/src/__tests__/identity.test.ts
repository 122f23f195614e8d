import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { join as joinPath } from 'node:path';
import type { AckResponse, JoinReply } from '@fl/shared';
import { buildApp } from '../app';
import { defaultMnistDir } from '../data/mnist-files';
import { buildMnistSprites } from '../../scripts/build-mnist';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../sim/headless-client';
import { freePort } from './support/hub-process';
import { connectRaw, emitAck, mnistJoinRequest, outcome, type RawSocket } from './support/raw-client';
import { ADMIN_TOKEN, launch, startTestHub, status, tempDataDir, type TestHub } from './support/test-hub';
import { waitFor } from './support/wait-for';

const LIMITS = { joinsPerMinute: 1000 };

describe('client identity: only the holder of a client id may speak for it', () => {
  const hubs: TestHub[] = [];
  const sockets: RawSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const h of hubs.splice(0)) await h.close();
  });

  async function hubOn(dataDir = tempDataDir()): Promise<TestHub> {
    const hub = await startTestHub({ ...LIMITS, dataDir });
    hubs.push(hub);
    return hub;
  }
  async function socketTo(hub: TestHub): Promise<RawSocket> {
    const socket = await connectRaw(hub.url);
    sockets.push(socket);
    return socket;
  }
  async function join(socket: RawSocket, name: string, extra: Record<string, unknown> = {}): Promise<AckResponse<JoinReply>> {
    return emitAck<JoinReply>(socket, 'client:join', mnistJoinRequest(name, extra));
  }
  function joined(reply: AckResponse<JoinReply>): JoinReply {
    if ('error' in reply) throw new Error(`join refused: ${reply.error.code}`);
    return reply.data;
  }

  it('issues a 256-bit secret at the first join, once, and stores only its SHA-256', async () => {
    const hub = await hubOn();
    const first = joined(await join(await socketTo(hub), 'first'));
    expect(first.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes in base64url
    const again = joined(await join(await socketTo(hub), 'first', { clientId: first.clientId, clientSecret: first.clientSecret }));
    expect(again.clientId).toBe(first.clientId);
    expect(again.clientSecret).toBeUndefined();

    const db = new Database(joinPath(hub.dataDir, 'hub.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT * FROM client_identities').all() as Record<string, unknown>[];
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_sha256).toEqual(createHash('sha256').update(first.clientSecret!).digest());
    expect(JSON.stringify(rows)).not.toContain(first.clientSecret);
  });

  it('refuses a join naming a live client’s id without its secret; the holder keeps its connection and receives its round', async () => {
    const hub = await hubOn();
    const victimSocket = await socketTo(hub);
    const rounds: unknown[] = [];
    victimSocket.on('round:start', (start: unknown) => rounds.push(start));
    const victim = joined(await join(victimSocket, 'victim'));

    const attacker = await socketTo(hub);
    const attackerRounds: unknown[] = [];
    attacker.on('round:start', (start: unknown) => attackerRounds.push(start));
    expect(outcome(await join(attacker, 'attacker', { clientId: victim.clientId }))).toBe('HUB_ERR_CLIENT_CLAIMED');
    expect(outcome(await join(attacker, 'attacker', { clientId: victim.clientId, clientSecret: 'A'.repeat(43) }))).toBe('HUB_ERR_CLIENT_CLAIMED');
    expect(outcome(await join(attacker, 'attacker', { clientId: victim.clientId, clientSecret: victim.clientSecret!.slice(0, -1) }))).toBe(
      'HUB_ERR_CLIENT_CLAIMED',
    );
    expect(outcome(await emitAck(attacker, 'update:submit', {}))).toBe('HUB_ERR_INVALID_PAYLOAD');

    expect(victimSocket.connected).toBe(true);
    const s = await status(hub);
    expect(s.clients.map((c) => [c.id, c.name, c.state])).toEqual([[victim.clientId, 'victim', 'idle']]);

    const launched = await launch(hub, { task: 'mnist', rounds: 1, minClients: 1, roundTimeoutSec: 3600 });
    expect(launched.statusCode).toBe(201);
    await waitFor(() => rounds.length === 1, { what: 'the victim’s round:start' });
    expect(victimSocket.connected).toBe(true);
    expect(attackerRounds).toEqual([]);
  });

  it('lets the holder reclaim its id on a new connection with the secret, which replaces the old connection', async () => {
    const hub = await hubOn();
    const old = await socketTo(hub);
    const first = joined(await join(old, 'mover'));
    const fresh = await socketTo(hub);
    const again = joined(await join(fresh, 'mover', { clientId: first.clientId, clientSecret: first.clientSecret }));
    expect(again.clientId).toBe(first.clientId);
    await waitFor(() => !old.connected, { what: 'the stale connection to be closed' });
    expect(fresh.connected).toBe(true);
    // A join again on the proven connection (a rename) needs no secret.
    expect(joined(await join(fresh, 'renamed', { clientId: first.clientId })).clientId).toBe(first.clientId);
  });

  it('gives an id this hub never issued a fresh id and secret', async () => {
    const hub = await hubOn();
    const reply = joined(await join(await socketTo(hub), 'stranger', { clientId: 'made-up-id', clientSecret: 'x' }));
    expect(reply.clientId).not.toBe('made-up-id');
    expect(reply.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('still accepts the secret after a restart on the same data folder, and still refuses a wrong one', async () => {
    const dataDir = tempDataDir();
    const before = await hubOn(dataDir);
    const first = joined(await join(await socketTo(before), 'survivor'));
    await before.close();
    hubs.splice(hubs.indexOf(before), 1);

    const after = await hubOn(dataDir);
    expect(outcome(await join(await socketTo(after), 'thief', { clientId: first.clientId }))).toBe('HUB_ERR_CLIENT_CLAIMED');
    const again = joined(await join(await socketTo(after), 'survivor', { clientId: first.clientId, clientSecret: first.clientSecret }));
    expect(again.clientId).toBe(first.clientId);
  });

  it('a headless client keeps its id across a hub restart (the secret lives in its memory)', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const mnistDir = defaultMnistDir();
    const start = async () => {
      const app = await buildApp({ dataDir, adminToken: ADMIN_TOKEN, mnistDir, ...LIMITS });
      await app.listen({ port, host: '127.0.0.1' });
      return app;
    };
    await buildMnistSprites(mnistDir, { log: () => {} });
    let app = await start();
    const url = `http://127.0.0.1:${port}`;
    const headless = startHeadlessClient({ hubUrl: url, name: 'headless', data: mnistProvider(hubMnistLoader(url)) });
    try {
      const id = await waitFor(() => headless.client.state.clientId, { what: 'the headless client to join' });
      await app.close();
      app = await start();
      await waitFor(
        async () => {
          const s = (await app.inject({ url: '/api/status' })).json() as { clients: { id: string }[] };
          return s.clients.some((c) => c.id === id);
        },
        { what: 'the headless client to rejoin under its id' },
      );
      expect(headless.client.state).toMatchObject({ clientId: id, lastError: null });
    } finally {
      headless.client.close();
      await app.close();
    }
  });
});
