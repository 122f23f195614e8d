import type { BackendName } from '@fl/shared';
import type { BackendRequest, ThreadsRequest } from './page-params';

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;
/** Fallback order when a backend fails to start: fastest first. */
const FALLBACK: readonly BackendName[] = ['webgl', 'wasm', 'cpu'];

export interface RendererProbe {
  webgl2: boolean;
  /** UNMASKED_RENDERER_WEBGL, or RENDERER where the debug extension is missing. */
  renderer: string | null;
  software: boolean;
}

export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_RENDERER.test(renderer);
}

export interface BackendPlan {
  /** Backends to try, in order. */
  order: BackendName[];
  reason: string;
}

/** Which backend to try first and why; pure, so the choice is easy to follow. */
export function planBackend(request: BackendRequest, probe: RendererProbe): BackendPlan {
  if (request !== 'auto') {
    return { order: FALLBACK.slice(FALLBACK.indexOf(request)), reason: `forced by ?backend=${request}` };
  }
  if (!probe.webgl2) return { order: ['wasm', 'cpu'], reason: 'no WebGL 2 in this browser: wasm' };
  if (probe.software) {
    const family = probe.renderer?.match(SOFTWARE_RENDERER)?.[0] ?? 'a software renderer';
    return { order: ['wasm', 'cpu'], reason: `WebGL runs on ${family} (software): wasm is ~13x faster here` };
  }
  return { order: ['webgl', 'wasm', 'cpu'], reason: 'WebGL on a real GPU' };
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
