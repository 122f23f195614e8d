import { expect, test, type Browser, type BrowserContext, type Page, type WebSocketRoute } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunDetail } from '../shared/src/api';
import { E2E_ADMIN_TOKEN } from '../playwright.config';
import { hubStatus, hubUrl, launchRun, stopRun, waitForRunEnd, waitUntilIdle } from './support/hub-api';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Written on every run for a person to look at; the README's copies in docs/screenshots are chosen by hand.
const screenshots = join(repoRoot, 'test-results/screenshots');

/** A training client the tests can take away again: a browser tab, or a headless process. */
interface TrainingClient {
  name: string;
  leave(): Promise<void>;
}

/** `pnpm sim`'s CLI with one client named `${name}-1`, run by node and tsx directly; killed with its whole process group. */
function startHeadless(name: string): TrainingClient {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/sim/cli.ts', '--hub', hubUrl, '--clients', '1', '--name', name],
    { cwd: join(repoRoot, 'hub'), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let leaving = false;
  child.on('exit', (code) => {
    if (!leaving && code !== 0) console.error(`[${name}] exited with ${code}:\n${output.slice(-20).join('\n')}`);
  });
  return {
    name: `${name}-1`,
    async leave() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((done) => child.once('exit', done));
      leaving = true;
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

/** A real browser tab at /client/: a page that is not built (or does not join) fails the test here. */
async function openClientTab(browser: Browser, n: number): Promise<TrainingClient> {
  const name = `e2e-tab-${n}`;
  const context: BrowserContext = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${hubUrl}/client/?name=${name}`);
  await expect(tab.getByTestId('client-status')).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
  await expect(tab.getByTestId('task-mnist')).toBeChecked();
  return { name, leave: () => context.close() };
}

async function openDashboard(page: Page, token?: string): Promise<void> {
  await page.goto(token ? `/?token=${encodeURIComponent(token)}` : '/');
  await expect(page.getByTestId('hub-status')).toBeVisible();
}

test.describe.configure({ mode: 'serial' });

test.describe('dashboard', () => {
  const clients: TrainingClient[] = [];

  test.beforeAll(async ({ browser }) => {
    clients.push(await openClientTab(browser, 1), await openClientTab(browser, 2), startHeadless('e2e-headless'));
  });

  test.afterAll(async () => {
    await Promise.all(clients.map((c) => c.leave()));
  });

  test('without the token the page is read-only and the hub refuses forged launches with 401', async ({ page, request }) => {
    await openDashboard(page);
    await expect(page.getByTestId('access-notice')).toContainText('?token=');
    await expect(page.getByTestId('client-row')).toHaveCount(3, { timeout: 60_000 });
    await expect(page.getByTestId('launch')).toHaveCount(0);
    await expect(page.getByTestId('stop')).toHaveCount(0);

    const runsBefore = ((await (await request.get('/api/runs')).json()) as RunDetail[]).length;
    const anonymous = await request.post('/api/runs', { data: { task: 'mnist', rounds: 1 } });
    expect(anonymous.status()).toBe(401);
    expect((await anonymous.json()).error.code).toBe('HUB_ERR_UNAUTHORIZED');
    const forged = await request.post('/api/runs', {
      data: { task: 'mnist', rounds: 1 },
      headers: { authorization: 'Bearer not-the-admin-token' },
    });
    expect(forged.status()).toBe(401);
    expect(((await (await request.get('/api/runs')).json()) as RunDetail[]).length).toBe(runsBefore);
  });

  test('launches a run with edited settings and follows it live to the history and the model download', async ({ page, request }) => {
    await openDashboard(page, E2E_ADMIN_TOKEN);
    // The token leaves the address bar as soon as the page has read it.
    await expect(page).not.toHaveURL(/token=/);
    const rows = page.getByTestId('client-row');
    await expect(rows).toHaveCount(3, { timeout: 60_000 });
    await expect(rows.locator('.badge-browser')).toHaveCount(2);
    await expect(rows.locator('.badge-headless')).toHaveCount(1);
    // A single hub is a cluster of one: it leads, and holds the three clients (the card polls every 5 s).
    const nodes = page.getByTestId('cluster-nodes').locator('li');
    await expect(nodes).toHaveCount(1);
    await expect(nodes.first()).toHaveAttribute('data-leader', 'true');
    await expect(nodes.first()).toContainText('leads the rounds');
    await expect(nodes.first()).toContainText('3 clients', { timeout: 15_000 });
    await waitUntilIdle(request);
    // Who would take part, by the form's task: all three hold MNIST, none a chest X-ray folder.
    await expect(page.getByTestId('launch-eligible')).toHaveText('3 of 3 clients hold MNIST data and would take part.');
    await page.getByTestId('setting-task').selectOption('chest-xray');
    await expect(page.getByTestId('launch-eligible')).toHaveAttribute('data-eligible', '0');
    await page.getByTestId('setting-task').selectOption('mnist');
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'dashboard-idle.png'), fullPage: true });

    // Launch is refused, with its reason, while too few clients hold data.
    const launch = page.getByTestId('launch');
    await page.getByTestId('setting-minClients').fill('5');
    await expect(launch).toBeDisabled();
    await expect(page.getByTestId('launch-blocked')).toContainText('Needs 5 connected clients');

    // Settings the hub would refuse are caught before sending.
    await page.getByTestId('setting-minClients').fill('3');
    await page.getByTestId('setting-batchSize').fill('5000');
    await launch.click();
    await expect(page.getByTestId('launch-error')).toContainText('Batch size');
    expect((await hubStatus(request)).run).toBeNull();

    // Three rounds: round 1's point must be seen on the chart while a later round still trains.
    await page.getByTestId('setting-rounds').fill('3');
    await page.getByTestId('setting-epochs').fill('1');
    await page.getByTestId('setting-batchSize').fill('64');
    await page.getByTestId('setting-init').selectOption('fresh');
    await launch.click();

    await expect
      .poll(async () => (await hubStatus(request)).run?.settings ?? null)
      .toMatchObject({ task: 'mnist', rounds: 3, epochs: 1, batchSize: 64, minClients: 3 });
    const runId = (await hubStatus(request)).run!.id;
    await expect(page.getByTestId('stop')).toBeVisible();
    await expect(launch).toBeDisabled();

    const progress = page.getByTestId('round-progress');
    const chart = page.getByTestId('accuracy-chart');
    await expect(progress).toHaveAttribute('aria-valuemax', '3');
    await expect(progress).toHaveAttribute('data-round', '1');
    await expect(page.getByTestId('hub-status')).toHaveText(/training round 1 of 3/i, { timeout: 60_000 });
    await expect(page.getByTestId('participant')).toHaveCount(3);

    // Round 1 aggregated: the bar moves on, and round 1's point is drawn while round 2 still trains (its
    // evaluation runs beside round 2; the run:update carrying it once waited for round 2's commit). The page
    // itself watches, so the status is read at the moment the point appears.
    await expect(progress).toHaveAttribute('data-round', '2', { timeout: 120_000 });
    await expect(progress).toHaveAttribute('aria-valuenow', '1');
    const statusAtFirstPoint = await page.waitForFunction(
      () => {
        const points = document.querySelector('[data-testid="accuracy-chart"]')?.getAttribute('data-points');
        return points === '1' ? (document.querySelector('[data-testid="hub-status"]')?.textContent ?? '') : null;
      },
      null,
      { timeout: 120_000, polling: 50 },
    );
    expect(await statusAtFirstPoint.jsonValue()).toMatch(/round 2 of 3/i);
    await expect(chart.locator('circle.recharts-line-dot').first()).toBeVisible();
    await page.screenshot({ path: join(screenshots, 'dashboard-running.png'), fullPage: true });

    await expect(page.getByTestId('hub-status')).toHaveText('Idle', { timeout: 120_000 });
    await expect(progress).toHaveAttribute('aria-valuenow', '3');
    await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBe(3);
    await page.screenshot({ path: join(screenshots, 'dashboard-finished.png'), fullPage: true });

    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await expect(row).toHaveAttribute('data-status', 'completed');
    await expect(row).toContainText('3/3 rounds');

    // The download links serve the global model in TF.js layers format.
    await expect(page.getByTestId('model-mnist')).toHaveAttribute('data-ready', 'true');
    // The chest row agrees with the hub: earlier specs (chest-seeds) may have left a chest X-ray model on this shared hub.
    const models = (await (await request.get('/api/models')).json()) as { task: string }[];
    if (models.some((m) => m.task === 'chest-xray')) await expect(page.getByTestId('model-chest-xray')).toHaveAttribute('data-ready', 'true');
    else await expect(page.getByTestId('model-chest-xray')).toContainText('no model yet');
    const modelHref = await page.getByTestId('model-json-mnist').getAttribute('href');
    const weightsHref = await page.getByTestId('weights-bin-mnist').getAttribute('href');
    const modelResponse = await page.request.get(new URL(modelHref!, page.url()).href, { timeout: 30_000 });
    expect(modelResponse.ok()).toBe(true);
    const model = (await modelResponse.json()) as {
      modelTopology: unknown;
      weightsManifest: { paths: string[]; weights: { shape: number[]; dtype: string }[] }[];
    };
    expect(model.modelTopology).toBeTruthy();
    const specs = model.weightsManifest.flatMap((group) => group.weights);
    expect(specs.length).toBeGreaterThan(0);
    expect(specs.every((w) => w.dtype === 'float32')).toBe(true);
    const expectedBytes = specs.reduce((sum, w) => sum + 4 * w.shape.reduce((n, d) => n * d, 1), 0);
    const weights = await page.request.get(new URL(weightsHref!, page.url()).href, { timeout: 30_000 });
    expect(weights.ok()).toBe(true);
    expect((await weights.body()).byteLength).toBe(expectedBytes);
  });

  test('a token the hub refuses drops the page to read-only', async ({ page, request }) => {
    await waitUntilIdle(request);
    await openDashboard(page, 'not-the-admin-token');
    await expect(page.getByTestId('client-row')).toHaveCount(3);
    await page.getByTestId('setting-rounds').fill('1');
    await page.getByTestId('launch').click();
    await expect(page.getByTestId('access-notice')).toContainText('Token refused');
    await expect(page.getByTestId('launch')).toHaveCount(0);
    expect((await hubStatus(request)).run).toBeNull();
    // The refused token is forgotten, not reused on reload.
    await page.reload();
    await expect(page.getByTestId('access-notice')).toContainText('Read-only');
  });

  test('while the hub is unreachable the page is greyed, says so, and comes back by itself', async ({ page, request }) => {
    await waitUntilIdle(request);
    // The hub stays up for the other tests: this page alone loses it, its sockets cut and refused.
    let reachable = true;
    const sockets: WebSocketRoute[] = [];
    // The dashboard's socket is WebSocket-only (no long-polling first): each connection is one routed WebSocket.
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      if (!reachable) return void ws.close();
      ws.connectToServer();
      sockets.push(ws);
    });
    await page.route(/\/socket\.io\//, (route) => (reachable ? route.continue() : route.abort()));
    await openDashboard(page, E2E_ADMIN_TOKEN);
    await expect(page.getByTestId('client-row')).toHaveCount(3);
    await expect(page.getByTestId('hub-offline')).toHaveCount(0);
    await expect.poll(() => sockets.length).toBeGreaterThan(0);

    reachable = false;
    for (const ws of sockets.splice(0)) await ws.close();
    await expect(page.getByTestId('hub-offline')).toContainText('reconnects by itself');
    await expect(page.locator('main.layout')).toHaveClass(/is-offline/);
    await page.screenshot({ path: join(screenshots, 'dashboard-offline.png'), fullPage: true });

    reachable = true;
    await expect(page.getByTestId('hub-offline')).toHaveCount(0);
    await expect(page.locator('main.layout')).not.toHaveClass(/is-offline/);
  });

  test('a client that leaves mid-round gets a line on the run; one that closes its tab, or whose process dies, leaves the list', async ({ page, request }) => {
    await waitUntilIdle(request);
    await openDashboard(page, E2E_ADMIN_TOKEN);
    const rows = page.getByTestId('client-row');
    await expect(rows).toHaveCount(3);

    const [tab, , headless] = clients;
    const runId = await launchRun(request, { task: 'mnist', rounds: 2, epochs: 5, batchSize: 16, minClients: 1, init: 'fresh', seed: 1 });
    const headlessRow = rows.filter({ hasText: headless!.name });
    await expect(headlessRow).toHaveAttribute('data-state', 'training', { timeout: 60_000 });
    await headless!.leave();
    await expect(page.getByTestId('participant-left')).toHaveText(`${headless!.name} left during round 1; the round carries on without it.`);
    await stopRun(request, runId);
    expect((await waitForRunEnd(request, runId, 60_000)).status).toBe('stopped');
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: headless!.name })).toHaveCount(0);

    await tab!.leave();
    await expect(rows).toHaveCount(1);
    await expect(rows.filter({ hasText: tab!.name })).toHaveCount(0);
  });
});
