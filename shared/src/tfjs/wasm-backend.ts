import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConv2DBackpropFilter } from './wasm-conv2d-backprop-filter.js';

/**
 * Switches TF.js to the wasm backend, with the Conv2DBackpropFilter kernel
 * that tfjs-backend-wasm 4.22 lacks registered so conv nets can train.
 *
 * In Node the backend locates its .wasm binaries itself; in the browser the
 * caller must call setWasmPaths() before this.
 */
export async function initWasmBackend(): Promise<void> {
  registerWasmConv2DBackpropFilter();
  const ok = await tf.setBackend('wasm');
  if (!ok) {
    throw new Error(
      "initWasmBackend: tf.setBackend('wasm') returned false — the wasm backend failed to " +
        'initialize (are the tfjs-backend-wasm .wasm files reachable? In the browser call ' +
        'setWasmPaths() first).',
    );
  }
  await tf.ready();
}
