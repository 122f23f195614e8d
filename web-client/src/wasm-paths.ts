import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Vite copies the binaries next to the bundle and gives their URLs, in dev and after `vite build`.
import plainWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';

let configured = false;

/** Points the wasm backend at the bundled binaries; call before tf.setBackend('wasm'). */
export function configureWasmPaths(): void {
  if (configured) return;
  configured = true;
  // Threaded wasm needs COOP/COEP, gains nothing on small machines and breaks after a minified build.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': plainWasmUrl,
    'tfjs-backend-wasm-simd.wasm': simdWasmUrl,
    // Required by setWasmPaths' map form; never fetched, since threads are off above.
    'tfjs-backend-wasm-threaded-simd.wasm': simdWasmUrl,
  });
}
