import { expect, test, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { epsilonFor } from '../shared/src/privacy/index';
import { E2E_ADMIN_TOKEN } from '../playwright.config';
import { hubStatus, hubUrl, waitForRunEnd, waitUntilIdle } from './support/hub-api';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Beside the suite's other screenshots unless SCREENSHOT_DIR says elsewhere (another spec's run clears test-results/).
const screenshots = process.env.SCREENSHOT_DIR ?? join(repoRoot, 'test-results/screenshots');

/** `pnpm sim` with `count` headless MNIST clients in one process, killed with its process group. */
function startHeadless(name: string, count: number): { leave(): Promise<void> } {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', '--hub', hubUrl, '--clients', String(count), '--name', name], {
    cwd: join(repoRoot, 'hub'),
    detached: true,
    stdio: 'ignore',
  });
  return {
    async leave() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((done) => child.once('exit', done));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

async function shoot(page: Page, name: string, area?: string): Promise<void> {
  mkdirSync(screenshots, { recursive: true });
  if (area) await page.locator(`.area-${area}`).screenshot({ path: join(screenshots, `${name}.png`) });
  else await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

test.describe.configure({ mode: 'serial' });
// Tall enough for the whole page: element screenshots need no scrolling, so the sticky header covers nothing.
test.use({ viewport: { width: 1280, height: 2100 } });

test('a DP run from the launch form: projected epsilon, the live meter, the epsilon chart and the budget in the history', async ({ page, request }) => {
  const clients = startHeadless('e2e-dp', 3);
  try {
    // Two of three clients per round, z = 1: a target between round 2's and round 3's epsilon lets exactly two rounds through.
    const eps = (rounds: number) => epsilonFor({ samplingRate: 2 / 3, noiseMultiplier: 1, rounds, delta: 1e-5 }).epsilon;
    const target = ((eps(2) + eps(3)) / 2).toFixed(2);

    await page.goto(`/?token=${encodeURIComponent(E2E_ADMIN_TOKEN)}`);
    await expect(page.getByTestId('client-row')).toHaveCount(3, { timeout: 90_000 });
    await waitUntilIdle(request);

    await page.getByTestId('setting-rounds').fill('3');
    await page.getByTestId('setting-batchSize').fill('64');
    await page.getByTestId('setting-clientsPerRound').fill('2');
    await page.getByTestId('setting-dp').check();
    await page.getByTestId('setting-targetEpsilon').fill(target);
    const projection = page.getByTestId('dp-projection');
    await expect(projection).toContainText(`Projected ε ${eps(3).toFixed(2)} after 3 rounds (δ 1e-5).`);
    await expect(projection).toContainText('q = 0.67: 2 of 3 eligible clients drawn per round.');
    await expect(projection).toContainText('allows 2 of 3 rounds: the run will end early, after round 2.');
    await expect(page.getByTestId('dp-use-noise')).toBeVisible();
    await shoot(page, 'dashboard-dp-form', 'launch');

    // A conflict is refused in the hub's words before anything is sent.
    await page.getByTestId('setting-dpNoise').selectOption('distributed');
    await expect(page.getByTestId('launch-conflict')).toContainText('distributed noise leaves each update with only a share of the noise');
    await page.getByTestId('setting-dpNoise').selectOption('central');
    await expect(page.getByTestId('launch-conflict')).toHaveCount(0);

    await page.getByTestId('launch').click();
    await expect
      .poll(async () => (await hubStatus(request)).run?.settings ?? null)
      .toMatchObject({ clientsPerRound: 2, dp: { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5, targetEpsilon: Number(target), noise: 'central' } });
    const runId = (await hubStatus(request)).run!.id;
    await expect(page.getByTestId('drawn-line')).toHaveText('Drawn 2 of 3 eligible clients this round (seeded); the rest wait.', { timeout: 60_000 });
    await expect(page.getByTestId('dp-badge').first()).toBeVisible();

    // Round 1 committed: the meter shows what it spent against the target.
    await expect(page.getByTestId('privacy-meter-text')).toHaveText(`ε ${eps(1).toFixed(2)} of ${Number(target).toFixed(2)} (δ 1e-5)`, { timeout: 180_000 });
    await expect(page.getByTestId('epsilon-chart')).toHaveAttribute('data-points', '1');
    await shoot(page, 'dashboard-dp-running');

    const run = await waitForRunEnd(request, runId, 240_000);
    expect(run.status).toBe('completed');
    expect(run.reason).toMatch(/^privacy budget reached: round 3 would raise epsilon/);
    expect(run.rounds.map((r) => r.epsilon?.toFixed(6))).toEqual([eps(1).toFixed(6), eps(2).toFixed(6)]);

    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await expect(row.getByTestId('run-end-reason')).toHaveText('privacy budget reached before round 3');
    await expect(row.getByTestId('dp-badge')).toHaveText(`DP ε ${eps(2).toFixed(2)}`);
    await expect(page.getByTestId('epsilon-chart')).toHaveAttribute('data-points', '2');
    await shoot(page, 'dashboard-dp-chart', 'chart');
    await shoot(page, 'dashboard-dp-finished');
  } finally {
    await clients.leave();
  }
});
