import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from 'socket.io-client';
import { CLIENT_NAMESPACE, DASHBOARD_NAMESPACE, encodeWeights, type AckResponse, type JoinReply } from '@fl/shared';
import { messageFuzzer } from './support/message-fuzzer';
import { ADMIN_TOKEN, launch, runDetail, startTestHub, status, waitForRunEnd, type TestHub } from './support/test-hub';
import { waitFor } from './support/wait-for';
import {
  connectRaw,
  emitAck,
  joinRaw,
  mnistJoinRequest,
  outcome,
  updateFor,
  type RawClient,
  type RawSocket,
  type ReceivedRound,
} from './support/raw-client';
import { scaledEventBudget } from '../socket/event-budget';
import { sqliteOf } from '../app';

/** Generous limits: these tests join many sockets from one address and fuzz 1,000 messages per socket. */
const HUB_LIMITS = { rateLimitPerMinute: 100_000, joinsPerMinute: 100_000, eventBudget: scaledEventBudget(1000) };

/** What must not move when the hub refuses a message: the round's state and every stored weight. */
function hubSnapshot(hub: TestHub, runId: string) {
  const run = hub.app.coordinator.engineState.run;
  return {
    run: run && { id: run.id, round: run.round, phase: run.phase, submitted: run.submitted.toObject() },
    storedRounds: sqliteOf(hub.app).run(runId)!.rounds.map((r) => [r.round, r.status, r.weightsHash]),
    initialHash: sqliteOf(hub.app).checkpoint(runId, 0)!.sha256,
    latestHash: sqliteOf(hub.app).latestCheckpoint('mnist')?.sha256 ?? null,
  };
}

