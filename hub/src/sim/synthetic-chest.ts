/**
 * The synthetic chest X-rays of the e2e fixture as pixels, with no JPEG and no browser: the e2e writes
 * these images to a chest_xray/ folder, the Node chest study trains on them directly. One plan, drawn
 * from one seeded stream, so both see the same pictures.
 */

/** A function returning uniformly distributed floats in [0, 1). */
export type Random = () => number;

export interface ClassCounts {
  normal: number;
  pneumonia: number;
}

/** One planned image: where it goes in the folder, its size and its grayscale pixels. */
export interface PlannedChest {
  split: 'train' | 'test';
  pneumonia: boolean;
  /** Position within its split and class, for the file name. */
  index: number;
  width: number;
  height: number;
  pixels: Uint8Array;
  /** Written as an RGB JPEG with a warm tint (see `tintedLuma`); otherwise one-component gray. */
  color: boolean;
}

/**
 * A chest-like picture: a body, two darker lungs, soft texture and noise. PNEUMONIA images are
 * brighter, fill the lower half of the lungs with a haze and carry a bright, soft-edged opacity in
 * one of them. Coordinates are relative, so the pattern survives the tab's squash to 64x64 whatever
 * the aspect ratio. The signal is strong on purpose: with only a faint opacity the tab's CNN sat on a
 * loss plateau for 50+ batches, and two clients left it in different directions, so their average
 * was no better than chance (measured).
 */
export function renderChest(width: number, height: number, pneumonia: boolean, random: Random): Uint8Array {
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

/**
 * Plans a fixture's images in the fixture's order (train then test, NORMAL then PNEUMONIA), drawing
 * each image's size, pixels and colour from `random`; the caller keeps using the same stream after.
 */
export function planChestImages(random: Random, train: ClassCounts, test: ClassCounts, colorShare: number): PlannedChest[] {
  const planned: PlannedChest[] = [];
  for (const [split, counts] of [['train', train], ['test', test]] as const) {
    for (const pneumonia of [false, true]) {
      const n = pneumonia ? counts.pneumonia : counts.normal;
      for (let index = 0; index < n; index++) {
        const width = 80 + Math.floor(random() * 221);
        const height = 80 + Math.floor(random() * 221);
        const pixels = renderChest(width, height, pneumonia, random);
        planned.push({ split, pneumonia, index, width, height, pixels, color: random() < colorShare });
      }
    }
  }
  return planned;
}

/** The RGB the fixture writes for a gray value: gray content with a warm tint, like a scanned film. */
export function tint(gray: number): [number, number, number] {
  return [Math.min(255, gray + 18), Math.round(gray * 0.93), Math.round(gray * 0.78)];
}

/** What the tab reads back from a tinted pixel: Rec. 601 luma, as web-client/src/worker/grayscale-resizer.ts does. */
export function tintedLuma(gray: number): number {
  const [r, g, b] = tint(gray);
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * Area (box) resize of a grayscale image to size x size: each output pixel is the mean of the source
 * area it covers, partial pixels weighted by their overlap. Close to the tab's high-quality
 * createImageBitmap downscale; `map` turns each source value first (the tint's luma for RGB images).
 */
export function areaResize(pixels: Uint8Array, width: number, height: number, size: number, map: (v: number) => number = (v) => v): Uint8Array {
  const out = new Uint8Array(size * size);
  const sx = width / size;
  const sy = height / size;
  for (let oy = 0; oy < size; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < size; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += wx * wy * map(pixels[y * width + x]!);
        }
      }
      out[oy * size + ox] = Math.max(0, Math.min(255, Math.round(sum / (sx * sy))));
    }
  }
  return out;
}

/** A split as the tab holds it: size x size gray bytes per image, one after another, and 0/1 labels. */
export interface ChestSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  imageSize: number;
}

/** The planned images of one split resized to the tab's input, in plan order. */
export function tabInput(planned: readonly PlannedChest[], split: 'train' | 'test', size: number): ChestSplit {
  const chosen = planned.filter((p) => p.split === split);
  const area = size * size;
  const pixels = new Uint8Array(chosen.length * area);
  const labels = new Uint8Array(chosen.length);
  chosen.forEach((p, i) => {
    pixels.set(areaResize(p.pixels, p.width, p.height, size, p.color ? tintedLuma : undefined), i * area);
    labels[i] = p.pneumonia ? 1 : 0;
  });
  return { pixels, labels, imageSize: size };
}
