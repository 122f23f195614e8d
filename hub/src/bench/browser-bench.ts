import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from '@playwright/test';
import { inProcessHub } from './bench-hub';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_CHROMIUM_ARGS } from '../../../e2e/support/chromium';

/** What the bench page (web-client/bench.html) answers for one backend. */
export interface BrowserBackendResult {
  backend: string;
  /** The backend TF.js actually ran on (setBackend can fall back). */
  actual: string;
  msPerBatch: number;
  /** Samples per second of the tab's trainLocal loop and of a bare model.fit on the same data. */
  loopSamplesPerSec: number;
  fitSamplesPerSec: number;
  /** The tab's words for its choice; for a backend that did not run, why. */
  reason?: string;
}

/** The WebGPU row: measured like the others in a browser launched with WebGPU's flags, or why it could not be. */
export type WebGpuBenchResult = { available: true; args: string[] } | { available: false; args: string[]; reason: string };

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
  let rows: Awaited<ReturnType<typeof benchBackends>>;
  let worker: WorkerBenchResults | undefined;
  try {
    rows = await benchBackends(browser, hub.url, options);
    options.log('   main thread vs worker, single- vs multi-threaded wasm');
    worker = await benchWorkerThreads(browser, hub.url, options);
  } finally {
    await browser.close();
    await hub.close();
  }
  const { results, webgpu } = rows;
  const msPerBatch = Object.fromEntries(results.map((r) => [r.backend, r.msPerBatch]));
  // Compared on the backend the tab picks here (wasm on a software GPU).
  const wasm = results.find((r) => r.backend === 'wasm')!;
  return { msPerBatch, clientVsBareTfjs: wasm.loopSamplesPerSec / wasm.fitSamplesPerSec, results, worker, webgpu };
}

/**
 * The MNIST CNN's per-batch time on wasm, WebGL and cpu in `browser`, then on WebGPU in a browser of its own
 * launched with WebGPU's flags (the rows above keep the flags the tab's tests use); WebGPU without an adapter
 * is reported unavailable with the tab's reason.
 */
export async function benchBackends(browser: Browser, hubUrl: string, options: { quick: boolean; log: (m: string) => void }): Promise<{ results: BrowserBackendResult[]; webgpu: WebGpuBenchResult }> {
  const results: BrowserBackendResult[] = [];
  const batchesFor = (backend: string) => (backend === 'cpu' ? 3 : options.quick ? 8 : 20);
  const logRow = (r: BrowserBackendResult, label: string) =>
    options.log(`   ${label}: ${r.msPerBatch.toFixed(1)} ms/batch, loop ${r.loopSamplesPerSec.toFixed(0)} vs fit ${r.fitSamplesPerSec.toFixed(0)} samples/s`);
  for (const backend of ['wasm', 'webgl', 'cpu']) {
    const result = await runBackend(browser, hubUrl, backend, batchesFor(backend));
    results.push(result);
    logRow(result, `${backend} (ran on ${result.actual})`);
  }
  const args = WEBGPU_CHROMIUM_ARGS.filter((a) => !CHROMIUM_ARGS.includes(a));
  const gpuBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: WEBGPU_CHROMIUM_ARGS });
  try {
    const result = await runBackend(gpuBrowser, hubUrl, 'webgpu', batchesFor('webgpu'));
    if (result.actual !== 'webgpu') {
      const reason = result.reason ?? `ran on ${result.actual}`;
      options.log(`   webgpu: unavailable (${reason})`);
      return { results, webgpu: { available: false, args, reason } };
    }
    results.push(result);
    logRow(result, `webgpu (${result.reason})`);
    return { results, webgpu: { available: true, args } };
  } finally {
    await gpuBrowser.close();
  }
}

/** One backend on the bench page's run(), in a fresh page; a backend that fell back says so in `actual` and is not timed. */
export async function runBackend(browser: Browser, hubUrl: string, backend: string, batches: number): Promise<BrowserBackendResult> {
  const page = await browser.newPage();
  try {
    await page.goto(`${hubUrl}/client/bench.html?backend=${backend}`);
    await page.waitForFunction(() => '__flBench' in globalThis, undefined, { timeout: 60_000 });
    page.setDefaultTimeout(600_000);
    return (await page.evaluate(
      async ({ backend, batches }) => {
        const bench = (globalThis as unknown as { __flBench: { run(o: { backend: string; batches: number }): Promise<unknown> } }).__flBench;
        return bench.run({ backend, batches });
      },
      { backend, batches },
    )) as BrowserBackendResult;
  } finally {
    await page.close();
  }
}

type BenchModel = 'mnist' | 'chest-xray';

/** One per-batch measurement of the bench page's perBatch(): where it ran and on how many wasm threads. */
export interface WorkerBenchRow {
  backend: 'wasm' | 'webgl';
  model: BenchModel;
  where: 'main' | 'worker';
  threadsAsked: number;
  /** Threads TF.js ran (1 when the page was not cross-origin isolated or threads were refused). */
  threads: number;
  msPerBatch: number;
  crossOriginIsolated: boolean;
}

