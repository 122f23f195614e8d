import { MNIST_BASE_URL, MNIST_PIXELS, mnistFiles, spriteRowsToBytes } from '@fl/shared';

export interface MnistImages {
  /** count * 784 grayscale bytes. */
  images: Uint8Array;
  labels: Uint8Array;
}

/** Canvases much taller than this fail or get slow in some browsers; the sprite is drawn in strips. */
const MAX_STRIP_ROWS = 5000;

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`could not fetch ${url} (${String(error)}); a hub on another origin must allow CORS`, { cause: error });
  }
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`);
  return response;
}

/** Decodes the sprite off the DOM (createImageBitmap works in workers), rejecting a file that is no image. */
async function decodeSprite(blob: Blob, url: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch (error) {
    throw new Error(`the MNIST sprite ${url} is not a decodable image`, { cause: error });
  }
}

/** Draws the sprite strip by strip and keeps the red channel: one byte per pixel. */
function spriteToBytes(img: ImageBitmap, rows: number): Uint8Array {
  if (img.width !== MNIST_PIXELS) {
    throw new Error(`the MNIST sprite is ${img.width} px wide, expected ${MNIST_PIXELS}`);
  }
  if (img.height < rows) throw new Error(`the MNIST sprite has ${img.height} rows, the labels ${rows}`);
  const out = new Uint8Array(rows * MNIST_PIXELS);
  const canvas = new OffscreenCanvas(MNIST_PIXELS, Math.min(rows, MAX_STRIP_ROWS));
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas to decode the MNIST sprite');
  for (let top = 0; top < rows; top += MAX_STRIP_ROWS) {
    const strip = Math.min(MAX_STRIP_ROWS, rows - top);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, top, MNIST_PIXELS, strip, 0, 0, MNIST_PIXELS, strip);
    const rgba = ctx.getImageData(0, 0, MNIST_PIXELS, strip).data;
    out.set(spriteRowsToBytes(rgba, strip), top * MNIST_PIXELS);
  }
  // Release the canvas backing store now rather than at the next GC.
  canvas.width = canvas.height = 0;
  return out;
}

/** Fetches the hub's MNIST training sprite and labels and decodes them through an OffscreenCanvas. */
export async function loadMnistFromHub(hubUrl: string): Promise<MnistImages> {
  const files = mnistFiles('train');
  const base = new URL(MNIST_BASE_URL, hubUrl);
  const imagesUrl = new URL(files.images, base).href;
  const labelsUrl = new URL(files.labels, base).href;
  const [imageResponse, labelResponse] = await Promise.all([fetchOk(imagesUrl), fetchOk(labelsUrl)]);
  const labels = new Uint8Array(await labelResponse.arrayBuffer());
  const img = await decodeSprite(await imageResponse.blob(), imagesUrl);
  try {
    return { images: spriteToBytes(img, labels.length), labels };
  } finally {
    img.close();
  }
}
