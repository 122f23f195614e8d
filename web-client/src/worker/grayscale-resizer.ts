type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function createContext(size: number): Canvas2D {
  const options: CanvasRenderingContext2DSettings = { willReadFrequently: true };
  let ctx: Canvas2D | null;
  if (typeof OffscreenCanvas === 'function') ctx = new OffscreenCanvas(size, size).getContext('2d', options);
  else {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    ctx = canvas.getContext('2d', options);
  }
  if (!ctx) throw new Error('this browser gives no 2D canvas to resize images');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  return ctx;
}

/**
 * Decodes image files to size x size grayscale bytes. One canvas serves any number of
 * concurrent decodes: drawing and reading back happen in one synchronous step.
 */
export class GrayscaleResizer {
  private readonly ctx: Canvas2D;

  constructor(readonly size: number) {
    this.ctx = createContext(size);
  }

  /** Writes the image's luma into `out` at `offset`; false when the file is not a decodable image. */
  async decodeInto(file: Blob, out: Uint8Array, offset: number): Promise<boolean> {
    const { size, ctx } = this;
    let bitmap: ImageBitmap;
    try {
      // Resizing while decoding spares a full-size copy of 1-2k px X-rays; drawImage below resizes where it is ignored.
      bitmap = await createImageBitmap(file, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
    } catch {
      return false;
    }
    try {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, size, size);
      ctx.drawImage(bitmap, 0, 0, size, size);
      const rgba = ctx.getImageData(0, 0, size, size).data;
      for (let p = 0, j = 0; p < size * size; p++, j += 4) {
        // Rec. 601 luma: most X-rays are already gray (R = G = B), some Kaggle JPEGs are RGB.
        out[offset + p] = Math.round(0.299 * rgba[j]! + 0.587 * rgba[j + 1]! + 0.114 * rgba[j + 2]!);
      }
      return true;
    } finally {
      bitmap.close();
    }
  }
}
