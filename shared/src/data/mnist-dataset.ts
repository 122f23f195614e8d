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

/**
 * A shard as sent in round:start: its little-endian uint16 indices in base64, inside the message's JSON, so that a
 * round start is one WebSocket frame (a binary attachment would be a second one, and a second write, per client).
 */
export function decodeShard(text: string): Uint16Array {
  if (!SHARD_PATTERN.test(text)) throw new Error('shard is not base64');
  const binary = atob(text);
  if (binary.length % 2 !== 0) throw new Error('shard has an odd number of bytes');
  const out = new Uint16Array(binary.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = binary.charCodeAt(2 * i) | (binary.charCodeAt(2 * i + 1) << 8);
  return out;
}

export function encodeShard(indices: Uint16Array): string {
  let binary = '';
  // In slices: String.fromCharCode takes its characters as arguments, and arguments are limited.
  for (let from = 0; from < indices.length; from += 4096) {
    const codes: number[] = [];
    for (const index of indices.subarray(from, from + 4096)) codes.push(index & 0xff, index >> 8);
    binary += String.fromCharCode(...codes);
  }
  return btoa(binary);
}

/** Standard base64 with its padding: what encodeShard writes. */
const SHARD_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
