import * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../training';
import { MNIST_CLASSES, MNIST_IMAGE_SIZE, MNIST_PIXELS } from './mnist-format';

/**
 * MNIST digits kept as bytes (784 per digit); batches are built as float tensors on demand.
 * `indices` selects this client's shard of the sprite; without it the whole sprite is used.
 */
export function createMnistDataset(images: Uint8Array, labels: Uint8Array, indices?: ArrayLike<number>): LocalDataset {
  const count = labels.length;
  if (images.length !== count * MNIST_PIXELS) {
    throw new Error(`MNIST images hold ${images.length} bytes, expected ${count} x ${MNIST_PIXELS}`);
  }
  const rows = indices ? Array.from(indices) : Array.from({ length: count }, (_, i) => i);
  for (const row of rows) {
    if (!Number.isInteger(row) || row < 0 || row >= count) throw new Error(`shard index ${row} outside 0..${count - 1}`);
  }
  return {
    size: rows.length,
    label: (position) => labels[rows[position]!]!,
    batch(positions) {
      const n = positions.length;
      const xs = new Float32Array(n * MNIST_PIXELS);
      const ys = new Float32Array(n * MNIST_CLASSES);
      for (let i = 0; i < n; i++) {
        const row = rows[positions[i]!]!;
        const offset = row * MNIST_PIXELS;
        for (let p = 0; p < MNIST_PIXELS; p++) xs[i * MNIST_PIXELS + p] = images[offset + p]! / 255;
        ys[i * MNIST_CLASSES + labels[row]!] = 1;
      }
      return {
        xs: tf.tensor4d(xs, [n, MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE, 1]),
        ys: tf.tensor2d(ys, [n, MNIST_CLASSES]),
      };
    },
  };
}

/** Decodes a shard frame (little-endian uint16 indices) sent with round:start. */
export function decodeShard(bytes: Uint8Array): Uint16Array {
  if (bytes.byteLength % 2 !== 0) throw new Error('shard frame has an odd number of bytes');
  const out = new Uint16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}

export function encodeShard(indices: Uint16Array): Uint8Array {
  const out = new Uint8Array(indices.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < indices.length; i++) view.setUint16(i * 2, indices[i]!, true);
  return out;
}
