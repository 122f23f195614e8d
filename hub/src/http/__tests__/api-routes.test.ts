import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, launch, runDetail, startTestHub, status, type TestHub } from '../../__tests__/support/test-hub';

describe('the HTTP API', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('reports an idle hub with no clients', async () => {
    expect(await status(hub)).toEqual({
      status: 'idle',
      run: null,
      clients: [],
      clientCount: 0,
      clientStates: { idle: 0, training: 0, done: 0, evaluating: 0, lost: 0 },
      now: expect.any(Number),
    });
  });

  it('gives the first N client rows with ?clients=N and refuses a bad N, counting every client either way', async () => {
    const one = await hub.app.inject({ url: '/api/status?clients=0' });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ clients: [], clientCount: 0 });
    expect((await hub.app.inject({ url: '/api/status?clients=-1' })).statusCode).toBe(400);
  });

  it('answers GET /api/auth with 204 for the admin token and 401 otherwise', async () => {
    const ok = await hub.app.inject({ url: '/api/auth', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.statusCode).toBe(204);
    expect((await hub.app.inject({ url: '/api/auth' })).statusCode).toBe(401);
    expect((await hub.app.inject({ url: '/api/auth', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });

  it('lists no models before any round completed', async () => {
    expect((await hub.app.inject({ url: '/api/models' })).json()).toEqual([]);
  });

  it('refuses a launch without the admin token with 401 HUB_ERR_UNAUTHORIZED and starts nothing', async () => {
    const response = await launch(hub, { task: 'mnist', rounds: 1 }, null);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'HUB_ERR_UNAUTHORIZED' } });
    expect((await status(hub)).run).toBeNull();
  });

  it('refuses a launch with a wrong token with 401', async () => {
    const response = await launch(hub, { task: 'mnist', rounds: 1 }, `${ADMIN_TOKEN}x`);
    expect(response.statusCode).toBe(401);
    expect((await status(hub)).run).toBeNull();
  });

  it.each([
    [{ task: 'mnist', rounds: 0 }, 'rounds'],
    [{ task: 'mnist' }, 'rounds'],
    [{ task: 'cifar', rounds: 1 }, 'task'],
    [{ task: 'mnist', rounds: 1, learningRate: -1 }, 'learningRate'],
    [{ task: 'mnist', rounds: 1, epochs: 1.5 }, 'epochs'],
    [{ task: 'mnist', rounds: 1, partition: 'random' }, 'partition'],
    [{ task: 'mnist', rounds: 1, roundz: 3 }, 'roundz'],
  ])('refuses invalid settings %j with 400 HUB_ERR_INVALID_SETTINGS naming %s', async (body, field) => {
    const response = await launch(hub, body);
    expect(response.statusCode).toBe(400);
    const error = (response.json() as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(error.message).toContain(field);
    expect((await status(hub)).run).toBeNull();
  });

  it('answers 404 for the model of a task that was never trained', async () => {
    const response = await hub.app.inject({ url: '/api/models/chest-xray/model.json' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'HUB_ERR_NOT_FOUND' } });
  });

  it('launches with defaults filled in, refuses a second launch with 409, and stops with the token', async () => {
    const first = await launch(hub, { task: 'mnist', rounds: 2, minClients: 3 });
    expect(first.statusCode).toBe(201);
    const { id } = first.json() as { id: string };
    const s = await status(hub);
    expect(s.status).toBe('waiting');
    expect(s.run).toMatchObject({ id, task: 'mnist', round: 1, rounds: 2 });
    expect(s.run!.settings).toMatchObject({ epochs: 1, batchSize: 32, minClients: 3, partition: 'iid', init: 'continue' });

    const second = await launch(hub, { task: 'mnist', rounds: 1 });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ error: { code: 'HUB_ERR_RUN_ACTIVE' } });

    const forged = await hub.app.inject({ method: 'POST', url: `/api/runs/${id}/stop` });
    expect(forged.statusCode).toBe(401);
    expect((await status(hub)).run?.id).toBe(id);

    const stop = await hub.app.inject({ method: 'POST', url: `/api/runs/${id}/stop`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(stop.statusCode).toBe(200);
    expect((await runDetail(hub, id)).status).toBe('stopped');
    expect((await status(hub)).status).toBe('idle');
  });

  it('fails a run that never gets enough clients, with the reason, at the deadline', async () => {
    const response = await launch(hub, { task: 'mnist', rounds: 1, minClients: 2, roundTimeoutSec: 5 });
    const { id } = response.json() as { id: string };
    const deadline = Date.now() + 20_000;
    let run = await runDetail(hub, id);
    while (run.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      run = await runDetail(hub, id);
    }
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/only 0 of the 2 required clients/);
    expect(run.rounds[0]).toMatchObject({ round: 1, status: 'failed' });
  });

  it('lists runs newest first and answers 404 for an unknown run', async () => {
    const runs = (await hub.app.inject({ url: '/api/runs' })).json() as { createdAt: number }[];
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs[0]!.createdAt).toBeGreaterThanOrEqual(runs[1]!.createdAt);
    expect((await hub.app.inject({ url: '/api/runs/nope' })).statusCode).toBe(404);
  });
});
