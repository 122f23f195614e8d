import * as tf from '@tensorflow/tfjs';
import type { LocalDataset } from '../training';
import { shuffleInPlace, type Rng } from '../random';
import { CHEST_XRAY_CLASSES } from '../models';

/** Shown in the tab, so the method is stated where the training happens. */
export const BALANCING_METHOD =
  'Balanced batches: each epoch draws NORMAL and PNEUMONIA equally (the minority class repeated, the majority subsampled).';

export interface ChestImages {
  /** count * imageSize² grayscale bytes, one image after another. */
  pixels: Uint8Array;
  /** One class per image: 0 = NORMAL, 1 = PNEUMONIA. */
  labels: Uint8Array;
  imageSize: number;
}

/** `count` positions from `pool`: whole shuffled passes, then a shuffled part, so repeats are even. */
function drawEvenly(pool: readonly number[], count: number, rng: Rng): number[] {
  const out: number[] = [];
  while (out.length < count) {
    const pass = shuffleInPlace([...pool], rng);
    out.push(...pass.slice(0, count - out.length));
  }
  return out;
}

/**
 * One epoch of balanced positions: as many samples as the dataset holds, half from each class.
 * Kaggle's train split is ~1:3 NORMAL:PNEUMONIA; unbalanced, a model learns to say PNEUMONIA.
 * With one class absent it is a plain shuffle.
 */
export function balancedEpochOrder(labels: ArrayLike<number>, rng: Rng): number[] {
  const byClass: number[][] = [[], []];
  for (let i = 0; i < labels.length; i++) byClass[labels[i] === 1 ? 1 : 0]!.push(i);
  const [normal, pneumonia] = byClass as [number[], number[]];
  if (normal.length === 0 || pneumonia.length === 0) {
    return shuffleInPlace(Array.from({ length: labels.length }, (_, i) => i), rng);
  }
  const perClass = Math.ceil(labels.length / 2);
  return shuffleInPlace([...drawEvenly(normal, perClass, rng), ...drawEvenly(pneumonia, perClass, rng)], rng);
}

/**
 * Chest X-rays kept as bytes; each batch becomes a [n, size, size, 1] tensor scaled to 0..1
 * only when asked for, so the whole Kaggle train split (5,216 x 64² bytes ≈ 21 MB) fits in a tab.
 * `balanced`: training order per `balancedEpochOrder`; otherwise natural order (test split).
 */
export function createChestXrayDataset(images: ChestImages, options: { balanced: boolean }): LocalDataset {
  const { pixels, labels, imageSize } = images;
  const area = imageSize * imageSize;
  const classes = CHEST_XRAY_CLASSES.length;
  if (pixels.length !== labels.length * area) {
    throw new Error(`chest images hold ${pixels.length} bytes, expected ${labels.length} x ${area}`);
  }
  const dataset: LocalDataset = {
    size: labels.length,
    label: (position) => labels[position]!,
    batch(positions) {
      const n = positions.length;
      const xs = new Float32Array(n * area);
      const ys = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) {
        const row = positions[i]!;
        if (!Number.isInteger(row) || row < 0 || row >= labels.length) throw new Error(`position ${row} outside 0..${labels.length - 1}`);
        const offset = row * area;
        for (let p = 0; p < area; p++) xs[i * area + p] = pixels[offset + p]! / 255;
        ys[i * classes + labels[row]!] = 1;
      }
      return { xs: tf.tensor4d(xs, [n, imageSize, imageSize, 1]), ys: tf.tensor2d(ys, [n, classes]) };
    },
  };
  if (options.balanced) dataset.epochOrder = (rng) => balancedEpochOrder(labels, rng);
  return dataset;
}