/** The tab's training in a worker against the main thread, and threaded wasm against single-threaded (issue 15). */
export interface WorkerBenchResults {
  cores: number;
  rows: WorkerBenchRow[];
  /** Main-thread ms / worker ms per batch, single-threaded wasm: 1 = as fast, the goal is >= 0.95. */
  workerVsMain: Partial<Record<BenchModel, number>>;
  /** Single-threaded ms / threaded ms per batch, both in a worker: > 1 = threads are faster. */
  threadedVsSingle: Partial<Record<BenchModel, number>>;
  /** The same main / worker ratio on WebGL (SwiftShader here, through an OffscreenCanvas in the worker), MNIST. */
  webglWorkerVsMain?: number;
}

/**
 * Per-batch time on wasm for each model: on the main thread, in a worker, and in a worker with one wasm thread
 * per core. Each in a fresh page of the built client (served cross-origin isolated), twice in mirrored order
 * (A B C C B A) so a drift of the machine's load favours none; the two medians are averaged.
 */
export async function benchWorkerThreads(browser: Browser, hubUrl: string, options: { quick: boolean; log: (m: string) => void }): Promise<WorkerBenchResults> {
  const batches = options.quick ? 8 : 20;
  const measure = async (model: BenchModel, where: 'main' | 'worker', threads: number, backend: 'wasm' | 'webgl' = 'wasm', count = batches): Promise<WorkerBenchRow & { cores: number }> => {
    const page = await browser.newPage();
    try {
      await page.goto(`${hubUrl}/client/bench.html`);
      await page.waitForFunction(() => '__flBench' in globalThis, undefined, { timeout: 60_000 });
      page.setDefaultTimeout(600_000);
      const answer = (await page.evaluate(
        async (request) => {
          const bench = (globalThis as unknown as { __flBench: { perBatch(o: object): Promise<{ msPerBatch: number; threads: number; crossOriginIsolated: boolean; error?: string }> } }).__flBench;
          const cores = (globalThis as unknown as { navigator: { hardwareConcurrency: number } }).navigator.hardwareConcurrency;
          return { ...(await bench.perBatch(request)), cores };
        },
        { where, model, batches: count, threads, backend },
      )) as { msPerBatch: number; threads: number; crossOriginIsolated: boolean; error?: string; cores: number; backend: string };
      if (answer.error) throw new Error(`bench page, ${model} ${where} ${backend} ${threads} threads: ${answer.error}`);
      if (answer.backend !== backend) throw new Error(`bench page, ${model} ${where}: asked for ${backend}, ran on ${answer.backend}`);
      return { backend, model, where, threadsAsked: threads, threads: answer.threads, msPerBatch: answer.msPerBatch, crossOriginIsolated: answer.crossOriginIsolated, cores: answer.cores };
    } finally {
      await page.close();
    }
  };
  const cores = (await measure('mnist', 'main', 1)).cores;
  const rows: WorkerBenchRow[] = [];
  const workerVsMain: WorkerBenchResults['workerVsMain'] = {};
  const threadedVsSingle: WorkerBenchResults['threadedVsSingle'] = {};
  for (const model of ['mnist', 'chest-xray'] as const) {
    const configs = [['main', 1], ['worker', 1], ['worker', cores]] as const;
    const runs = [...configs, ...[...configs].reverse()];
    const measured: Array<WorkerBenchRow & { cores: number }> = [];
    for (const [where, threads] of runs) measured.push(await measure(model, where, threads));
    const averaged = configs.map(([where, threads]) => {
      const same = measured.filter((m) => m.where === where && m.threadsAsked === threads);
      const { cores: _cores, ...row } = same[0]!;
      return { ...row, msPerBatch: same.reduce((n, m) => n + m.msPerBatch, 0) / same.length };
    });
    rows.push(...averaged);
    const [main, single, threaded] = averaged as [WorkerBenchRow, WorkerBenchRow, WorkerBenchRow];
    workerVsMain[model] = main.msPerBatch / single.msPerBatch;
    threadedVsSingle[model] = single.msPerBatch / threaded.msPerBatch;
    options.log(
      `   ${model} on wasm: main thread ${main.msPerBatch.toFixed(1)} ms/batch, worker ${single.msPerBatch.toFixed(1)}, worker with ${threaded.threads} threads ${threaded.msPerBatch.toFixed(1)}` +
        `${threaded.crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`,
    );
  }
  // WebGL on SwiftShader is ~15x slower a batch here: a few batches, main then worker then main.
  const webglBatches = options.quick ? 3 : 6;
  const webgl: WorkerBenchRow[] = [];
  for (const where of ['main', 'worker', 'worker', 'main'] as const) {
    const { cores: _cores, ...measured } = await measure('mnist', where, 1, 'webgl', webglBatches);
    webgl.push(measured);
  }
  const mean = (where: string) => webgl.filter((r) => r.where === where).reduce((n, r) => n + r.msPerBatch, 0) / 2;
  rows.push({ ...webgl[0]!, msPerBatch: mean('main') }, { ...webgl[1]!, msPerBatch: mean('worker') });
  const webglWorkerVsMain = mean('main') / mean('worker');
  options.log(`   mnist on webgl: main thread ${mean('main').toFixed(1)} ms/batch, worker ${mean('worker').toFixed(1)} (${webglBatches} batches)`);
  return { cores, rows, workerVsMain, threadedVsSingle, webglWorkerVsMain };
}
