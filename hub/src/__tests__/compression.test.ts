import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, startMnistClients, startTestHub, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';

describe('compressed updates', () => {
  let hub: TestHub;
  let clients: ReturnType<typeof startMnistClients> = [];

  beforeAll(async () => {
    hub = await startTestHub();
    clients = startMnistClients(hub, 2);
    await waitForClients(hub, 2);
  });
  afterAll(async () => {
    for (const { client } of clients) client.close();
    await hub?.close();
  });

  it.each(['float16', 'int8'] as const)('trains with %s deltas and the global model sent as float16', async (compression) => {
    const response = await launch(hub, { task: 'mnist', rounds: 2, init: 'fresh', compression, batchSize: 64 });
    const run = await waitForRunEnd(hub, (response.json() as { id: string }).id);
    expect(run.status).toBe('completed');
    expect(run.rounds.map((r) => r.clients)).toEqual([2, 2]);
    expect(run.rounds[1]!.accuracy!).toBeGreaterThan(0.85);
    expect(clients.map(({ client }) => client.state.lastError)).toEqual([null, null]);
  });
});
