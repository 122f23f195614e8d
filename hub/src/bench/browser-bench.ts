import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { inProcessHub } from './bench-hub';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../e2e/support/chromium';

/** What the bench page (web-client/bench.html) answers for one backend. */
export interface BrowserBackendResult {
  backend: string;
  /** The backend TF.js actually ran on (setBackend can fall back). */
  actual: string;
  msPerBatch: number;
  /** Samples per second of the tab's trainLocal loop and of a bare model.fit on the same data. */
  loopSamplesPerSec: number;
  fitSamplesPerSec: number;
}


const clientDist = fileURLToPath(new URL('../../../web-client/dist/bench.html', import.meta.url));

/** Runs the bench page in headless Chromium once per backend; each in a fresh page. */
export async function benchBrowser(options: { quick: boolean; log: (m: string) => void }) {
  if (!existsSync(clientDist)) {
    options.log('   building the client page (web-client/dist) first');
    const build = spawnSync('pnpm', ['--filter', '@fl/web-client', 'build'], { stdio: 'inherit' });
    if (build.status !== 0 || !existsSync(clientDist)) throw new Error('could not build web-client/dist/bench.html');
  }
  const hub = await inProcessHub();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const results: BrowserBackendResult[] = [];
  try {
    for (const backend of ['wasm', 'webgl', 'cpu']) {
      const page = await browser.newPage();
      await page.goto(`${hub.url}/client/bench.html?backend=${backend}`);
      await page.waitForFunction(() => '__flBench' in globalThis, undefined, { timeout: 60_000 });
      const batches = backend === 'cpu' ? 3 : options.quick ? 8 : 20;
      page.setDefaultTimeout(600_000);
      const result = (await page.evaluate(
        async ({ backend, batches }) => {
          const bench = (globalThis as unknown as { __flBench: { run(o: { backend: string; batches: number }): Promise<unknown> } }).__flBench;
          return bench.run({ backend, batches });
        },
        { backend, batches },
      )) as BrowserBackendResult;
      results.push(result);
      options.log(`   ${backend} (ran on ${result.actual}): ${result.msPerBatch.toFixed(1)} ms/batch, loop ${result.loopSamplesPerSec.toFixed(0)} vs fit ${result.fitSamplesPerSec.toFixed(0)} samples/s`);
      await page.close();
    }
  } finally {
    await browser.close();
    await hub.close();
  }
  const msPerBatch = Object.fromEntries(results.map((r) => [r.backend, r.msPerBatch]));
  // Compared on the backend the tab picks here (wasm on a software GPU).
  const wasm = results.find((r) => r.backend === 'wasm')!;
  return { msPerBatch, clientVsBareTfjs: wasm.loopSamplesPerSec / wasm.fitSamplesPerSec, results };
}
