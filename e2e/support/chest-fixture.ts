/**
 * Writes a small Kaggle-like chest_xray/ folder for browser tests: train/ and test/ with NORMAL and
 * PNEUMONIA JPEGs of mixed sizes (some wider than tall), mostly one-component grayscale and some
 * RGB, plus the junk the real zip carries (.DS_Store, __MACOSX/, a README, a nested duplicate copy)
 * and a .jpeg that is not an image.
 *
 * The classes differ in a way a small CNN learns in a few epochs: PNEUMONIA images have a bright
 * opacity in the lower half of the lungs, NORMAL ones do not. No chest X-ray data is reachable here.
 */
import type { Browser } from '@playwright/test';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeGrayJpeg } from './gray-jpeg';
import { withTimeout } from './timeouts';
import { createRng } from '../../shared/src/random';
import { planChestImages, tint, type ClassCounts } from '../../hub/src/sim/synthetic-chest';

export type { ClassCounts };

export interface ChestFixtureOptions {
  train?: ClassCounts;
  test?: ClassCounts;
  /** Share of images written as RGB (three-component) JPEGs; the rest are grayscale. */
  colorShare?: number;
  /** PNEUMONIA images also present under chest_xray/chest_xray/ (the Kaggle zip's nested copy). */
  duplicates?: number;
  seed?: number;
}

export interface ChestFixture {
  /** The chest_xray folder to pick or drop. */
  root: string;
  train: ClassCounts;
  test: ClassCounts;
  /** Files the tab must skip: hidden and macOS metadata, a README, a .jpeg that does not decode. */
  junk: string[];
  /** Nested copies of images already in the set: counted once. */
  duplicates: string[];
  /** Every image that should be decoded, by absolute path. */
  images: string[];
  colorImages: number;
  /** Sizes written, for the record: [width, height]. */
  sizes: Array<[number, number]>;
}

type Split = 'train' | 'test';
type ClassName = 'NORMAL' | 'PNEUMONIA';

/** The page's own JPEG encoder makes the RGB ones: gray content, warm tint, like a scanned film. */
async function encodeColorJpegs(browser: Browser, images: Array<{ pixels: Uint8Array; width: number; height: number }>): Promise<Buffer[]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const out: Buffer[] = [];
    for (const image of images) {
      const base64 = await withTimeout(
        page.evaluate(async ({ rgb, width, height }) => {
          const bytes = Uint8Array.from(atob(rgb), (c) => c.charCodeAt(0));
          const canvas = document.createElement('canvas');
          canvas.width = width;
          canvas.height = height;
          const ctx = canvas.getContext('2d')!;
          const rgba = ctx.createImageData(width, height);
          for (let i = 0; i < width * height; i++) rgba.data.set([bytes[i * 3]!, bytes[i * 3 + 1]!, bytes[i * 3 + 2]!, 255], i * 4);
          ctx.putImageData(rgba, 0, 0);
          const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
          if (!blob) throw new Error('canvas.toBlob gave no JPEG');
          const jpeg = new Uint8Array(await blob.arrayBuffer());
          let binary = '';
          for (const b of jpeg) binary += String.fromCharCode(b);
          return btoa(binary);
        }, { rgb: Buffer.from(Array.from(image.pixels).flatMap((g) => tint(g))).toString('base64'), width: image.width, height: image.height }),
        15_000,
        'encoding an RGB JPEG in the page',
      );
      out.push(Buffer.from(base64, 'base64'));
    }
    return out;
  } finally {
    await context.close();
  }
}

function fileName(cls: ClassName, split: Split, i: number): string {
  if (cls === 'NORMAL') return `IM-${String(i + 1).padStart(4, '0')}-0001.jpeg`;
  return `person${i + 1}_${i % 3 === 0 ? 'virus' : 'bacteria'}_${i + 7}${split === 'test' ? '' : `_${i % 5}`}.jpeg`;
}

function write(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** Writes `parent`/chest_xray and describes what a tab should find there. */
export async function writeChestFixture(browser: Browser, parent: string, options: ChestFixtureOptions = {}): Promise<ChestFixture> {
  const train = options.train ?? { normal: 30, pneumonia: 90 };
  const test = options.test ?? { normal: 20, pneumonia: 30 };
  const colorShare = options.colorShare ?? 0.15;
  const random = createRng(options.seed ?? 20_260_301);
  const root = join(parent, 'chest_xray');

  // The same plan the Node chest study trains on (hub/src/sim/synthetic-chest.ts); the junk below draws on after it.
  const planned = planChestImages(random, train, test, colorShare).map((p) => {
    const cls = p.pneumonia ? 'PNEUMONIA' : 'NORMAL';
    return { ...p, path: join(root, p.split, cls, fileName(cls, p.split, p.index)) };
  });

  const colored = planned.filter((p) => p.color);
  const colorJpegs = await encodeColorJpegs(browser, colored);
  colored.forEach((p, i) => write(p.path, colorJpegs[i]!));
  for (const p of planned) if (!p.color) write(p.path, encodeGrayJpeg(p.pixels, p.width, p.height, 88));

  const junk = [
    join(root, '.DS_Store'),
    join(root, 'train', '.DS_Store'),
    join(root, '__MACOSX', 'chest_xray', 'train', 'PNEUMONIA', `._${fileName('PNEUMONIA', 'train', 0)}`),
    join(root, 'README.txt'),
    join(root, 'train', 'NORMAL', 'fake.jpeg'),
  ];
  write(junk[0]!, Buffer.from('\0\0\0\x01Bud1\0\0\x10\0\0\0\x08\0\0\0\x10\0\0\0\x0b', 'binary'));
  write(junk[1]!, Buffer.from('\0\0\0\x01Bud1\0\0\x10\0', 'binary'));
  write(junk[2]!, Buffer.from('\0\x05\x16\x07\0\x02\0\0Mac OS X        ', 'binary'));
  write(junk[3]!, 'Synthetic chest X-ray test set for end-to-end tests. Not medical data.\n');
  write(junk[4]!, Buffer.concat([Buffer.from('not a JPEG: '), Buffer.from(Array.from({ length: 2048 }, () => Math.floor(random() * 256)))]));

  const duplicates: string[] = [];
  const pneumoniaTrain = planned.filter((p) => p.path.includes(join('train', 'PNEUMONIA')));
  for (const p of pneumoniaTrain.slice(0, options.duplicates ?? 4)) {
    const copy = join(root, 'chest_xray', 'train', 'PNEUMONIA', p.path.split('/').at(-1)!);
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(p.path, copy);
    duplicates.push(copy);
  }

  return {
    root,
    train,
    test,
    junk,
    duplicates,
    images: planned.map((p) => p.path),
    colorImages: colored.length,
    sizes: planned.map((p) => [p.width, p.height]),
  };
}
