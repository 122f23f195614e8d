import { CodedError } from './errors';
import { decodeHalf, dequantizeInt8, encodeHalf, quantizeInt8 } from './quantize';

/**
 * A model's weights as one flat Float32Array plus the shape of each tensor, in model order.
 * Flat storage lets aggregation run as plain loops over typed arrays.
 */
export interface FlatWeights {
  shapes: number[][];
  values: Float32Array;
}

/** How values travel: float32 exactly, or lossy float16 / per-tensor int8. */
export type WireDtype = 'float32' | 'float16' | 'int8';

export interface FrameMeta {
  dtype: WireDtype;
  /** True when the values are a change against the round's global model, not weights. */
  delta: boolean;
  round: number;
  /** A 32-bit tag of the run id (seedFromString), so a frame of another run is recognised. */
  runTag: number;
}

export interface DecodedFrame extends FlatWeights {
  meta: FrameMeta;
}

/**
 * Frame layout, little-endian: "FLW1" | u8 version | u8 dtype | u16 tensor count | u8 flags | 3 reserved |
 * u32 round | u32 run tag | per tensor: u8 rank + u32 dims | pad to 4 | int8 only: per tensor f32 scale,
 * f32 offset | values (4, 2 or 1 bytes each).
 */
const MAGIC = 0x31574c46; // "FLW1"
const VERSION = 1;
const FIXED_HEADER = 20;
const DTYPE_CODES: Record<WireDtype, number> = { float32: 0, float16: 1, int8: 2 };
const DTYPES: WireDtype[] = ['float32', 'float16', 'int8'];
const BYTES: Record<WireDtype, number> = { float32: 4, float16: 2, int8: 1 };
const MAX_TENSORS = 4096;
const MAX_RANK = 6;

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function totalSize(shapes: readonly (readonly number[])[]): number {
  return shapes.reduce((sum, s) => sum + sizeOfShape(s), 0);
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

function shapesEnd(shapes: readonly (readonly number[])[]): number {
  return FIXED_HEADER + shapes.reduce((n, s) => n + 1 + 4 * s.length, 0);
}

function mismatch(message: string): CodedError {
  return new CodedError('HUB_ERR_SHAPE_MISMATCH', message);
}

/** Encodes weights (or a delta) into one binary frame, sent as a Socket.IO attachment (never JSON numbers). */
export function encodeWeights(weights: FlatWeights, meta: Partial<FrameMeta> = {}): Uint8Array {
  const { shapes, values } = weights;
  const dtype = meta.dtype ?? 'float32';
  // Refuse here what decodeWeights would refuse, so a frame we build is always one we can read.
  if (shapes.length > MAX_TENSORS) throw mismatch(`${shapes.length} tensors, at most ${MAX_TENSORS}`);
  for (const shape of shapes) {
    if (shape.length > MAX_RANK) throw mismatch(`rank ${shape.length}, at most ${MAX_RANK}`);
    if (shape.some((d) => !Number.isInteger(d) || d < 0 || d > 0xffffffff)) throw mismatch(`invalid dimension in [${shape.join(', ')}]`);
  }
  if (totalSize(shapes) !== values.length) {
    throw mismatch(`shapes hold ${totalSize(shapes)} values, data has ${values.length}`);
  }
  const paramsStart = align4(shapesEnd(shapes));
  const dataStart = paramsStart + (dtype === 'int8' ? 8 * shapes.length : 0);
  const out = new Uint8Array(dataStart + values.length * BYTES[dtype]);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, VERSION);
  view.setUint8(5, DTYPE_CODES[dtype]);
  view.setUint16(6, shapes.length, true);
  view.setUint8(8, meta.delta ? 1 : 0);
  view.setUint32(12, meta.round ?? 0, true);
  view.setUint32(16, (meta.runTag ?? 0) >>> 0, true);
  let offset = FIXED_HEADER;
  for (const shape of shapes) {
    view.setUint8(offset, shape.length);
    offset += 1;
    for (const dim of shape) {
      view.setUint32(offset, dim, true);
      offset += 4;
    }
  }
  switch (dtype) {
    case 'float32':
      out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), dataStart);
      break;
    case 'float16':
      encodeHalf(values, new Uint16Array(out.buffer, dataStart, values.length));
      break;
    case 'int8': {
      const q = new Int8Array(out.buffer, dataStart, values.length);
      let start = 0;
      shapes.forEach((shape, t) => {
        const size = sizeOfShape(shape);
        const params = quantizeInt8(values.subarray(start, start + size), q.subarray(start, start + size));
        view.setFloat32(paramsStart + 8 * t, params.scale, true);
        view.setFloat32(paramsStart + 8 * t + 4, params.offset, true);
        start += size;
      });
      break;
    }
  }
  return out;
}

