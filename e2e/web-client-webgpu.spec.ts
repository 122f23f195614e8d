import { chromium, expect, test, type Browser } from '@playwright/test';
import { CHROMIUM_PATH, WEBGPU_CHROMIUM_ARGS } from './support/chromium';
import { backendInfo, openClientTab, snapshot, type ClientTab } from './support/client-tab';
import { hubStatus, launchRun, roundClients, waitForRunEnd, waitUntilIdle } from './support/hub-api';
import { startHeadless } from './support/headless-clients';

/** The chunk holding TF.js's WebGPU backend (web-client/src/webgpu-kernels.ts), fetched only to run webgpu. */
const WEBGPU_CHUNK = /\/webgpu-kernels-[^/]*\.js$/;

/**
 * Issue 13: TF.js's WebGPU backend in the tab. Headless Chromium here offers a WebGPU adapter only with
 * WebGPU's flags (a SwiftShader one, software): those tests launch a browser of their own with them; the
 * shared browser keeps the flags every other spec uses, and has no adapter.
 */
test.describe('WebGPU on the SwiftShader adapter', () => {
  let gpuBrowser: Browser | undefined;
  const tabs: ClientTab[] = [];

  test.beforeAll(async () => {
    gpuBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: WEBGPU_CHROMIUM_ARGS });
  });

  test.afterAll(async () => {
    for (const tab of tabs) await tab.close();
    await gpuBrowser?.close();
  });

  test('?backend=webgpu trains a real MNIST round on WebGPU in the worker, and the tab and the hub say webgpu', async ({ request, baseURL }, testInfo) => {
    test.setTimeout(480_000);
    await waitUntilIdle(request);
    const requests: string[] = [];
    const tab = await openClientTab(gpuBrowser!, 'e2e-webgpu', { backend: 'webgpu', baseURL, requests });
    tabs.push(tab);
    const { page } = tab;
    const backend = page.getByTestId('backend');
    await expect(backend).toHaveAttribute('data-backend', 'webgpu');
    await expect(backend).toContainText('forced by ?backend=webgpu on a software adapter (google swiftshader (fallback adapter))');
    await expect(backend).not.toContainText('fell back');
    await expect(page.getByTestId('backend-webgpu')).toHaveAttribute('data-webgpu', 'software');
    expect(await backendInfo(page)).toMatchObject({ name: 'webgpu', software: true, webgpu: { adapter: 'software', description: 'google swiftshader (fallback adapter)' } });
    expect(requests.filter((url) => WEBGPU_CHUNK.test(url))).toHaveLength(1);
    await expect(page.getByTestId('mnist-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });

    // WebGPU on SwiftShader takes 1.4-4 s a batch of 64 here: three headless clients (Node, wasm) share the
    // 8,000 digits with the tab, which then trains 2,000 (32 batches, ~45 s) instead of all of them (3-8 minutes).
    const headless = startHeadless('e2e-webgpu-peer', 3, testInfo.outputPath('headless-clients.log'));
    try {
      await expect
        .poll(async () => (await hubStatus(request)).clients.filter((c) => c.task === 'mnist').map((c) => [c.name, c.backend.name]).sort(), { timeout: 90_000 })
        .toEqual([[tab.name, 'webgpu'], ...[1, 2, 3].map((i) => [`e2e-webgpu-peer-${i}`, 'wasm'])].sort());
      const runId = await launchRun(request, { task: 'mnist', rounds: 1, epochs: 1, batchSize: 64, minClients: 4, init: 'fresh', seed: 1, roundTimeoutSec: 420 });

      // The loss the tab reports is the epoch's running mean: taken at batch 2 it is the untrained model's.
      const early = await page.waitForFunction(
        () => {
          const progress = window.__flClient?.snapshot()?.progress;
          return progress && progress.batch >= 2 ? progress.loss : null;
        },
        null,
        { timeout: 120_000, polling: 200 },
      );
      const earlyLoss = (await early.jsonValue()) as number;
      const run = await waitForRunEnd(request, runId, 420_000);
      expect(run.status, run.reason ?? '').toBe('completed');
      expect(run.rounds[0]?.clients).toBe(4);
      const update = (await roundClients(request, runId, 1)).find((c) => c.name === tab.name);
      const last = (await snapshot(page))?.lastRound;
      console.log(
        `WebGPU (SwiftShader) in the worker: loss ${earlyLoss} at batch 2, ${update?.loss} over the epoch, training accuracy ${update?.accuracy}, ` +
          `${update?.trainMs} ms for ${update?.samples} samples; hub accuracy of the 4-client aggregate ${run.rounds[0]?.accuracy}`,
      );
      // The update the hub took is the tab's, trained on WebGPU: its share of the digits, a loss that fell.
      expect(update).toMatchObject({ samples: 2000 });
      expect(last?.runId).toBe(runId);
      expect(update!.loss).toBeLessThan(0.8 * earlyLoss);
      expect(update!.accuracy).toBeGreaterThan(0.3);
      // Measured in two runs: loss 2.33-2.39 -> 1.37-1.53, training accuracy 0.50-0.56, aggregate 0.82-0.87 on held-out digits.
      expect(run.rounds[0]?.accuracy).toBeGreaterThan(0.6);
      expect(tab.errors).toEqual([]);
    } finally {
      await headless.leave();
    }
  });

  test('auto mode does not pick the software adapter, says why, and never loads the WebGPU kernels', async ({ baseURL }) => {
    const requests: string[] = [];
    const tab = await openClientTab(gpuBrowser!, 'e2e-webgpu-auto', { baseURL, requests });
    tabs.push(tab);
    const { page } = tab;
    await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByTestId('backend')).toContainText('WebGPU not used: its adapter (google swiftshader (fallback adapter)) is software');
    const line = page.getByTestId('backend-webgpu');
    await expect(line).toHaveAttribute('data-webgpu', 'software');
    await expect(line).toContainText('not used: its adapter (google swiftshader (fallback adapter)) is software');
    expect((await backendInfo(page))?.webgpu?.probe).toBeUndefined();
    expect(requests.filter((url) => WEBGPU_CHUNK.test(url))).toEqual([]);
    expect(tab.errors).toEqual([]);
  });
});

test.describe('WebGPU without an adapter (the flags other specs use)', () => {
  let tab: ClientTab | undefined;

  test.afterAll(async () => {
    await tab?.close();
  });

  test('?backend=webgpu reports WebGPU unavailable with the reason and falls back to the automatic choice', async ({ browser }) => {
    const requests: string[] = [];
    tab = await openClientTab(browser, 'e2e-webgpu-none', { backend: 'webgpu', requests });
    const { page } = tab;
    const backend = page.getByTestId('backend');
    await expect(backend).toHaveAttribute('data-backend', 'wasm');
    await expect(backend).toContainText(
      'forced by ?backend=webgpu, but WebGPU is unavailable (no WebGPU adapter (navigator.gpu.requestAdapter() returned null)); choosing automatically: WebGL runs on SwiftShader (software)',
    );
    const line = page.getByTestId('backend-webgpu');
    await expect(line).toHaveAttribute('data-webgpu', 'unavailable');
    await expect(line).toHaveText('WebGPU: unavailable: no WebGPU adapter (navigator.gpu.requestAdapter() returned null)');
    expect(requests.filter((url) => WEBGPU_CHUNK.test(url))).toEqual([]);
    expect(tab.errors).toEqual([]);
  });
});
