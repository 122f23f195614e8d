import { expect, test } from '@playwright/test';
import { numTensors, openClientTab, roundTensors, snapshot, type ClientTab } from './support/client-tab';
import { hubStatus, launchRun, stopRun, waitForRunEnd, waitUntilIdle } from './support/hub-api';

/**
 * Issue 9, item 13: a tab that gets round:cancel and then the next round:start while still inside trainOnBatch
 * once ran both round flows on one model, and the old flow's optimizer.dispose() freed the new one's.
 */
test.describe('a run stopped mid-training and another launched at once', () => {
  let tab: ClientTab | undefined;

  test.afterAll(async () => {
    await tab?.close();
  });

  test('the tab drops the stopped round, trains the new run on its own, submits it, and leaks no tensors', async ({ browser, request }) => {
    test.setTimeout(240_000);
    await waitUntilIdle(request);
    tab = await openClientTab(browser, 'e2e-race', { backend: 'wasm' });
    const { page } = tab;
    await expect(page.getByTestId('mnist-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect.poll(async () => (await hubStatus(request)).clients.filter((c) => c.task === 'mnist').map((c) => c.name)).toEqual([tab.name]);

    // A whole round first: the model exists, and the count after it is that of an idle tab.
    const warmUp = await launchRun(request, { task: 'mnist', rounds: 1, epochs: 1, batchSize: 64, minClients: 1, init: 'fresh', seed: 1 });
    expect((await waitForRunEnd(request, warmUp, 120_000)).status).toBe('completed');
    await expect(page.getByTestId('train-progress')).toHaveAttribute('data-rounds-done', '1');
    const idle = await numTensors(page);

    // Big batches (~0.2 s of wasm compute each, the tab handles socket events only between them): the cancel
    // and the next round:start, ~10 ms apart, reach the tab together while it is still inside a batch.
    const stopped = await launchRun(request, { task: 'mnist', rounds: 3, epochs: 3, batchSize: 512, minClients: 1, init: 'fresh', seed: 2 });
    await page.waitForFunction(
      () => {
        const box = document.querySelector<HTMLElement>('[data-testid="train-progress"]')?.dataset;
        return box?.phase === 'training' && Number(box.batch) >= 2;
      },
      null,
      { timeout: 60_000, polling: 50 },
    );
    await stopRun(request, stopped);
    const next = await launchRun(request, { task: 'mnist', rounds: 1, epochs: 1, batchSize: 32, minClients: 1, init: 'fresh', seed: 3 });

    const run = await waitForRunEnd(request, next, 120_000);
    expect(run.status, run.reason ?? '').toBe('completed');
    expect(run.rounds.map((r) => [r.round, r.status, r.clients])).toEqual([[1, 'completed', 1]]);
    expect((await waitForRunEnd(request, stopped, 10_000)).status).toBe('stopped');

    const after = await snapshot(page);
    expect(after?.lastError).toBeNull();
    expect(after?.lastRound?.runId).toBe(next);
    await expect(page.getByTestId('client-error')).toBeHidden();
    // Two rounds submitted (the warm-up and the new run); the stopped round was dropped, not sent.
    await expect(page.getByTestId('train-progress')).toHaveAttribute('data-rounds-done', '2');
    expect(await roundTensors(page)).toEqual([idle, idle]);
    expect(await numTensors(page)).toBe(idle);
    expect(tab.errors).toEqual([]);
  });
});
