import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChestFixture } from './support/chest-fixture';
import { mainThreadReport, openClientTab, resetMainThreadProbe, type ClientTab } from './support/client-tab';
import { hubStatus, launchRun, waitForRunEnd, waitUntilIdle } from './support/hub-api';
import { withTimeout } from './support/timeouts';

/** How often the test asks the page, and the most an answer may take (so answers come at most 500 ms apart). */
const ASK_EVERY_MS = 250;
const ANSWER_WITHIN_MS = 250;
/** The longest main-thread task allowed while the tab trains (the RAIL budget for a response). */
const LONG_TASK_LIMIT_MS = 100;
/**
 * Handing the folder over: the browser's own file-list work for the input's change event lands on the page's
 * thread (a 129 ms task at load 10 on 2 cores; 0 ms on an idle machine). Before the worker this froze the page for
 * 1.5-3.7 s; a quarter second bounds "no freeze" without depending on how busy the machine is.
 */
const HAND_OFF_LIMIT_MS = 250;

interface Answer {
  /** performance.now() in the page when it answered. */
  at: number;
  phase: string;
  batch: string;
}

/**
 * Issue 15: a tab training on a chest X-ray folder kept its main thread busy (330 long tasks in a round, the
 * longest 665 ms). The tab now trains in a Web Worker; its page must answer at once and never block for long.
 * Figures come from the page's own clock: its answer times and its PerformanceObserver 'longtask' entries.
 */
test.describe('the client tab stays responsive while it trains', () => {
  let tab: ClientTab | undefined;
  let fixtureDir = '';

  test.afterAll(async () => {
    await tab?.close();
    if (fixtureDir) rmSync(fixtureDir, { recursive: true, force: true });
  });

  test('during a Chest X-Ray round the page answers every 250 ms and no main-thread task reaches 100 ms', async ({ browser, request }) => {
    test.setTimeout(300_000);
    fixtureDir = mkdtempSync(join(tmpdir(), 'fl-responsive-'));
    const fixture = await writeChestFixture(browser, fixtureDir);
    await waitUntilIdle(request);
    tab = await openClientTab(browser, 'e2e-responsive', { mainThreadProbe: true });
    const { page } = tab;

    await resetMainThreadProbe(page);
    await page.getByTestId('folder-input').setInputFiles(fixture.root);
    await expect(page.getByTestId('dataset-summary')).toBeVisible({ timeout: 60_000 });
    const handOff = await mainThreadReport(page);
    console.log(`folder hand-off (${fixture.images.length} images): longest main-thread task ${handOff.longest} ms, ${handOff.count} long tasks`);
    // The page only lists and posts File references; the worker decodes.
    expect(handOff.longest).toBeLessThan(HAND_OFF_LIMIT_MS);
    await expect.poll(async () => (await hubStatus(request)).clients.find((c) => c.name === tab!.name)?.task).toBe('chest-xray');

    await resetMainThreadProbe(page);
    // One tab alone, enough batches for ~10 s of training: 120 images, batch 16, 8 epochs.
    const runId = await launchRun(request, { task: 'chest-xray', rounds: 1, epochs: 8, minLocalSteps: 0, batchSize: 16, learningRate: 0.001, minClients: 1, init: 'fresh', seed: 1 });
    const answers: Answer[] = [];
    let ended = false;
    const run = waitForRunEnd(request, runId, 240_000).finally(() => (ended = true));
    while (!ended) {
      answers.push(
        await withTimeout(
          page.evaluate(() => {
            const box = document.querySelector<HTMLElement>('[data-testid="train-progress"]')!.dataset;
            return { at: performance.now(), phase: box.phase ?? '', batch: box.batch ?? '' };
          }),
          10_000,
          'a round trip to the page',
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, ASK_EVERY_MS));
    }
    expect((await run).status).toBe('completed');
    const report = await mainThreadReport(page);

    // The window that counts: from the first answer that saw training to the last before the tab went idle.
    const first = answers.findIndex((a) => a.phase === 'training');
    const last = answers.findLastIndex((a) => a.phase === 'training' || a.phase === 'evaluating' || a.phase === 'submitting');
    const during = answers.slice(first, last + 1);
    const gaps = during.slice(1).map((a, i) => a.at - during[i]!.at);
    const batches = new Set(during.map((a) => a.batch)).size;
    const longestGap = Math.max(...gaps);
    console.log(
      `training round: ${during.length} answers over ${batches} batch counts; longest gap between answers ${longestGap.toFixed(0)} ms ` +
        `(asked every ${ASK_EVERY_MS} ms); longest main-thread task ${report.longest} ms, ${report.count} long tasks, ${report.total} ms in long tasks; ` +
        `longest timer delay ${report.timerDelay} ms`,
    );
    // The window was real: the page saw training move on while it answered.
    expect(during.length).toBeGreaterThanOrEqual(8);
    expect(batches).toBeGreaterThanOrEqual(4);
    expect(longestGap).toBeLessThan(ASK_EVERY_MS + ANSWER_WITHIN_MS);
    expect(report.longest).toBeLessThan(LONG_TASK_LIMIT_MS);
    expect(tab.errors).toEqual([]);
  });
});
