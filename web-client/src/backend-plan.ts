import type { BackendName, WebGpuReport } from '@fl/shared';
import type { BackendRequest, ThreadsRequest } from './page-params';
import { SOFTWARE_GPU, type WebGpuProbe } from './gpu-kind';

export { isSoftwareRenderer } from './gpu-kind';

/** Fallback order when a backend fails to start: fastest first. */
const FALLBACK: readonly BackendName[] = ['webgl', 'wasm', 'cpu'];

export interface RendererProbe {
  webgl2: boolean;
  /** UNMASKED_RENDERER_WEBGL, or RENDERER where the debug extension is missing. */
  renderer: string | null;
  software: boolean;
}

export interface BackendPlan {
  /** Backends to try, in order. */
  order: BackendName[];
  reason: string;
  /** Auto mode on a real GPU's WebGPU adapter: time WebGPU against order[0] and take the faster (see afterWebGpuProbe). */
  timeWebGpu: boolean;
  /** What the tab says of WebGPU; absent when it did not look (another backend was forced). */
  webgpu?: WebGpuReport;
}

/** The automatic choice among WebGL, wasm and cpu, from the WebGL renderer alone. */
function withoutWebGpu(probe: RendererProbe): { order: BackendName[]; reason: string } {
  if (!probe.webgl2) return { order: ['wasm', 'cpu'], reason: 'no WebGL 2 in this browser: wasm' };
  if (probe.software) {
    const family = probe.renderer?.match(SOFTWARE_GPU)?.[0] ?? 'a software renderer';
    return { order: ['wasm', 'cpu'], reason: `WebGL runs on ${family} (software): wasm is ~13x faster here` };
  }
  return { order: ['webgl', 'wasm', 'cpu'], reason: 'WebGL on a real GPU' };
}

function webGpuReport(gpu: WebGpuProbe, reason: string): WebGpuReport {
  if (!gpu.available) return { adapter: 'unavailable', reason: gpu.reason.slice(0, 300) };
  return { adapter: gpu.software ? 'software' : 'gpu', description: gpu.description.slice(0, 200), reason: reason.slice(0, 300) };
}

/**
 * Which backend to try first and why; pure, so the choice is easy to follow. `gpu` is what navigator.gpu
 * offered (null: not looked at, as when WebGL, wasm or cpu is forced).
 */
export function planBackend(request: BackendRequest, probe: RendererProbe, gpu: WebGpuProbe | null = null): BackendPlan {
  const auto = withoutWebGpu(probe);
  if (request === 'webgpu') {
    if (!gpu?.available) {
      const why = gpu?.reason ?? 'not looked for';
      return { ...auto, timeWebGpu: false, reason: `forced by ?backend=webgpu, but WebGPU is unavailable (${why}); choosing automatically: ${auto.reason}`, ...(gpu ? { webgpu: webGpuReport(gpu, '') } : {}) };
    }
    const note = gpu.software ? ` on a software adapter (${gpu.description})` : '';
    return { order: ['webgpu', ...auto.order], timeWebGpu: false, reason: `forced by ?backend=webgpu${note}`, webgpu: webGpuReport(gpu, 'forced by ?backend=webgpu') };
  }
  if (request !== 'auto') {
    return { order: FALLBACK.slice(FALLBACK.indexOf(request)), timeWebGpu: false, reason: `forced by ?backend=${request}` };
  }
  if (!gpu) return { ...auto, timeWebGpu: false };
  if (!gpu.available) return { ...auto, timeWebGpu: false, reason: `${auto.reason}; WebGPU unavailable: ${gpu.reason}`, webgpu: webGpuReport(gpu, '') };
  if (gpu.software) {
    const why = `not used: its adapter (${gpu.description}) is software`;
    return { ...auto, timeWebGpu: false, reason: `${auto.reason}; WebGPU ${why}`, webgpu: webGpuReport(gpu, why) };
  }
  return { ...auto, timeWebGpu: true, webgpu: webGpuReport(gpu, `a real GPU's adapter: timing it against ${auto.order[0]}`) };
}

/** One side of the speed probe: median ms per batch, or why that backend could not run it. */
export type ProbeTiming = { ms: number } | { failed: string };

const ms = (t: { ms: number }) => t.ms.toFixed(1);

/**
 * The automatic choice after timing WebGPU against the backend it would otherwise take (plan.order[0]):
 * WebGPU goes first only when it measured faster. Pure; `backend.ts` does the timing.
 */
export function afterWebGpuProbe(plan: BackendPlan, webgpu: ProbeTiming, other: ProbeTiming): BackendPlan {
  const base = plan.webgpu ?? { adapter: 'gpu' as const, reason: '' };
  const rival = plan.order[0]!;
  const done = (order: BackendName[], reason: string, webgpuReason: string, probe?: WebGpuReport['probe']): BackendPlan => ({
    order,
    reason: reason.slice(0, 300),
    timeWebGpu: false,
    webgpu: { ...base, reason: webgpuReason.slice(0, 300), ...(probe ? { probe } : {}) },
  });
  if ('failed' in webgpu) {
    const why = `failed in the speed probe (${webgpu.failed}): not used`;
    return done(plan.order, `${plan.reason}; WebGPU ${why}`, why);
  }
  if ('failed' in other) {
    const why = `${ms(webgpu)} ms/batch; ${rival} failed in the speed probe (${other.failed})`;
    return done(['webgpu', ...plan.order.filter((b) => b !== rival)], `WebGPU on a real GPU: ${why}`, why);
  }
  const probe = { webgpu: webgpu.ms, other: rival, otherMs: other.ms };
  const figures = `${ms(webgpu)} ms/batch against ${rival}'s ${ms(other)} in the speed probe`;
  if (webgpu.ms < other.ms) return done(['webgpu', ...plan.order], `WebGPU on a real GPU: ${figures}`, `used: ${figures}`, probe);
  return done(plan.order, `${plan.reason}; WebGPU not used: ${figures}`, `not used: ${figures}`, probe);
}

export interface ThreadsPlan {
  /** wasm threads to ask TF.js for (1: the single-threaded SIMD binary). */
  threads: number;
  reason: string;
}

/**
 * How many wasm threads to ask for. Threads need a cross-origin isolated page (SharedArrayBuffer); TF.js
 * then runs at most half the logical cores (it counts two per physical core) and at most 8. Off unless
 * asked for with ?threads=N: `pnpm bench` measured 2 threads slower than 1 on this 2-core machine (BENCHMARKS.md).
 */
export function planWasmThreads(request: ThreadsRequest, env: { logicalCores: number; crossOriginIsolated: boolean }): ThreadsPlan {
  if (request === 'auto' || request <= 1) return { threads: 1, reason: 'single-threaded wasm (threads were no faster in the bench; ?threads=N asks for N)' };
  if (!env.crossOriginIsolated) return { threads: 1, reason: `?threads=${request} needs a cross-origin isolated page (COOP/COEP): single-threaded wasm` };
  const most = Math.max(1, Math.min(8, Math.floor(env.logicalCores / 2)));
  if (most < request) return { threads: most, reason: `?threads=${request}, but TF.js runs at most ${most} on ${env.logicalCores} logical cores` };
  return { threads: request, reason: `?threads=${request}` };
}