function bad(message: string): CodedError {
  return new CodedError('HUB_ERR_BAD_FRAME', message);
}

/**
 * Decodes a frame into fresh, aligned float32 values. Throws HUB_ERR_BAD_FRAME for anything malformed.
 * `owned`: the frame's buffer is the caller's alone (moved to a worker), so float32 values whose data is
 * 4-byte aligned are a view on it instead of a copy.
 */
export function decodeWeights(frame: Uint8Array, options: { owned?: boolean } = {}): DecodedFrame {
  if (frame.byteLength < FIXED_HEADER) throw bad(`frame of ${frame.byteLength} bytes is shorter than its header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw bad('frame does not start with FLW1');
  if (view.getUint8(4) !== VERSION) throw bad(`unsupported frame version ${view.getUint8(4)}`);
  const dtype = DTYPES[view.getUint8(5)];
  if (!dtype) throw bad(`unsupported dtype code ${view.getUint8(5)}`);
  const count = view.getUint16(6, true);
  if (count > MAX_TENSORS) throw bad(`too many tensors (${count})`);
  const flags = view.getUint8(8);
  if (flags > 1) throw bad(`unknown frame flags ${flags}`);
  const meta: FrameMeta = { dtype, delta: flags === 1, round: view.getUint32(12, true), runTag: view.getUint32(16, true) };
  const shapes: number[][] = [];
  let offset = FIXED_HEADER;
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
  const paramsStart = align4(offset);
  const dataStart = paramsStart + (dtype === 'int8' ? 8 * count : 0);
  const size = totalSize(shapes);
  const expected = size * BYTES[dtype];
  if (frame.byteLength - dataStart !== expected) {
    throw bad(`frame carries ${frame.byteLength - dataStart} data bytes, its header says ${expected}`);
  }
  if (options.owned && dtype === 'float32' && (frame.byteOffset + dataStart) % 4 === 0) {
    return { shapes, values: new Float32Array(frame.buffer, frame.byteOffset + dataStart, size), meta };
  }
  const values = new Float32Array(size);
  // Copy the data into its own buffer: the frame may sit at any offset of a shared one, and a Node
  // Buffer's slice() is a view, not a copy.
  const data = new Uint8Array(frame.subarray(dataStart));
  switch (dtype) {
    case 'float32':
      new Uint8Array(values.buffer).set(data);
      break;
    case 'float16':
      decodeHalf(new Uint16Array(data.buffer, 0, size), values);
      break;
    case 'int8': {
      const q = new Int8Array(data.buffer, 0, size);
      let start = 0;
      shapes.forEach((shape, t) => {
        const n = sizeOfShape(shape);
        const params = { scale: view.getFloat32(paramsStart + 8 * t, true), offset: view.getFloat32(paramsStart + 8 * t + 4, true) };
        if (!Number.isFinite(params.scale) || !Number.isFinite(params.offset)) throw bad(`tensor ${t} has a non-finite int8 scale`);
        dequantizeInt8(q.subarray(start, start + n), params, values.subarray(start, start + n));
        start += n;
      });
      break;
    }
  }
  return { shapes, values, meta };
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

/** The change from `base` to `next`, element by element. */
export function subtractWeights(next: Float32Array, base: Float32Array): Float32Array {
  if (next.length !== base.length) throw mismatch(`delta of ${next.length} values against a model of ${base.length}`);
  const out = new Float32Array(next.length);
  for (let i = 0; i < out.length; i++) out[i] = next[i]! - base[i]!;
  return out;
}

/** `base` plus a delta, into a new array. */
export function addWeights(base: Float32Array, delta: Float32Array): Float32Array {
  if (delta.length !== base.length) throw mismatch(`delta of ${delta.length} values against a model of ${base.length}`);
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = base[i]! + delta[i]!;
  return out;
}
