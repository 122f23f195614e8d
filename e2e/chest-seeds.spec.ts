import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaunchRequest } from '../shared/src/settings';
import { writeChestFixture } from './support/chest-fixture';
import { openClientTab, type ClientTab } from './support/client-tab';
import { launchRun, waitForRunEnd, waitUntilIdle } from './support/hub-api';

/**
 * Issue 12's acceptance: two chest X-ray tabs on the fixture, a fresh model and the task's default settings,
 * 3 rounds, for 5 seeds: every run ends at >= 0.9 test accuracy. CHEST_SEEDS=1,2 runs fewer. The fresh weights
 * are the hub's own (not seeded by the run's seed), so each run also starts from a new random model; the seeded
 * Node study of the same runs is hub/src/bench/chest-study.ts.
 */
const SEEDS = (process.env.CHEST_SEEDS ?? '1,2,3,4,5').split(',').map(Number);

test.describe('chest X-ray defaults: two tabs from a fresh model, 3 rounds', () => {
  test.describe.configure({ mode: 'serial' });
  let fixtureDir = '';
  const tabs: ClientTab[] = [];

  test.beforeAll(async ({ browser, request }) => {
    test.setTimeout(180_000);
    fixtureDir = mkdtempSync(join(tmpdir(), 'fl-chest-seeds-'));
    const fixture = await writeChestFixture(browser, fixtureDir);
    await waitUntilIdle(request);
    for (const name of ['e2e-seeds-chest-a', 'e2e-seeds-chest-b']) {
      const tab = await openClientTab(browser, name);
      tabs.push(tab);
      await tab.page.getByTestId('folder-input').setInputFiles(fixture.root);
    }
    for (const tab of tabs) await expect(tab.page.getByTestId('dataset-summary')).toHaveAttribute('data-train-normal', String(fixture.train.normal), { timeout: 60_000 });
  });

  test.afterAll(async () => {
    await Promise.all(tabs.map((tab) => tab.close()));
    if (fixtureDir) rmSync(fixtureDir, { recursive: true, force: true });
  });

  for (const seed of SEEDS) {
    test(`seed ${seed}: the final model scores >= 0.9 on the tabs' test splits`, async ({ request }) => {
      test.setTimeout(300_000);
      await waitUntilIdle(request);
      const started = Date.now();
      const launch: LaunchRequest = { task: 'chest-xray', rounds: 3, minClients: 2, init: 'fresh', seed };
      const run = await waitForRunEnd(request, await launchRun(request, launch), 280_000);
      const accuracy = run.rounds.map((r) => r.clientTest?.accuracy ?? null);
      console.log(`chest seed ${seed}: ${Date.now() - started} ms; test accuracy after rounds 1-3: ${accuracy.join(', ')}; round 1 ${JSON.stringify(run.rounds[0]?.clientTest)}`);
      expect(run.status, run.reason ?? '').toBe('completed');
      expect(run.rounds.map((r) => r.evaluation)).toEqual(['done', 'done', 'done']);
      expect(accuracy[2]).toBeGreaterThanOrEqual(0.9);
    });
  }
});
