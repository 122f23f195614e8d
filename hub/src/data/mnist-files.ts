/**
 * Node-side loader for the MNIST sprites produced by scripts/build-mnist.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import {
  MNIST_CLASSES,
  MNIST_PIXELS,
  mnistCount,
  mnistFiles,
  spriteRowsToBytes,
  type MnistSplit,
} from '@fl/shared/data/mnist-format';

export interface MnistSplitData {
  /** count * 784 grayscale bytes, one digit per 784-byte row. */
  images: Uint8Array;
  /** count labels, 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface LoadMnistOptions {
  /** Row count the split must have; defaults to MNIST_TRAIN_COUNT / MNIST_TEST_COUNT. null: any. */
  expectedCount?: number | null;
}

/** Absolute path of hub/generated/mnist, where the build script writes by default. */
export function defaultMnistDir(): string {
  return fileURLToPath(new URL('../../generated/mnist', import.meta.url));
}

async function readOrExplain(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (run `npx tsx hub/scripts/build-mnist.ts` to generate it)' : '';
    throw new Error(`Cannot read MNIST file ${path}: ${code ?? String(err)}${hint}`, { cause: err });
  }
}

/** Reads and decodes one split (sprite PNG + label bytes) from `dir`. */
export async function loadMnistSplit(
  dir: string,
  split: MnistSplit,
  options: LoadMnistOptions = {},
): Promise<MnistSplitData> {
  const f = mnistFiles(split);
  const imagesPath = join(dir, f.images);
  const labelsPath = join(dir, f.labels);
  // Both read at once; a failure is reported in file order, not in whichever order the reads fail.
  const [png, labels] = await Promise.allSettled([readOrExplain(imagesPath), readOrExplain(labelsPath)]);
  if (png.status === 'rejected') throw png.reason;
  if (labels.status === 'rejected') throw labels.reason;
  const pngBytes = png.value;
  const labelBytes = labels.value;

  return decodeMnistSplit(pngBytes, labelBytes, split, options, { images: imagesPath, labels: labelsPath });
}

/** Decodes sprite PNG bytes and label bytes (from disk or fetched from a hub). */
export function decodeMnistSplit(
  pngBytes: Uint8Array,
  labelBytes: Uint8Array,
  split: MnistSplit,
  options: LoadMnistOptions = {},
  names: { images: string; labels: string } = mnistFiles(split),
): MnistSplitData {
  const imagesPath = names.images;
  const labelsPath = names.labels;
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(pngBytes.buffer, pngBytes.byteOffset, pngBytes.byteLength));
  } catch (err) {
    throw new Error(`${imagesPath}: not a valid PNG (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (png.width !== MNIST_PIXELS) {
    throw new Error(`${imagesPath}: expected width ${MNIST_PIXELS} (one 28x28 digit per row), got ${png.width}`);
  }
  const count = png.height;
  if (labelBytes.length !== count) {
    throw new Error(`${labelsPath}: has ${labelBytes.length} labels but ${imagesPath} has ${count} rows`);
  }
  const expected = options.expectedCount === undefined ? mnistCount(split) : options.expectedCount;
  if (expected !== null && count !== expected) {
    throw new Error(`${imagesPath}: expected ${expected} ${split} rows, got ${count}`);
  }

  const labels = new Uint8Array(labelBytes); // copy, detached from Node's Buffer
  const bad = labels.findIndex((l) => l >= MNIST_CLASSES);
  if (bad !== -1) {
    throw new Error(`${labelsPath}: label ${labels[bad]} at row ${bad} is outside 0..${MNIST_CLASSES - 1}`);
  }

  // pngjs always decodes to RGBA, whatever the file's color type.
  const images = spriteRowsToBytes(png.data, count);
  return { images, labels, count };
}
