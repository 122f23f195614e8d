import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { CLIENT_NAMESPACE, type AckResponse } from '@fl/shared';
import { startTestHub, type TestHub } from '../../__tests__/support/test-hub';

const joinRequest = { name: 'sec', kind: 'headless', data: { task: 'mnist' }, backend: { name: 'wasm' } };

describe('security', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('sends security headers and a content security policy', async () => {
    hub = await startTestHub();
    const response = await hub.app.inject({ url: '/api/status' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-frame-options']).toBeDefined();
  });

  it('allows no string evaluation in pages, only wasm compilation, and connections only to the hub and the configured origins', async () => {
    hub = await startTestHub({ corsOrigins: ['https://lab-machine:8443'] });
    const response = await hub.app.inject({ url: '/api/status', headers: { host: 'hub.local:5000' } });
    const policy = Object.fromEntries(
      String(response.headers['content-security-policy'])
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(policy['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(policy['connect-src']).toEqual(["'self'", 'ws://hub.local:5000', 'wss://hub.local:5000', 'https://lab-machine:8443', 'wss://lab-machine:8443']);
    // A Host header cannot add directives.
    const forged = await hub.app.inject({ url: '/api/status', headers: { host: "x; script-src 'unsafe-eval'" } });
    expect(String(forged.headers['content-security-policy'])).not.toContain("'unsafe-eval'");
  });

  it('allows cross-origin requests only from the configured origins', async () => {
    hub = await startTestHub({ corsOrigins: ['http://lab-machine:5000'] });
    const allowed = await hub.app.inject({ url: '/api/status', headers: { origin: 'http://lab-machine:5000' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('http://lab-machine:5000');
    const other = await hub.app.inject({ url: '/api/status', headers: { origin: 'http://elsewhere' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('rate-limits HTTP requests per address with 429 HUB_ERR_RATE_LIMITED', async () => {
    hub = await startTestHub({ rateLimitPerMinute: 5 });
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await hub.app.inject({ url: '/api/status' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await hub.app.inject({ url: '/api/status' });
    expect(refused.json()).toMatchObject({ error: { code: 'HUB_ERR_RATE_LIMITED' } });
  });

  it('refuses joins beyond the per-address limit with HUB_ERR_RATE_LIMITED', async () => {
    hub = await startTestHub({ joinsPerMinute: 2 });
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = io(`${hub.url}${CLIENT_NAMESPACE}`, { transports: ['websocket'], forceNew: true });
      const reply = (await socket.timeout(10_000).emitWithAck('client:join', joinRequest)) as AckResponse<unknown>;
      answers.push('error' in reply ? reply.error.code : 'joined');
      socket.disconnect();
    }
    expect(answers).toEqual(['joined', 'joined', 'HUB_ERR_RATE_LIMITED']);
  });

  it('behind a trusted proxy (TRUST_PROXY) counts HTTP requests by the address it forwarded, and ignores the header from anyone else', async () => {
    hub = await startTestHub({ rateLimitPerMinute: 2, trustProxy: ['loopback'] });
    const from = (client: string, remoteAddress = '127.0.0.1') => hub!.app.inject({ url: '/api/status', remoteAddress, headers: { 'x-forwarded-for': client } }).then((r) => r.statusCode);
    const codes = [await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.2')];
    expect(codes).toEqual([200, 200, 429, 200]);
    // Not from the proxy: the header is the sender's claim, and the sender's own address is counted.
    const direct = [await from('203.0.113.3', '198.51.100.7'), await from('203.0.113.4', '198.51.100.7'), await from('203.0.113.5', '198.51.100.7')];
    expect(direct).toEqual([200, 200, 429]);
  });

  it('behind a trusted proxy counts joins by the forwarded address; without TRUST_PROXY the header changes nothing', async () => {
    const joinFrom = async (url: string, forwardedFor: string) => {
      const socket = io(`${url}${CLIENT_NAMESPACE}`, { transports: ['websocket'], forceNew: true, extraHeaders: { 'x-forwarded-for': forwardedFor } });
      const reply = (await socket.timeout(10_000).emitWithAck('client:join', joinRequest)) as AckResponse<unknown>;
      socket.disconnect();
      return 'error' in reply ? reply.error.code : 'joined';
    };
    hub = await startTestHub({ joinsPerMinute: 2, trustProxy: 1 });
    const behind = [];
    for (const client of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2']) behind.push(await joinFrom(hub.url, client));
    expect(behind).toEqual(['joined', 'joined', 'HUB_ERR_RATE_LIMITED', 'joined']);
    await hub.close();

    hub = await startTestHub({ joinsPerMinute: 2 });
    const spoofed = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) spoofed.push(await joinFrom(hub.url, client));
    expect(spoofed).toEqual(['joined', 'joined', 'HUB_ERR_RATE_LIMITED']);
  });

  it('serves HTTPS and WSS with TLS_CERT/TLS_KEY', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    hub = await startTestHub({ https: { cert, key: readFileSync(join(dir, 'key.pem')) } });
    const url = hub.url.replace('http://', 'https://');
    const body = await new Promise<string>((resolve, reject) => {
      request(`${url}/api/status`, { ca: cert }, (res) => {
        let data = '';
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => resolve(data));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(body)).toMatchObject({ status: 'idle' });
    const socket = io(`${url}${CLIENT_NAMESPACE}`, { transports: ['websocket'], forceNew: true, ca: cert.toString() });
    const reply = (await socket.timeout(10_000).emitWithAck('client:join', joinRequest)) as AckResponse<{ clientId: string }>;
    socket.disconnect();
    expect('data' in reply && reply.data.clientId).toBeTruthy();
  });
});
