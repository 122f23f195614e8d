import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgl';
import type { BackendInfo, BackendName } from '@fl/shared';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { configureWasmPaths } from './wasm-paths';
import type { BackendRequest } from './page-params';
import { afterWebGpuProbe, isSoftwareRenderer, planBackend, type BackendPlan, type ProbeTiming, type RendererProbe } from './backend-plan';
import { probeWebGpu } from './webgpu-probe';
import { timeBatches } from './bench/batch-timing';

/** Reads the WebGL 2 renderer on a throwaway canvas of the kind TF.js itself uses (OffscreenCanvas first). */
export function probeRenderer(): RendererProbe {
  let gl: WebGL2RenderingContext | null;
  try {
    // In the training worker only OffscreenCanvas exists; TF.js's WebGL backend draws on one there too.
    gl =
      typeof OffscreenCanvas === 'function'
        ? new OffscreenCanvas(1, 1).getContext('webgl2')
        : typeof document !== 'undefined'
          ? document.createElement('canvas').getContext('webgl2')
          : null;
  } catch {
    gl = null;
  }
  if (!gl) return { webgl2: false, renderer: null, software: false };
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  // Browsers cap live WebGL contexts (Chrome: 16); give this one back at once.
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { webgl2: true, renderer, software: isSoftwareRenderer(renderer) };
}

async function tryBackend(name: BackendName, wasmThreads: number): Promise<string | null> {
  try {
    if (name === 'wasm') {
      configureWasmPaths(wasmThreads);
      await initWasmBackend();
    } else {
      // Fetched only now: the wasm and WebGL paths never load the WebGPU kernels.
      if (name === 'webgpu') await import('./webgpu-kernels');
      if (!(await tf.setBackend(name))) return `tf.setBackend('${name}') returned false`;
    }
    await tf.ready();
    // setBackend can "succeed" while the engine silently sits on another backend; trust only getBackend().
    const active = tf.getBackend();
    return active === name ? null : `asked for ${name}, TF.js runs on ${active}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** MNIST batches the speed probe times, after timeBatches' two warm-up batches (shader compiles). */
const PROBE_BATCHES = 3;

/** Median ms per MNIST CNN batch on one backend, or why it would not run. */
async function timeBackend(name: BackendName, wasmThreads: number): Promise<ProbeTiming> {
  const failure = await tryBackend(name, wasmThreads);
  if (failure !== null) return { failed: failure };
  try {
    return { ms: await timeBatches('mnist', PROBE_BATCHES) };
  } catch (error) {
    return { failed: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Auto mode on a real GPU's adapter: a few timed batches on WebGPU and on the backend auto would otherwise
 * take, and the slower one's GPU memory given back (it was only started for the probe).
 */
async function timeWebGpu(plan: BackendPlan, wasmThreads: number): Promise<BackendPlan> {
  const rival = plan.order[0]!;
  const webgpu = await timeBackend('webgpu', wasmThreads);
  const other = await timeBackend(rival, wasmThreads);
  const decided = afterWebGpuProbe(plan, webgpu, other);
  const loser = decided.order[0] === 'webgpu' ? rival : 'webgpu';
  if (loser !== 'wasm') {
    // Off the loser before removing it: removing the active backend would leave TF.js to pick one itself.
    await tryBackend(decided.order[0]!, wasmThreads);
    tf.removeBackend(loser);
    return { ...decided, order: decided.order.filter((b) => b !== loser) };
  }
  return decided;
}

export interface BackendOptions {
  /** Threads for wasm (1: the single-threaded binary); more need a cross-origin isolated page. */
  wasmThreads?: number;
}

/** "; 2 wasm threads", said only when threads run. */
function threadsNote(name: BackendName): string {
  const threads = name === 'wasm' ? getThreadsCount() : 1;
  return threads > 1 ? `; ${threads} wasm threads` : '';
}

/**
 * Starts the planned backend, falling back along the plan's order, and says what happened. WebGPU is looked
 * for in auto mode and when forced; its kernels are loaded only when it is about to run.
 */
export async function startBackend(request: BackendRequest, options: BackendOptions = {}): Promise<BackendInfo> {
  const threads = options.wasmThreads ?? 1;
  const probe = probeRenderer();
  const gpu = request === 'auto' || request === 'webgpu' ? await probeWebGpu() : null;
  let plan = planBackend(request, probe, gpu);
  if (plan.timeWebGpu) plan = await timeWebGpu(plan, threads);
  const failures: string[] = [];
  let webgpu = plan.webgpu;
  for (const name of plan.order) {
    const failure = await tryBackend(name, threads);
    if (failure === null) {
      const fellBack = failures.length ? `; ${failures.join('; ')}: fell back to ${name}` : '';
      const software = name === 'webgpu' ? webgpu?.adapter === 'software' : probe.webgl2 ? probe.software : undefined;
      return {
        name,
        ...(probe.renderer ? { renderer: probe.renderer.slice(0, 300) } : {}),
        ...(software === undefined ? {} : { software }),
        reason: `${plan.reason}${fellBack}${threadsNote(name)}`.slice(0, 300),
        ...(webgpu ? { webgpu } : {}),
      };
    }
    failures.push(`${name} failed to start (${failure})`);
    if (name === 'webgpu' && webgpu) webgpu = { ...webgpu, adapter: 'unavailable', reason: `TF.js's WebGPU backend failed to start: ${failure}`.slice(0, 300) };
  }
  throw new Error(`no TF.js backend could start: ${failures.join('; ')}`);
}
