import { expect, test } from '@playwright/test';
import { openClientTab, roundTensors, snapshot, type ClientTab } from './support/client-tab';
import { hubStatus, launchRun, waitForRunEnd, waitUntilIdle } from './support/hub-api';
import { withTimeout } from './support/timeouts';

/** Issue 15: the tab trains in a Web Worker; one that dies is started again, and the tab says so. */
test.describe('the training worker', () => {
  let tab: ClientTab | undefined;

  test.afterAll(async () => {
    await tab?.close();
  });

  test('a crashed worker is restarted: the tab says so, joins again under the same id and trains the next run', async ({ browser, request }) => {
    test.setTimeout(240_000);
    await waitUntilIdle(request);
    tab = await openClientTab(browser, 'e2e-worker-crash');
    const { page } = tab;
    await expect(page.getByTestId('mnist-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    const before = (await snapshot(page))?.clientId;
    expect(before).toBeTruthy();
    await expect(page.getByTestId('worker-status')).toBeHidden();

    // An uncaught error in the worker, as a bug or an exhausted wasm heap would throw.
    const worker = page.workers().find((w) => w.url().includes('training-worker'));
    expect(worker, page.workers().map((w) => w.url()).join(', ')).toBeDefined();
    await withTimeout(worker!.evaluate(() => void setTimeout(() => { throw new Error('simulated crash'); })), 10_000, 'crashing the worker');

    const status = page.getByTestId('worker-status');
    await expect(status).toBeVisible();
    await expect(status).toHaveAttribute('data-state', 'restarted');
    await expect(status).toContainText('The training worker stopped');
    await expect(status).toContainText('simulated crash');
    await expect(status).toContainText('was started again');
    await expect(page.getByTestId('client-status')).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
    expect((await snapshot(page))?.clientId).toBe(before);
    await expect.poll(async () => (await hubStatus(request)).clients.filter((c) => c.name === tab!.name).map((c) => [c.id, c.task])).toEqual([[before, 'mnist']]);

    const runId = await launchRun(request, { task: 'mnist', rounds: 1, epochs: 1, batchSize: 64, minClients: 1, init: 'fresh', seed: 1 });
    const run = await waitForRunEnd(request, runId, 120_000);
    expect(run.status, run.reason ?? '').toBe('completed');
    expect(run.rounds[0]?.clients).toBe(1);
    await expect(page.getByTestId('train-progress')).toHaveAttribute('data-rounds-done', '1');
    expect(await roundTensors(page)).toHaveLength(1);
    expect(tab.errors).toEqual([]);
  });
});
