/** The worker half of the browser bench: per-batch time inside a module worker, on wasm with or without threads, on WebGL or on WebGPU. */
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { startBackend } from '../backend';
import { timeBatches, type BenchModel } from './batch-timing';

export interface WorkerBenchRequest {
  /** wasm (default), webgl (a worker draws on an OffscreenCanvas) or webgpu (navigator.gpu, in workers too). */
  backend?: 'wasm' | 'webgl' | 'webgpu';
  model: BenchModel;
  batches: number;
  /** wasm threads wanted (1: the single-threaded binary). */
  threads: number;
}

export interface WorkerBenchAnswer {
  msPerBatch: number;
  backend: string;
  threads: number;
  crossOriginIsolated: boolean;
  error?: string;
  /** Why the backend asked for did not run (WebGPU without an adapter: the tab's own words). */
  reason?: string;
}

interface WorkerScope {
  postMessage(message: WorkerBenchAnswer): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerBenchRequest>) => void): void;
}

const scope = self as unknown as WorkerScope;
scope.addEventListener('message', (event) => {
  const { model, batches, threads, backend = 'wasm' } = event.data;
  void (async () => {
    try {
      // TF.js's wasm takes navigator.hardwareConcurrency / 2 as the most threads it will run (it assumes two
      // logical cores per physical one), so on 2 cores it runs 1 whatever is asked. To measure N threads, the
      // bench tells it 2N logical cores; the threads still share this machine's real cores.
      if (threads > 1) Object.defineProperty(Object.getPrototypeOf(navigator), 'hardwareConcurrency', { get: () => 2 * threads, configurable: true });
      const info = await startBackend(backend, { wasmThreads: threads });
      const ran = tf.getBackend();
      const crossOriginIsolated = globalThis.crossOriginIsolated === true;
      // A backend that fell back is not timed: its figure would stand in the other's row.
      if (ran !== backend) return scope.postMessage({ msPerBatch: NaN, backend: ran, threads: 1, crossOriginIsolated, reason: info.webgpu?.reason ?? info.reason ?? '' });
      const msPerBatch = await timeBatches(model, batches);
      scope.postMessage({ msPerBatch, backend: ran, threads: ran === 'wasm' ? getThreadsCount() : 1, crossOriginIsolated });
    } catch (error) {
      scope.postMessage({ msPerBatch: NaN, backend: tf.getBackend() ?? 'none', threads: 0, crossOriginIsolated: globalThis.crossOriginIsolated === true, error: String(error) });
    }
  })();
});
