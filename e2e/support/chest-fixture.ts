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

export interface ClassCounts {
  normal: number;
  pneumonia: number;
}

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

/**
 * A chest-like picture: a body, two darker lungs, soft texture and noise. PNEUMONIA images are
 * brighter, fill the lower half of the lungs with a haze and carry a bright, soft-edged opacity in
 * one of them. Coordinates are relative, so the pattern survives the tab's squash to 64x64 whatever
 * the aspect ratio. The signal is strong on purpose: with only a faint opacity the tab's CNN sat on a
 * loss plateau for 50+ batches, and two clients left it in different directions, so their average
 * was no better than chance (measured).
 */
function renderChest(width: number, height: number, pneumonia: boolean, random: () => number): Uint8Array {
  const pixels = new Uint8Array(width * height);
  const exposure = (pneumonia ? 105 : 70) + random() * 15;
  const phase = random() * Math.PI * 2;
  const side = random() < 0.5 ? 0.33 : 0.67;
  const blob = { u: side + (random() - 0.5) * 0.1, v: 0.66 + random() * 0.12, r: 0.12 + random() * 0.06 };
  for (let y = 0; y < height; y++) {
    const v = y / (height - 1);
    for (let x = 0; x < width; x++) {
      const u = x / (width - 1);
      const body = Math.max(0, 1 - ((u - 0.5) / 0.45) ** 2 - ((v - 0.55) / 0.55) ** 2);
      let value = 20 + exposure * Math.sqrt(body);
      for (const cu of [0.33, 0.67]) {
        const lung = ((u - cu) / 0.14) ** 2 + ((v - 0.5) / 0.3) ** 2;
        if (lung >= 1) continue;
        value -= 45 * (1 - lung);
        // The haze rises smoothly from mid-lung down.
        if (pneumonia) value += 70 * Math.sqrt(1 - lung) * Math.min(1, Math.max(0, (v - 0.45) / 0.15));
      }
      value += 8 * Math.sin(u * 23 + phase) * Math.cos(v * 17 - phase);
      if (pneumonia) value += 110 * Math.exp(-((u - blob.u) ** 2 + (v - blob.v) ** 2) / blob.r ** 2);
      value += (random() - 0.5) * 16;
      pixels[y * width + x] = Math.max(0, Math.min(255, Math.round(value)));
    }
  }
  return pixels;
}

/** The page's own JPEG encoder makes the RGB ones: gray content, warm tint, like a scanned film. */
async function encodeColorJpegs(browser: Browser, images: Array<{ pixels: Uint8Array; width: number; height: number }>): Promise<Buffer[]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const out: Buffer[] = [];
    for (const image of images) {
      const base64 = await withTimeout(
        page.evaluate(async ({ gray, width, height }) => {
          const bytes = Uint8Array.from(atob(gray), (c) => c.charCodeAt(0));
          const canvas = document.createElement('canvas');
          canvas.width = width;
          canvas.height = height;
          const ctx = canvas.getContext('2d')!;
          const rgba = ctx.createImageData(width, height);
          for (let i = 0; i < bytes.length; i++) {
            const g = bytes[i]!;
            rgba.data.set([Math.min(255, g + 18), Math.round(g * 0.93), Math.round(g * 0.78), 255], i * 4);
          }
          ctx.putImageData(rgba, 0, 0);
          const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
          if (!blob) throw new Error('canvas.toBlob gave no JPEG');
          const jpeg = new Uint8Array(await blob.arrayBuffer());
          let binary = '';
          for (const b of jpeg) binary += String.fromCharCode(b);
          return btoa(binary);
        }, { gray: Buffer.from(image.pixels).toString('base64'), width: image.width, height: image.height }),
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

  const planned: Array<{ path: string; width: number; height: number; pixels: Uint8Array; color: boolean }> = [];
  for (const [split, counts] of [['train', train], ['test', test]] as const) {
    for (const cls of ['NORMAL', 'PNEUMONIA'] as const) {
      const n = cls === 'NORMAL' ? counts.normal : counts.pneumonia;
      for (let i = 0; i < n; i++) {
        const width = 80 + Math.floor(random() * 221);
        const height = 80 + Math.floor(random() * 221);
        planned.push({
          path: join(root, split, cls, fileName(cls, split, i)),
          width,
          height,
          pixels: renderChest(width, height, cls === 'PNEUMONIA', random),
          color: random() < colorShare,
        });
      }
    }
  }

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
