import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { CLIENT_NAMESPACE, DASHBOARD_NAMESPACE } from '@fl/shared';
import { originAllowed } from '../socket/origin-check';
import { startTestHub, type TestHub } from './support/test-hub';

describe('originAllowed', () => {
  it.each([
    [undefined, 'hub:5000', [], true],
    ['http://hub:5000', 'hub:5000', [], true],
    ['https://hub:5000', 'hub:5000', [], true],
    ['HTTP://Hub:5000', 'hub:5000', [], true],
    ['http://lab:8080', 'hub:5000', ['http://lab:8080'], true],
    ['http://lab:8080', 'hub:5000', ['http://lab:8080/'], true],
    ['http://evil.example', 'hub:5000', ['http://lab:8080'], false],
    ['http://hub:5001', 'hub:5000', [], false],
    ['http://hub:5000.evil.example', 'hub:5000', [], false],
    ['null', 'hub:5000', [], false],
    ['http://hub:5000', undefined, [], false],
  ] as const)('origin %s with Host %s and CORS_ORIGINS %j: %s', (origin, host, allowed, expected) => {
    expect(originAllowed(origin, host, allowed)).toBe(expected);
  });
});

/** Resolves 'connected' or the connect_error message; never reconnects. */
function tryConnect(url: string, origin: string | null, transport: 'websocket' | 'polling' = 'websocket'): Promise<string> {
  const socket: Socket = io(url, {
    transports: [transport],
    reconnection: false,
    forceNew: true,
    ...(origin ? { extraHeaders: { origin } } : {}),
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.once('connect_error', (error) => {
      socket.disconnect();
      resolve(`refused: ${error.message}`);
    });
  });
}

describe('Socket.IO handshakes are checked against the Origin', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('refuses another site’s page on both namespaces and both transports; accepts the hub’s own origin, CORS_ORIGINS and Node clients', async () => {
    hub = await startTestHub({ corsOrigins: ['http://lab-machine:8080'] });
    const clients = `${hub.url}${CLIENT_NAMESPACE}`;
    const dashboards = `${hub.url}${DASHBOARD_NAMESPACE}`;
    const results = {
      evilClient: await tryConnect(clients, 'http://evil.example'),
      evilDashboard: await tryConnect(dashboards, 'http://evil.example'),
      evilPolling: await tryConnect(clients, 'http://evil.example', 'polling'),
      own: await tryConnect(clients, hub.url),
      ownDashboard: await tryConnect(dashboards, hub.url),
      configured: await tryConnect(clients, 'http://lab-machine:8080'),
      node: await tryConnect(clients, null),
    };
    expect(results).toEqual({
      evilClient: expect.stringMatching(/^refused/),
      evilDashboard: expect.stringMatching(/^refused/),
      evilPolling: expect.stringMatching(/^refused/),
      own: 'connected',
      ownDashboard: 'connected',
      configured: 'connected',
      node: 'connected',
    });
  });
});