describe('bad input from training clients while a round collects updates', () => {
  let hub: TestHub;
  let runId = '';
  /** A submits a valid update in the duplicate test; B stays pending so the round keeps collecting. */
  let a: RawClient;
  let b: RawClient;
  let roundA: ReceivedRound;
  let roundB: ReceivedRound;
  let initialHash = '';
  const extra: RawSocket[] = [];

  beforeAll(async () => {
    hub = await startTestHub(HUB_LIMITS);
    a = await joinRaw(hub.url, 'raw-a');
    b = await joinRaw(hub.url, 'raw-b');
    const response = await launch(hub, { task: 'mnist', rounds: 2, minClients: 2, roundTimeoutSec: 3600, init: 'fresh' });
    expect(response.statusCode).toBe(201);
    runId = (response.json() as { id: string }).id;
    roundA = await a.round(runId, 1);
    roundB = await b.round(runId, 1);
    initialHash = sqliteOf(hub.app).checkpoint(runId, 0)!.sha256;
  });

  afterAll(async () => {
    for (const socket of extra) socket.disconnect();
    a?.close();
    b?.close();
    await hub?.close();
  });

  /** Sends one message, expects the code, and checks that nothing changed and the hub still answers. */
  async function expectRefused(socket: RawSocket, event: string, payload: unknown, code: string): Promise<void> {
    const before = hubSnapshot(hub, runId);
    const response = await emitAck(socket, event, payload);
    expect(outcome(response)).toBe(code);
    expect((response as { error: { message: string } }).error.message).toEqual(expect.any(String));
    expect(hubSnapshot(hub, runId)).toEqual(before);
    expect((await hub.app.inject({ url: '/api/status' })).statusCode).toBe(200);
    expect(socket.connected).toBe(true);
  }

  async function freshSocket(): Promise<RawSocket> {
    const socket = await connectRaw(hub.url);
    extra.push(socket);
    return socket;
  }

  it('sends round:start with the global weights and a shard to both participants', () => {
    expect(roundA.shardSize).toBe(4000);
    expect(roundB.shardSize).toBe(4000);
    expect(hubSnapshot(hub, runId).run).toMatchObject({ round: 1, phase: 'training', submitted: {} });
  });

  it('answers an unknown event with HUB_ERR_UNKNOWN_EVENT', async () => {
    await expectRefused(b.socket, 'weights:please', { round: 1 }, 'HUB_ERR_UNKNOWN_EVENT');
  });

  it.each([
    ['no fields', {}],
    ['no backend', { name: 'x', kind: 'headless', data: { task: 'mnist' } }],
    ['a numeric name', mnistJoinRequest('x', { name: 5 })],
    ['an empty name', mnistJoinRequest('')],
    ['a name over 80 characters', mnistJoinRequest('n'.repeat(81))],
    ['an unknown kind', mnistJoinRequest('x', { kind: 'robot' })],
    ['an unknown task', mnistJoinRequest('x', { data: { task: 'cifar' } })],
    ['chest-xray data without counts', mnistJoinRequest('x', { data: { task: 'chest-xray' } })],
    ['an unknown backend', mnistJoinRequest('x', { backend: { name: 'cuda' } })],
    ['a clientId over 64 characters', mnistJoinRequest('x', { clientId: 'c'.repeat(65) })],
    ['an unknown field', mnistJoinRequest('x', { admin: true })],
    ['a string instead of an object', 'let me in'],
    ['null', null],
  ])('refuses client:join with %s with HUB_ERR_INVALID_PAYLOAD and stays unjoined', async (_what, payload) => {
    const socket = await freshSocket();
    const clientsBefore = (await status(hub)).clients.length;
    await expectRefused(socket, 'client:join', payload, 'HUB_ERR_INVALID_PAYLOAD');
    expect((await status(hub)).clients).toHaveLength(clientsBefore);
    await expectRefused(socket, 'update:submit', updateFor(roundB), 'HUB_ERR_NOT_JOINED');
  });

  it.each([
    ['no weights', (u: Record<string, unknown>) => ({ ...u, weights: undefined })],
    ['no metrics', (u: Record<string, unknown>) => ({ ...u, metrics: undefined })],
    ['no runId', (u: Record<string, unknown>) => ({ ...u, runId: undefined })],
    ['a string round', (u: Record<string, unknown>) => ({ ...u, round: '1' })],
    ['round 0', (u: Record<string, unknown>) => ({ ...u, round: 0 })],
    ['0 samples', (u: Record<string, unknown>) => ({ ...u, samples: 0 })],
    ['fractional samples', (u: Record<string, unknown>) => ({ ...u, samples: 1.5 })],
    ['weights as a JSON number array', (u: Record<string, unknown>) => ({ ...u, weights: [0.1, 0.2, 0.3] })],
    ['weights as a string', (u: Record<string, unknown>) => ({ ...u, weights: 'RkxXMQ==' })],
    ['accuracy above 1', (u: Record<string, unknown>) => ({ ...u, metrics: { loss: 1, accuracy: 2, trainMs: 1 } })],
    ['a negative trainMs', (u: Record<string, unknown>) => ({ ...u, metrics: { loss: 1, accuracy: 0.5, trainMs: -1 } })],
    ['an unknown field', (u: Record<string, unknown>) => ({ ...u, trust: 'me' })],
    ['null instead of an object', () => null],
  ])('refuses update:submit with %s with HUB_ERR_INVALID_PAYLOAD', async (_what, mutate) => {
    const payload = mutate(updateFor(roundB)) as Record<string, unknown> | null;
    // JSON drops undefined members: a missing field, not a null one.
    if (payload) for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    await expectRefused(b.socket, 'update:submit', payload, 'HUB_ERR_INVALID_PAYLOAD');
  });

  it('refuses an update from a socket that never joined with HUB_ERR_NOT_JOINED', async () => {
    await expectRefused(await freshSocket(), 'update:submit', updateFor(roundB), 'HUB_ERR_NOT_JOINED');
  });

  it('refuses round:progress from a socket that never joined with HUB_ERR_NOT_JOINED', async () => {
    const progress = { runId, round: 1, epoch: 1, epochs: 1, batch: 1, batches: 10 };
    await expectRefused(await freshSocket(), 'round:progress', progress, 'HUB_ERR_NOT_JOINED');
  });

  it('refuses an update with one tensor too few or too many with HUB_ERR_SHAPE_MISMATCH', async () => {
    const { shapes, values } = roundB.weights;
    const lastSize = shapes.at(-1)!.reduce((x, y) => x * y, 1);
    const fewer = encodeWeights({ shapes: shapes.slice(0, -1), values: values.subarray(0, values.length - lastSize) });
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { weights: fewer }), 'HUB_ERR_SHAPE_MISMATCH');
    const more = encodeWeights({ shapes: [...shapes, [2]], values: Float32Array.from([...values, 0, 0]) });
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { weights: more }), 'HUB_ERR_SHAPE_MISMATCH');
  });

  it('refuses an update whose tensors have the right sizes but the wrong shapes with HUB_ERR_SHAPE_MISMATCH', async () => {
    const { shapes, values } = roundB.weights;
    const i = shapes.findIndex((s) => s.length >= 2 && s[0] !== s.at(-1));
    expect(i).toBeGreaterThanOrEqual(0);
    const transposed = shapes.map((s, j) => (j === i ? [...s].reverse() : s));
    const frame = encodeWeights({ shapes: transposed, values });
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { weights: frame }), 'HUB_ERR_SHAPE_MISMATCH');
  });

  it.each([
    ['truncated by 4 bytes', (f: Uint8Array) => f.slice(0, f.length - 4)],
    ['truncated inside its header', (f: Uint8Array) => f.slice(0, 10)],
    ['with 4 trailing bytes', (f: Uint8Array) => Uint8Array.from([...f, 1, 2, 3, 4])],
    ['empty', () => new Uint8Array(0)],
    ['of garbage bytes', (f: Uint8Array) => f.map((_, k) => (k * 131 + 7) & 0xff)],
    ['of an unknown version', (f: Uint8Array) => Uint8Array.from(f, (x, k) => (k === 4 ? 9 : x))],
  ])('refuses a weight frame %s with HUB_ERR_BAD_FRAME', async (_what, corrupt) => {
    const frame = corrupt(encodeWeights(roundB.weights));
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { weights: frame }), 'HUB_ERR_BAD_FRAME');
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('refuses an update holding %s with HUB_ERR_NON_FINITE', async (_what, value) => {
    const values = roundB.weights.values.slice();
    values[values.length >> 1] = value;
    const frame = encodeWeights({ shapes: roundB.weights.shapes, values });
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { weights: frame }), 'HUB_ERR_NON_FINITE');
  });

  it("refuses an update over the join reply's maxUpdateBytes (under Socket.IO's limit) with HUB_ERR_TOO_LARGE", async () => {
    const limit = b.limits.maxUpdateBytes;
    expect(limit).toBeGreaterThan(encodeWeights(roundB.weights).byteLength);
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { weights: new Uint8Array(limit + 1) }), 'HUB_ERR_TOO_LARGE');
  });

  it('refuses an update for another run with HUB_ERR_WRONG_RUN', async () => {
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { runId: 'some-other-run' }), 'HUB_ERR_WRONG_RUN');
  });

  it('refuses an update for a round that has not started with HUB_ERR_ROUND_CLOSED', async () => {
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { round: 2 }), 'HUB_ERR_ROUND_CLOSED');
  });

  it('refuses an update claiming more samples than its shard with HUB_ERR_INVALID_PAYLOAD', async () => {
    await expectRefused(b.socket, 'update:submit', updateFor(roundB, { samples: roundB.shardSize + 1 }), 'HUB_ERR_INVALID_PAYLOAD');
  });

  it('refuses an update from a client that joined after the round started with HUB_ERR_NOT_PARTICIPANT', async () => {
    const late = await joinRaw(hub.url, 'raw-late');
    extra.push(late.socket);
    expect((await status(hub)).clients.find((c) => c.id === late.clientId)?.state).toBe('idle');
    await expectRefused(late.socket, 'update:submit', updateFor(roundB), 'HUB_ERR_NOT_PARTICIPANT');
    expect(late.rounds).toHaveLength(0);
  });

  it('answers a known event sent with only an acknowledgement (no payload) with HUB_ERR_INVALID_PAYLOAD', async () => {
    // The handler must answer through the last argument, whatever came before it.
    const response = await b.socket.timeout(3000).emitWithAck('update:submit').catch((error: Error) => ({ timeout: error.message }));
    expect(response).toMatchObject({ error: { code: 'HUB_ERR_INVALID_PAYLOAD' } });
  });

  it('answers a known event sent with an extra argument before the acknowledgement with HUB_ERR_INVALID_PAYLOAD', async () => {
    const response = await b.socket
      .timeout(3000)
      .emitWithAck('client:data', { data: { task: 'mnist' } }, 'extra')
      .catch((error: Error) => ({ timeout: error.message }));
    expect(response).toMatchObject({ error: { code: 'HUB_ERR_INVALID_PAYLOAD' } });
  });

  it('accepts the first valid update of a client and refuses a second in the same round with HUB_ERR_DUPLICATE_UPDATE', async () => {
    const first = await emitAck(a.socket, 'update:submit', updateFor(roundA));
    expect(first).toEqual({ data: { accepted: true, received: 1 } });
    expect(hubSnapshot(hub, runId).run?.submitted).toEqual({ [a.clientId]: roundA.shardSize });
    await expectRefused(a.socket, 'update:submit', updateFor(roundA), 'HUB_ERR_DUPLICATE_UPDATE');
  });

  it('folded none of the refused updates: the round closes with two unchanged models and keeps the initial weights hash', async () => {
    const response = await emitAck(b.socket, 'update:submit', updateFor(roundB));
    expect(response).toEqual({ data: { accepted: true, received: 2 } });
    const run = await waitFor(
      async () => {
        const r = await runDetail(hub, runId);
        return r.rounds.length === 1 ? r : null;
      },
      { what: 'round 1 stored' },
    );
    expect(run.rounds[0]).toMatchObject({ round: 1, status: 'completed', clients: 2, samples: 8000 });
    // FedAvg of identical weights is exact: any refused update folded in would change this hash.
    expect(run.rounds[0]!.weightsHash).toBe(initialHash);
  });

  it('refuses an update for a past round with HUB_ERR_STALE_ROUND', async () => {
    await a.round(runId, 2);
    await b.round(runId, 2);
    await expectRefused(a.socket, 'update:submit', updateFor(roundA), 'HUB_ERR_STALE_ROUND');
    await expectRefused(a.socket, 'round:progress', { runId, round: 1, epoch: 1, epochs: 1, batch: 1, batches: 10 }, 'HUB_ERR_STALE_ROUND');
  });
});

