import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog as captured } from './support/log-capture';
import type { JoinReply } from '@fl/shared';
import { mnistJoinRequest, connectRaw, emitAck, outcome } from './support/raw-client';
import { ADMIN_TOKEN, startTestHub, type TestHub } from './support/test-hub';

const JOIN_TOKEN = 'join-token-that-must-not-be-logged';

describe('tokens and client secrets never reach the log', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('logs no admin or join token from URLs, headers or joins, one line at most per API request and none for pages', async () => {
    const log = captured();
    hub = await startTestHub({ joinToken: JOIN_TOKEN, logger: { level: 'trace', stream: log.stream } });
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${hub!.url}${path}`, { headers });
    const pageLines = () => log.lines.length;
    const beforePages = pageLines();

    await get(`/?token=${ADMIN_TOKEN}`);
    await get(`/client/?join=${JOIN_TOKEN}`);
    await get(`/data/mnist/nothing.png?token=${ADMIN_TOKEN}`);
    const afterPages = pageLines();
    await get(`/api/status?token=${ADMIN_TOKEN}&join=${JOIN_TOKEN}`);
    await get(`/api/nowhere?token=${ADMIN_TOKEN}`, { authorization: `Bearer ${ADMIN_TOKEN}` });
    await fetch(`${hub.url}/api/runs?token=${ADMIN_TOKEN}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'mnist', rounds: 'many', token: ADMIN_TOKEN }),
    });
    await fetch(`${hub.url}/api/runs`, { method: 'POST', headers: { authorization: `Bearer ${JOIN_TOKEN}` }, body: '{}' });

    const socket = await connectRaw(hub.url);
    expect(outcome(await emitAck(socket, 'client:join', mnistJoinRequest('wrong', { joinToken: `${JOIN_TOKEN}-wrong` })))).toBe('HUB_ERR_UNAUTHORIZED');
    expect(outcome(await emitAck(socket, 'client:join', { ...mnistJoinRequest('bad'), joinToken: JOIN_TOKEN, kind: 'robot' }))).toBe(
      'HUB_ERR_INVALID_PAYLOAD',
    );
    const joined = (await emitAck<JoinReply>(socket, 'client:join', mnistJoinRequest('ok', { joinToken: JOIN_TOKEN }))) as { data: JoinReply };
    const secret = joined.data.clientSecret!;
    const thief = await connectRaw(hub.url);
    const claim = { clientId: joined.data.clientId, clientSecret: `${secret.slice(1)}x`, joinToken: JOIN_TOKEN };
    expect(outcome(await emitAck(thief, 'client:join', mnistJoinRequest('thief', claim)))).toBe('HUB_ERR_CLIENT_CLAIMED');
    thief.disconnect();
    socket.disconnect();
    await hub.close();
    hub = undefined;

    const leaks = log.lines.filter((line) => [ADMIN_TOKEN, JOIN_TOKEN, secret, claim.clientSecret].some((t) => line.includes(t)));
    expect(leaks).toEqual([]);
    expect(afterPages).toBe(beforePages);
    const requestLines = log.lines.filter((line) => JSON.parse(line).msg === 'request');
    expect(requestLines.map((line) => JSON.parse(line).path)).toEqual(['/api/status', '/api/nowhere', '/api/runs', '/api/runs']);
  });
});
