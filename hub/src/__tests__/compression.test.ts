import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launch, sequentialIds, startMnistClients, startTestHub, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';

describe('compressed updates', () => {
  let hub: TestHub;
  let clients: ReturnType<typeof startMnistClients> = [];

  // Each format trains on a hub of its own, so neither test sees what the other left.
  beforeEach(async () => {
    hub = await startTestHub({ newId: sequentialIds() });
    clients = startMnistClients(hub, 2);
    await waitForClients(hub, 2);
  });
  afterEach(async () => {
    for (const { client } of clients) client.close();
    await hub?.close();
  });

  it.each(['float16', 'int8'] as const)('trains with %s deltas and the global model sent as float16', async (compression) => {
    const response = await launch(hub, { task: 'mnist', rounds: 2, init: 'fresh', compression, batchSize: 64, seed: 7 });
    expect(response.statusCode).toBe(201);
    const run = await waitForRunEnd(hub, (response.json() as { id: string }).id);
    expect(run.status).toBe('completed');
    expect(run.settings.seed).toBe(7);
    expect(run.rounds.map((r) => r.clients)).toEqual([2, 2]);
    expect(run.rounds[1]!.accuracy!).toBeGreaterThan(0.85);
    expect(clients.map(({ client }) => client.state.lastError)).toEqual([null, null]);
  });
});
