import { describe, expect, it } from 'vitest';
import type { WorkerBenchResults, WorkerBenchRow } from '../browser-bench';
import { browserWebGpuRows, browserWorkerMeaning, browserWorkerRows, workerResults } from '../browser-report';

function row(model: WorkerBenchRow['model'], where: WorkerBenchRow['where'], threads: number, msPerBatch: number, backend: WorkerBenchRow['backend'] = 'wasm'): WorkerBenchRow {
  return { backend, model, where, threadsAsked: threads, threads, msPerBatch, crossOriginIsolated: true };
}

const worker: WorkerBenchResults = {
  cores: 2,
  rows: [
    row('mnist', 'main', 1, 30),
    row('mnist', 'worker', 1, 30.5),
    row('mnist', 'worker', 2, 40),
    row('chest-xray', 'main', 1, 800),
    row('chest-xray', 'worker', 1, 900),
    row('chest-xray', 'worker', 2, 700),
    row('mnist', 'main', 1, 400, 'webgl'),
    row('mnist', 'worker', 1, 500, 'webgl'),
  ],
  workerVsMain: { mnist: 30 / 30.5, 'chest-xray': 800 / 900 },
  threadedVsSingle: { mnist: 30.5 / 40, 'chest-xray': 900 / 700 },
  webglWorkerVsMain: 0.8,
};

describe('browser worker rows', () => {
  it('judges the worker against 0.95x the main thread and lists each model\'s three per-batch times', () => {
    const rows = browserWorkerRows({ msPerBatch: {}, worker });
    expect(rows.map(([name, value, , met]) => [name, value, met])).toEqual([
      ['browserWorkerVsMain, MNIST CNN, batch 64 (wasm)', '0.984', 'met'],
      ['  ms/batch: main thread / worker / worker with 2 wasm threads', '30.0 / 30.5 / 40.0', ''],
      ['browserThreadedVsSingle, MNIST CNN, batch 64 (2 threads, 2 cores)', '0.762', ''],
      ['browserWorkerVsMain, chest X-ray CNN 64x64, batch 32 (wasm)', '0.889', '**missed**'],
      ['  ms/batch: main thread / worker / worker with 2 wasm threads', '800.0 / 900.0 / 700.0', ''],
      ['browserThreadedVsSingle, chest X-ray CNN 64x64, batch 32 (2 threads, 2 cores)', '1.286', ''],
      ['browserWorkerVsMain, MNIST CNN (webgl, ms/batch main 400 / worker 500)', '0.800', ''],
    ]);
  });

  it('has nothing to say for a run from before the worker figures', () => {
    expect(workerResults({ msPerBatch: {} })).toBeUndefined();
    expect(browserWorkerRows(undefined)).toEqual([]);
    expect(browserWorkerMeaning(undefined)).toContain('browserWorkerVsMain');
  });
});

describe('browser WebGPU row', () => {
  const args = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'];

  it('says unavailable, with the tab\'s reason, when the WebGPU browser offered no adapter', () => {
    const webgpu = { available: false, args, reason: 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)' };
    const expected = [['browser MNIST CNN ms/batch, webgpu', 'unavailable', '', 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)']];
    expect(browserWebGpuRows({ msPerBatch: {}, webgpu })).toEqual(expected);
    // Also after the worker rows, where BENCHMARKS.md lists it.
    expect(browserWorkerRows({ msPerBatch: {}, worker, webgpu }).at(-1)).toEqual(expected[0]);
    expect(browserWorkerRows({ msPerBatch: {}, webgpu })).toEqual(expected);
  });

  it('adds no row when WebGPU was measured (its figure is among msPerBatch), and names the flags it ran with', () => {
    expect(browserWebGpuRows({ msPerBatch: { webgpu: 4050 }, webgpu: { available: true, args } })).toEqual([]);
    expect(browserWorkerMeaning({ webgpu: { available: true, args } })).toContain('`--use-webgpu-adapter=swiftshader`');
  });
});