describe('a hub with a join token', () => {
  let hub: TestHub;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    hub = await startTestHub({ ...HUB_LIMITS, joinToken: 'j' });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await hub?.close();
  });

  it.each([
    ['without a token', {}],
    ['with a wrong token', { joinToken: 'k' }],
    ['with an empty token', { joinToken: '' }],
  ])('refuses a client %s with HUB_ERR_UNAUTHORIZED and keeps it unjoined', async (_what, extraFields) => {
    const socket = await connectRaw(hub.url);
    sockets.push(socket);
    const response = await emitAck(socket, 'client:join', mnistJoinRequest('intruder', extraFields));
    expect(outcome(response)).toBe('HUB_ERR_UNAUTHORIZED');
    expect((await status(hub)).clients).toHaveLength(0);
    const progress = await emitAck(socket, 'round:progress', { runId: 'r', round: 1, epoch: 1, epochs: 1, batch: 1, batches: 1 });
    expect(outcome(progress)).toBe('HUB_ERR_NOT_JOINED');
  });

  it('accepts a client with the right token', async () => {
    const socket = await connectRaw(hub.url);
    sockets.push(socket);
    const response = (await emitAck(socket, 'client:join', mnistJoinRequest('friend', { joinToken: 'j' }))) as AckResponse<JoinReply>;
    expect(outcome(response)).toBe('accepted');
    const { clientId } = (response as { data: JoinReply }).data;
    expect((await status(hub)).clients.map((c) => c.id)).toEqual([clientId]);
  });
});

