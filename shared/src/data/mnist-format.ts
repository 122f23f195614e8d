/**
 * Layout of the MNIST subset the hub serves under `/data/mnist/`.
 *
 * Images are packed into one "sprite" PNG per split: 784 px wide, one row per
 * digit (a 28x28 image flattened row-major), pixel value 0..255 (0 = background).
 * Labels are a raw file of one uint8 class per row, in the same order.
 *
 * Shared by the browser (decodes the PNG through a canvas) and Node (pngjs).
 * Must stay free of DOM- and Node-specific types.
 */

export const MNIST_IMAGE_SIZE = 28;
export const MNIST_PIXELS = MNIST_IMAGE_SIZE * MNIST_IMAGE_SIZE; // 784
export const MNIST_CLASSES = 10;
export const MNIST_TRAIN_COUNT = 8000;
export const MNIST_TEST_COUNT = 2000;

/** URL prefix (relative to the hub origin) the files are served under. */
export const MNIST_BASE_URL = '/data/mnist/';
/** Written by the build script beside the data files. */
export const MNIST_MANIFEST_FILE = 'manifest.json';

export type MnistSplit = 'train' | 'test';

export interface MnistFileNames {
  /** Sprite PNG, MNIST_PIXELS wide, one digit per row. */
  images: string;
  /** Raw bytes, one uint8 label per sprite row. */
  labels: string;
}

const FILES: Record<MnistSplit, MnistFileNames> = {
  train: { images: 'train-images.png', labels: 'train-labels.bin' },
  test: { images: 'test-images.png', labels: 'test-labels.bin' },
};

/** File names (relative to MNIST_BASE_URL / the data directory) for a split. */
export function mnistFiles(split: MnistSplit): MnistFileNames {
  const f = FILES[split];
  if (!f) throw new Error(`Unknown MNIST split: ${String(split)} (expected 'train' or 'test')`);
  return { ...f };
}

/** Number of rows the served files of a split hold. */
export function mnistCount(split: MnistSplit): number {
  return split === 'train' ? MNIST_TRAIN_COUNT : MNIST_TEST_COUNT;
}

/** Shape of manifest.json written by the hub's build script. */
export interface MnistManifest {
  trainCount: number;
  testCount: number;
  width: number;
  source: string;
  seed: number;
}

/**
 * Converts RGBA pixel data of a MNIST_PIXELS-wide sprite (as returned by a
 * canvas' getImageData or pngjs) into `rows * 784` grayscale bytes, taking the
 * red channel. Extra trailing pixels are ignored.
 */
export function spriteRowsToBytes(rgba: Uint8Array | Uint8ClampedArray, rows: number): Uint8Array {
  if (!Number.isInteger(rows) || rows < 0) {
    throw new Error(`spriteRowsToBytes: rows must be a non-negative integer, got ${rows}`);
  }
  const n = rows * MNIST_PIXELS;
  if (rgba.length < n * 4) {
    throw new Error(
      `spriteRowsToBytes: expected at least ${n * 4} RGBA bytes for ${rows} rows of ${MNIST_PIXELS} px, got ${rgba.length}`,
    );
  }
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) out[i] = rgba[j]!;
  return out;
}
