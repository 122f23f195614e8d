import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Vite copies the binaries next to the bundle and gives their URLs, in dev and after `vite build`.
import plainWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

let configured = false;

/**
 * Points the wasm backend at the bundled binaries; call once, before tf.setBackend('wasm').
 * `threads`: how many threads the threaded SIMD binary may use (it needs a cross-origin isolated
 * page for SharedArrayBuffer); 1 keeps the single-threaded binary.
 */
export function configureWasmPaths(threads = 1): void {
  if (configured) return;
  configured = true;
  const threaded = threads > 1 && globalThis.crossOriginIsolated === true;
  // Left to TF.js's own check when threads are wanted: it also tests that the browser can share wasm memory.
  if (!threaded) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else setThreadsCount(threads);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': plainWasmUrl,
    'tfjs-backend-wasm-simd.wasm': simdWasmUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdWasmUrl,
  });
}