describe('state-changing actions need the admin token', () => {
  let hub: TestHub;
  let client: RawClient;
  let manager: Manager;

  beforeAll(async () => {
    hub = await startTestHub(HUB_LIMITS);
    client = await joinRaw(hub.url, 'raw-client');
    manager = new Manager(hub.url, { transports: ['websocket'], reconnection: false });
  });
  afterAll(async () => {
    client?.close();
    manager?.engine?.close();
    await hub?.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers POST /api/runs without or with a wrong token with 401 and launches nothing', async () => {
    for (const headers of [{}, bearer('wrong'), { authorization: ADMIN_TOKEN }]) {
      const response = await hub.app.inject({ method: 'POST', url: '/api/runs', payload: { task: 'mnist', rounds: 1 }, headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'HUB_ERR_UNAUTHORIZED' } });
    }
    expect((await status(hub)).run).toBeNull();
    expect(sqliteOf(hub.app).runs()).toHaveLength(0);
  });

  it.each(['dashboard:launch', 'run:launch', 'runs:create', 'admin:launch'])(
    'refuses %s from a client socket with HUB_ERR_UNKNOWN_EVENT and launches nothing',
    async (event) => {
      const response = await emitAck(client.socket, event, { task: 'mnist', rounds: 1, token: ADMIN_TOKEN });
      expect(outcome(response)).toBe('HUB_ERR_UNKNOWN_EVENT');
      expect((await status(hub)).run).toBeNull();
      expect(sqliteOf(hub.app).runs()).toHaveLength(0);
    },
  );

  it('launches nothing from the read-only dashboard namespace', async () => {
    const dashboard = manager.socket(DASHBOARD_NAMESPACE);
    const clients = manager.socket(CLIENT_NAMESPACE);
    await waitFor(() => dashboard.connected && clients.connected, { what: 'both namespaces connected' });
    dashboard.emit('dashboard:launch', { task: 'mnist', rounds: 1 });
    dashboard.emit('run:launch', { task: 'mnist', rounds: 1 });
    // Same connection, processed in order: once this is answered, the dashboard messages were handled.
    expect(outcome(await emitAck(clients, 'run:launch', { task: 'mnist', rounds: 1 }))).toBe('HUB_ERR_UNKNOWN_EVENT');
    expect((await status(hub)).run).toBeNull();
    expect(sqliteOf(hub.app).runs()).toHaveLength(0);
  });

  it('answers POST /api/runs/:id/stop without or with a wrong token with 401 and the run goes on; socket events cannot stop it', async () => {
    const launched = await launch(hub, { task: 'mnist', rounds: 1, minClients: 5, roundTimeoutSec: 3600 });
    expect(launched.statusCode).toBe(201);
    const { id } = launched.json() as { id: string };
    for (const headers of [{}, bearer('wrong')]) {
      const response = await hub.app.inject({ method: 'POST', url: `/api/runs/${id}/stop`, headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'HUB_ERR_UNAUTHORIZED' } });
    }
    for (const event of ['run:stop', 'dashboard:stop', 'stop']) {
      expect(outcome(await emitAck(client.socket, event, { runId: id, token: ADMIN_TOKEN }))).toBe('HUB_ERR_UNKNOWN_EVENT');
    }
    expect((await status(hub)).run?.id).toBe(id);
    expect((await runDetail(hub, id)).status).toBe('running');

    const stopped = await hub.app.inject({ method: 'POST', url: `/api/runs/${id}/stop`, headers: bearer(ADMIN_TOKEN) });
    expect(stopped.statusCode).toBe(200);
    expect((await waitForRunEnd(hub, id)).status).toBe('stopped');
  });
});

