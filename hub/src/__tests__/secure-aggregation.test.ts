import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '@fl/shared';
import { fixedInitialWeights, launch, startMnistClients, startTestHub, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';

/** Both runs of a comparison start from the same model. */
const initialWeights = fixedInitialWeights();

const SEED = 4;

async function launchAndWait(hub: TestHub, body: object): Promise<RunDetail> {
  const response = await launch(hub, { task: 'mnist', seed: SEED, init: 'fresh', minClients: 3, ...body });
  expect(response.statusCode, response.body).toBe(201);
  return waitForRunEnd(hub, (response.json() as { id: string }).id, 240_000);
}

describe('secure aggregation on a real hub with headless clients', () => {
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close();
  });

  async function hubWithClients(count: number): Promise<TestHub> {
    const hub = await startTestHub({ initialWeights });
    opened.push(hub);
    for (const { client } of startMnistClients(hub, count, 'sec')) opened.push(client);
    await waitForClients(hub, count);
    return hub;
  }

  it('trains 3 secure MNIST rounds to the accuracy of the same run in the clear, within 1 point', async () => {
    const plain = await launchAndWait(await hubWithClients(3), { rounds: 3 });
    const secure = await launchAndWait(await hubWithClients(3), { rounds: 3, secureAggregation: true });
    expect(plain.status).toBe('completed');
    expect(secure.status).toBe('completed');
    expect(secure.settings.secureAggregation).toBe(true);
    expect(secure.rounds.map((r) => r.clients)).toEqual([3, 3, 3]);
    const plainAccuracy = plain.rounds.at(-1)!.accuracy!;
    const secureAccuracy = secure.rounds.at(-1)!.accuracy!;
    expect(secureAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(secureAccuracy - plainAccuracy)).toBeLessThanOrEqual(0.01);
    expect(secure.rounds[0]!.note).toContain('secure aggregation');
  });

  it('refuses a secure launch with a strategy that needs each update, naming the conflict', async () => {
    const hub = await startTestHub();
    opened.push(hub);
    const response = await launch(hub, { task: 'mnist', rounds: 1, minClients: 3, secureAggregation: true, strategy: 'median' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'HUB_ERR_INVALID_SETTINGS' } });
    expect(response.json().error.message).toMatch(/strategy "median"/);
    const few = await launch(hub, { task: 'mnist', rounds: 1, minClients: 2, secureAggregation: true });
    expect(few.statusCode).toBe(400);
    expect(few.json().error.message).toMatch(/at least 3 clients/);
  });
});
