/** BENCHMARKS.md rows and words for the browser bench's worker and thread figures (issue 15). */
import type { WebGpuBenchResult, WorkerBenchResults, WorkerBenchRow } from './browser-bench';

type Row = [string, string, string, string];

/** Main-thread ms / worker ms at or above this: the worker costs the tab no training speed. */
export const WORKER_SPEED_TARGET = 0.95;
const MODELS = { mnist: 'MNIST CNN, batch 64', 'chest-xray': 'chest X-ray CNN 64x64, batch 32' } as const;

const f = (x: number | undefined, digits = 3) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

/** The worker figures inside `results.browser`, from a run that measured them. */
export function workerResults(browser: unknown): WorkerBenchResults | undefined {
  const worker = (browser as { worker?: WorkerBenchResults } | null | undefined)?.worker;
  return worker && Array.isArray(worker.rows) ? worker : undefined;
}

function row(w: WorkerBenchResults, model: keyof typeof MODELS, where: 'main' | 'worker', threaded: boolean): WorkerBenchRow | undefined {
  return w.rows.find((r) => (r.backend ?? 'wasm') === 'wasm' && r.model === model && r.where === where && (r.threadsAsked > 1) === threaded);
}

/** The WebGPU row when it could not be measured: unavailable, with the tab's reason (a measured one is among browserMsPerBatch). */
export function browserWebGpuRows(browser: unknown): Row[] {
  const webgpu = (browser as { webgpu?: WebGpuBenchResult } | null | undefined)?.webgpu;
  if (!webgpu || webgpu.available) return [];
  return [['browser MNIST CNN ms/batch, webgpu', 'unavailable', '', webgpu.reason.replace(/\|/g, '/').slice(0, 160)]];
}

export function browserWorkerRows(browser: unknown): Row[] {
  const w = workerResults(browser);
  if (!w) return browserWebGpuRows(browser);
  const webgl = (where: 'main' | 'worker') => w.rows.find((r) => r.backend === 'webgl' && r.where === where)?.msPerBatch;
  const webglRows: Row[] =
    w.webglWorkerVsMain === undefined
      ? []
      : [[`browserWorkerVsMain, MNIST CNN (webgl, ms/batch main ${f(webgl('main'), 0)} / worker ${f(webgl('worker'), 0)})`, f(w.webglWorkerVsMain), '(no target)', '']];
  return (Object.keys(MODELS) as Array<keyof typeof MODELS>).flatMap((model): Row[] => {
    const ratio = w.workerVsMain[model];
    const threaded = row(w, model, 'worker', true);
    return [
      [`browserWorkerVsMain, ${MODELS[model]} (wasm)`, f(ratio), `>= ${WORKER_SPEED_TARGET}`, ratio === undefined ? 'not measured' : ratio >= WORKER_SPEED_TARGET ? 'met' : '**missed**'],
      [`  ms/batch: main thread / worker / worker with ${threaded?.threads ?? '?'} wasm threads`, [row(w, model, 'main', false), row(w, model, 'worker', false), threaded].map((r) => f(r?.msPerBatch, 1)).join(' / '), '', ''],
      [`browserThreadedVsSingle, ${MODELS[model]} (${threaded?.threads ?? '?'} threads, ${w.cores} cores)`, f(w.threadedVsSingle[model]), '(no target: > 1 = threads faster)', ''],
    ];
  }).concat(webglRows, browserWebGpuRows(browser));
}

export function browserWorkerMeaning(browser: unknown): string {
  const w = workerResults(browser);
  const threads = w ? (row(w, 'mnist', 'worker', true)?.threads ?? '?') : 'N';
  return `- **browserWorkerVsMain**: the tab trains in a Web Worker (issue 15). Per-batch time (median \`trainOnBatch\`, after two
  warm-up batches) on single-threaded wasm on the bench page's main thread, divided by the same in a module worker: >= 1 means
  the worker is as fast. Each figure is the mean of two fresh pages measured in mirrored order (A B C C B A).
- **browserThreadedVsSingle**: single-threaded wasm ms/batch divided by threaded SIMD wasm with ${threads} threads (one per core
  here), both in a worker on the cross-origin isolated client page. TF.js runs at most half of \`navigator.hardwareConcurrency\`
  threads (it counts two logical cores per physical one), so the bench reports twice the threads asked for to it.
  The WebGL row is the main / worker ratio on WebGL (SwiftShader here; an OffscreenCanvas in the worker), a few batches each.
- **browser MNIST CNN ms/batch, webgpu**: the same per-batch measure on TF.js's WebGPU backend (?backend=webgpu), in a browser
  of its own launched with ${webGpuArgs(browser)}, which give headless Chromium a SwiftShader (software) adapter here;
  "unavailable" with the tab's reason where no adapter was offered. The tab's automatic choice never takes a software adapter.`;
}

function webGpuArgs(browser: unknown): string {
  const args = (browser as { webgpu?: WebGpuBenchResult } | null | undefined)?.webgpu?.args;
  return args?.length ? args.map((a) => `\`${a}\``).join(' ') : "WebGPU's flags";
}
