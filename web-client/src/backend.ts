import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgl';
import type { BackendInfo, BackendName } from '@fl/shared';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { configureWasmPaths } from './wasm-paths';
import type { BackendRequest } from './page-params';
import { isSoftwareRenderer, planBackend, type RendererProbe } from './backend-plan';

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
    } else if (!(await tf.setBackend(name))) {
      return `tf.setBackend('${name}') returned false`;
    }
    await tf.ready();
    // setBackend can "succeed" while the engine silently sits on another backend; trust only getBackend().
    const active = tf.getBackend();
    return active === name ? null : `asked for ${name}, TF.js runs on ${active}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
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

/** Starts the planned backend, falling back along webgl -> wasm -> cpu, and says what happened. */
export async function startBackend(request: BackendRequest, options: BackendOptions = {}): Promise<BackendInfo> {
  const probe = probeRenderer();
  const plan = planBackend(request, probe);
  const failures: string[] = [];
  for (const name of plan.order) {
    const failure = await tryBackend(name, options.wasmThreads ?? 1);
    if (failure === null) {
      const fellBack = failures.length ? `; ${failures.join('; ')}: fell back to ${name}` : '';
      return {
        name,
        ...(probe.renderer ? { renderer: probe.renderer.slice(0, 300) } : {}),
        ...(probe.webgl2 ? { software: probe.software } : {}),
        reason: `${plan.reason}${fellBack}${threadsNote(name)}`.slice(0, 300),
      };
    }
    failures.push(`${name} failed to start (${failure})`);
  }
  throw new Error(`no TF.js backend could start: ${failures.join('; ')}`);
}
