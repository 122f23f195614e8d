import { CodedError } from './errors';

/**
 * A model's weights as one flat Float32Array plus the shape of each tensor, in model order.
 * Flat storage lets aggregation run as plain loops over typed arrays.
 */
export interface FlatWeights {
  shapes: number[][];
  values: Float32Array;
}

/** Frame layout: "FLW1", u8 version, u8 dtype, u16 tensor count, per tensor u8 rank + u32 dims, pad to 4, data. */
const MAGIC = 0x31574c46; // "FLW1" little-endian
const VERSION = 1;
const DTYPE_FLOAT32 = 0;
const MAX_TENSORS = 4096;
const MAX_RANK = 6;

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function totalSize(shapes: readonly (readonly number[])[]): number {
  return shapes.reduce((sum, s) => sum + sizeOfShape(s), 0);
}

function headerLength(shapes: readonly (readonly number[])[]): number {
  const raw = 8 + shapes.reduce((n, s) => n + 1 + 4 * s.length, 0);
  return Math.ceil(raw / 4) * 4;
}

/** Encodes weights into one binary frame, sent as a Socket.IO attachment (never JSON numbers). */
export function encodeWeights(weights: FlatWeights): Uint8Array {
  const { shapes, values } = weights;
  if (totalSize(shapes) !== values.length) {
    throw new CodedError('HUB_ERR_SHAPE_MISMATCH', `shapes hold ${totalSize(shapes)} values, data has ${values.length}`);
  }
  const head = headerLength(shapes);
  const out = new Uint8Array(head + values.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, VERSION);
  view.setUint8(5, DTYPE_FLOAT32);
  view.setUint16(6, shapes.length, true);
  let offset = 8;
  for (const shape of shapes) {
    view.setUint8(offset, shape.length);
    offset += 1;
    for (const dim of shape) {
      view.setUint32(offset, dim, true);
      offset += 4;
    }
  }
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), head);
  return out;
}

function bad(message: string): CodedError {
  return new CodedError('HUB_ERR_BAD_FRAME', message);
}

/** Decodes a frame; the values are copied into a fresh, aligned Float32Array. Throws HUB_ERR_BAD_FRAME. */
export function decodeWeights(frame: Uint8Array): FlatWeights {
  if (frame.byteLength < 8) throw bad(`frame of ${frame.byteLength} bytes is shorter than its header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw bad('frame does not start with FLW1');
  if (view.getUint8(4) !== VERSION) throw bad(`unsupported frame version ${view.getUint8(4)}`);
  if (view.getUint8(5) !== DTYPE_FLOAT32) throw bad(`unsupported dtype code ${view.getUint8(5)}`);
  const count = view.getUint16(6, true);
  if (count > MAX_TENSORS) throw bad(`too many tensors (${count})`);
  const shapes: number[][] = [];
  let offset = 8;
  for (let t = 0; t < count; t++) {
    if (offset + 1 > frame.byteLength) throw bad('frame truncated inside its header');
    const rank = view.getUint8(offset);
    offset += 1;
    if (rank > MAX_RANK) throw bad(`tensor ${t} has rank ${rank}`);
    if (offset + 4 * rank > frame.byteLength) throw bad('frame truncated inside its header');
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) {
      shape.push(view.getUint32(offset, true));
      offset += 4;
    }
    shapes.push(shape);
  }
  const head = Math.ceil(offset / 4) * 4;
  const expected = totalSize(shapes) * 4;
  if (frame.byteLength - head !== expected) {
    throw bad(`frame carries ${frame.byteLength - head} data bytes, its header says ${expected}`);
  }
  const values = new Float32Array(expected / 4);
  new Uint8Array(values.buffer).set(frame.subarray(head, head + expected));
  return { shapes, values };
}

export function sameShapes(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): boolean {
  return a.length === b.length && a.every((s, i) => s.length === b[i]!.length && s.every((d, j) => d === b[i]![j]));
}

/** Index of the first NaN or infinite value, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return i;
  }
  return -1;
}
