import { expect, test, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { E2E_ADMIN_TOKEN } from '../playwright.config';
import { hubStatus, hubUrl, waitForRunEnd, waitUntilIdle } from './support/hub-api';
import { SERVER_OPTIMIZER_DEFAULTS } from '../shared/src/settings';

const ADAM_LR = SERVER_OPTIMIZER_DEFAULTS.fedadam.learningRate;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Beside the suite's other screenshots unless SCREENSHOT_DIR says elsewhere (another spec's run clears test-results/).
const screenshots = process.env.SCREENSHOT_DIR ?? join(repoRoot, 'test-results/screenshots');

/** `count` headless MNIST clients in one process (the hub's simulator), its output in `log`, killed with its process group. */
function startHeadless(name: string, count: number, log: string): { leave(): Promise<void> } {
  const out = openSync(log, 'w');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', '--hub', hubUrl, '--clients', String(count), '--name', name], {
    cwd: join(repoRoot, 'hub'),
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return {
    async leave() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((done) => child.once('exit', done));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

async function shoot(page: Page, name: string, area: string): Promise<void> {
  mkdirSync(screenshots, { recursive: true });
  await page.locator(`.area-${area}`).screenshot({ path: join(screenshots, `${name}.png`) });
}

// Tall enough for the whole page: element screenshots need no scrolling, so the sticky header covers nothing.
test.use({ viewport: { width: 1280, height: 2100 } });

test('a FedAdam run on Dirichlet shards from the launch form: hints, the clients\' label sparklines and the settings line', async ({ page, request }, testInfo) => {
  // The clients' output is kept beside the trace: a client that dies mid-round says why there.
  const clients = startHeadless('e2e-uneven', 3, testInfo.outputPath('headless-clients.log'));
  try {
    await page.goto(`/?token=${encodeURIComponent(E2E_ADMIN_TOKEN)}`);
    await expect(page.getByTestId('client-row')).toHaveCount(3, { timeout: 90_000 });
    await waitUntilIdle(request);

    await page.getByTestId('setting-rounds').fill('1');
    await page.getByTestId('setting-batchSize').fill('64');
    await expect(page.getByTestId('setting-dirichletAlpha')).toHaveCount(0);
    await page.getByTestId('setting-partition').selectOption('dirichlet');
    await page.getByTestId('setting-dirichletAlpha').fill('0.1');
    await page.getByTestId('setting-serverOptimizer').selectOption('fedadam');
    // The choice pre-fills its own defaults.
    await expect(page.getByTestId('setting-serverLearningRate')).toHaveValue(String(ADAM_LR));
    await expect(page.getByTestId('setting-beta2')).toHaveValue('0.99');
    await expect(page.getByTestId('setting-serverOptimizer-hint')).toContainText('non-IID');
    await shoot(page, 'dashboard-uneven-form', 'launch');

    await page.getByTestId('launch').click();
    await expect
      .poll(async () => (await hubStatus(request)).run?.settings ?? null)
      .toMatchObject({ partition: 'dirichlet', dirichletAlpha: 0.1, serverOptimizer: { name: 'fedadam', learningRate: ADAM_LR } });
    const runId = (await hubStatus(request)).run!.id;
    await expect(page.getByTestId('run-settings')).toContainText('dirichlet α 0.1 shards');
    await expect(page.getByTestId('run-settings')).toContainText(`server fedadam lr ${ADAM_LR}`);

    // Each client's sparkline shows the hub's counts for its shard.
    const sparklines = page.getByTestId('label-sparkline');
    await expect(sparklines).toHaveCount(3, { timeout: 60_000 });
    const status = await hubStatus(request);
    for (const client of status.clients) {
      const row = page.locator(`[data-testid="client-row"][data-client-id="${client.id}"]`);
      await expect(row.getByTestId('label-sparkline')).toHaveAttribute('data-labels', client.labels!.join(','));
      await expect(row.locator('svg[role="img"]')).toHaveAttribute('aria-label', /^Digits in this client's shard: 0: /);
    }
    await shoot(page, 'dashboard-uneven-clients', 'clients');

    const run = await waitForRunEnd(request, runId, 240_000);
    expect(run.status).toBe('completed');
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await expect(row).toContainText(`server fedadam lr ${ADAM_LR}`);
    await shoot(page, 'dashboard-uneven-history', 'history');
  } finally {
    await clients.leave();
  }
});
