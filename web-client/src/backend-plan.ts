import type { BackendName } from '@fl/shared';
import type { BackendRequest } from './page-params';

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