describe('fuzzing the client namespace while a run is active', () => {
  let hub: TestHub;
  let participant: RawClient;
  let stranger: RawSocket;
  let runId = '';
  let round: ReceivedRound;

  beforeAll(async () => {
    hub = await startTestHub(HUB_LIMITS);
    participant = await joinRaw(hub.url, 'fuzz-participant');
    stranger = await connectRaw(hub.url);
    const response = await launch(hub, { task: 'mnist', rounds: 1, minClients: 1, roundTimeoutSec: 3600, init: 'fresh' });
    runId = (response.json() as { id: string }).id;
    round = await participant.round(runId, 1);
  });
  afterAll(async () => {
    participant?.close();
    stranger?.disconnect();
    await hub?.close();
  });

  it('refuses 2,000 seeded random messages, answers every acknowledgement with an error code, and keeps the global weights', async () => {
    const before = hubSnapshot(hub, runId);
    const fuzz = messageFuzzer(20_240_601, { runId, round, maxUpdateBytes: participant.limits.maxUpdateBytes });
    const answers: Promise<{ event: string; answer: unknown }>[] = [];
    let sent = 0;
    for (let i = 0; i < 2000; i++) {
      const { event, args, ack } = fuzz.next();
      const socket = i % 2 === 0 ? participant.socket : stranger;
      sent++;
      if (!ack) {
        socket.emit(event, ...args);
        continue;
      }
      answers.push(
        socket
          .timeout(20_000)
          .emitWithAck(event, ...args)
          .then(
            (answer: unknown) => ({ event, answer }),
            () => ({ event, answer: 'no answer' }),
          ),
      );
      // Let the hub keep up: a few hundred messages in flight at most.
      if (answers.length % 200 === 0) await Promise.all(answers.slice(-200));
    }
    const results = await Promise.all(answers);
    const codes: Record<string, number> = {};
    const unanswered = results.filter((r) => {
      const code = (r.answer as { error?: { code?: unknown } })?.error?.code;
      if (typeof code === 'string') codes[code] = (codes[code] ?? 0) + 1;
      return typeof code !== 'string' || !code.startsWith('HUB_ERR_');
    });
    console.log(`fuzz: ${sent} messages, ${results.length} with an acknowledgement; codes`, codes);

    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(unanswered.slice(0, 5)).toEqual([]);
    expect(participant.socket.connected && stranger.connected).toBe(true);
    expect((await hub.app.inject({ url: '/api/status' })).statusCode).toBe(200);
    const s = await status(hub);
    expect(s).toMatchObject({ status: 'training', run: { id: runId, round: 1 } });
    expect(hubSnapshot(hub, runId)).toEqual(before);
    // Each family of refusal was reached.
    for (const code of ['HUB_ERR_UNKNOWN_EVENT', 'HUB_ERR_INVALID_PAYLOAD', 'HUB_ERR_NOT_JOINED', 'HUB_ERR_BAD_FRAME', 'HUB_ERR_NON_FINITE', 'HUB_ERR_SHAPE_MISMATCH', 'HUB_ERR_WRONG_RUN', 'HUB_ERR_TOO_LARGE']) {
      expect(codes[code], code).toBeGreaterThan(0);
    }
  });

  it('closes the round afterwards with the participant’s unchanged model and the initial weights hash', async () => {
    const initialHash = sqliteOf(hub.app).checkpoint(runId, 0)!.sha256;
    expect(await emitAck(participant.socket, 'update:submit', updateFor(round))).toEqual({ data: { accepted: true, received: 1 } });
    const run = await waitForRunEnd(hub, runId);
    expect(run.status).toBe('completed');
    expect(run.rounds[0]!.weightsHash).toBe(initialHash);
  });
});
