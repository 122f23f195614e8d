import { describe, expect, it } from 'vitest';
import { CodedError, type ErrorCode } from '../errors';
import {
  decodeWeights,
  encodeWeights,
  firstNonFinite,
  sameShapes,
  sizeOfShape,
  totalSize,
  type FlatWeights,
} from '../weight-codec';

/** Runs `fn` and returns the CodedError it throws; fails the test if it throws something else or nothing. */
function codedErrorOf(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodedError);
    return e as CodedError;
  }
  throw new Error('expected a CodedError, nothing was thrown');
}

function expectCode(fn: () => unknown, code: ErrorCode): void {
  expect(codedErrorOf(fn).code).toBe(code);
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

/** A Float32Array whose elements carry exactly the given bit patterns. */
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

function sequential(n: number, scale = 0.25): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i - n / 2) * scale);
}

const sample: FlatWeights = { shapes: [[2, 3], [3]], values: sequential(9) };

describe('encodeWeights / decodeWeights round trip', () => {
  it('preserves every float32 bit pattern: ±0, denormals, extremes, infinities and NaN payloads', () => {
    const bits = [
      0x00000000, // +0
      0x80000000, // -0
      0x00000001, // smallest positive denormal
      0x807fffff, // largest negative denormal
      0x00400000, // a mid denormal
      0x00800000, // smallest normal
      0x7f7fffff, // FLT_MAX
      0xff7fffff, // -FLT_MAX
      0x7f800000, // +Inf
      0xff800000, // -Inf
      0x7fc00000, // canonical quiet NaN
      0x7fc00001, // quiet NaN with a payload
      0xffc12345, // negative quiet NaN with a payload
      0x3f800000, // 1
      0x3eaaaaab, // ~1/3
      0xc2f6e979, // -123.456
    ];
    const values = fromBits(bits);
    const decoded = decodeWeights(encodeWeights({ shapes: [[4, 4]], values }));
    expect(decoded.shapes).toEqual([[4, 4]]);
    expect(bitsOf(decoded.values).map((b) => b.toString(16))).toEqual(bits.map((b) => b.toString(16)));
    expect(Object.is(decoded.values[1], -0)).toBe(true);
  });

  it('writes the data bytes verbatim (little-endian float32) right after the padded header', () => {
    const values = Float32Array.of(1, -2.5);
    const frame = encodeWeights({ shapes: [[2]], values });
    // 20 bytes fixed header + 1 rank byte + 4 dim bytes = 25, padded to 28.
    expect(frame.byteLength).toBe(28 + 8);
    expect(Array.from(frame.subarray(0, 4))).toEqual([0x46, 0x4c, 0x57, 0x31]); // "FLW1"
    expect(frame[4]).toBe(1); // version
    expect(frame[5]).toBe(0); // dtype float32
    expect(new DataView(frame.buffer).getUint16(6, true)).toBe(1);
    expect(frame[8]).toBe(0); // flags: weights, not a delta
    expect(frame[20]).toBe(1); // rank
    expect(new DataView(frame.buffer).getUint32(21, true)).toBe(2);
    expect(Array.from(frame.subarray(25, 28))).toEqual([0, 0, 0]); // padding
    const data = new DataView(frame.buffer, 28);
    expect(data.getFloat32(0, true)).toBe(1);
    expect(data.getFloat32(4, true)).toBe(-2.5);
  });

  it.each<[string, number[][]]>([
    ['no tensors at all', []],
    ['one scalar (rank 0)', [[]]],
    ['one vector (rank 1)', [[7]]],
    ['one matrix (rank 2)', [[3, 5]]],
    ['one rank-3 tensor', [[2, 3, 4]]],
    ['one rank-4 conv kernel', [[3, 3, 1, 8]]],
    ['a mix of ranks 0..4', [[], [5], [2, 3], [2, 1, 3], [3, 3, 2, 4], [8]]],
    ['empty tensors (a zero dimension)', [[0], [2, 0, 3], [4]]],
    ['a dense-layer model', [[784, 32], [32], [32, 10], [10]]],
  ])('round-trips the shapes of %s with their values', (_name, shapes) => {
    const values = sequential(totalSize(shapes), 0.125);
    const decoded = decodeWeights(encodeWeights({ shapes, values }));
    expect(decoded.shapes).toEqual(shapes);
    expect(bitsOf(decoded.values)).toEqual(bitsOf(values));
  });

  it('pads the header to a multiple of 4 for every header length', () => {
    for (const shapes of [[[1]], [[1, 1]], [[1, 1, 1]], [[1], [1]], [[], [], []], [[]]]) {
      const frame = encodeWeights({ shapes, values: new Float32Array(totalSize(shapes)).fill(1) });
      const raw = 20 + shapes.reduce((n, s) => n + 1 + 4 * s.length, 0);
      const head = Math.ceil(raw / 4) * 4;
      expect(frame.byteLength).toBe(head + 4 * totalSize(shapes));
      expect(decodeWeights(frame).shapes).toEqual(shapes);
    }
  });

  it('encodes values that are a Float32Array view at an offset into a larger buffer', () => {
    const backing = sequential(20);
    const view = backing.subarray(5, 11); // byteOffset 20
    const decoded = decodeWeights(encodeWeights({ shapes: [[2, 3]], values: view }));
    expect(Array.from(decoded.values)).toEqual(Array.from(view));
  });

  it('decodes a frame whose Uint8Array starts at an odd (unaligned) byteOffset', () => {
    const frame = encodeWeights(sample);
    for (const offset of [1, 2, 3, 5]) {
      const big = new Uint8Array(frame.byteLength + offset + 7).fill(0xee);
      big.set(frame, offset);
      const unaligned = big.subarray(offset, offset + frame.byteLength);
      expect(unaligned.byteOffset % 4).not.toBe(0);
      const decoded = decodeWeights(unaligned);
      expect(decoded.shapes).toEqual(sample.shapes);
      expect(bitsOf(decoded.values)).toEqual(bitsOf(sample.values));
    }
  });

  it('decodes a Node Buffer (what Socket.IO delivers) as well as a Uint8Array', () => {
    const frame = encodeWeights(sample);
    // shared/ is typed without Node's globals; the test runs in Node, where Buffer exists.
    const NodeBuffer = (globalThis as unknown as { Buffer: { from(bytes: Uint8Array): Uint8Array } }).Buffer;
    const buffer = NodeBuffer.from(frame);
    expect(buffer.constructor.name).toBe('Buffer');
    const decoded = decodeWeights(buffer);
    expect(Array.from(decoded.values)).toEqual(Array.from(sample.values));
  });

  it('copies the values out of the frame: changing the frame later does not change the decoded weights', () => {
    const frame = encodeWeights(sample);
    const decoded = decodeWeights(frame);
    frame.fill(0, frame.byteLength - 36);
    expect(Array.from(decoded.values)).toEqual(Array.from(sample.values));
    expect(decoded.values.byteOffset).toBe(0);
    expect(decoded.values.buffer.byteLength).toBe(decoded.values.byteLength);
  });

  it('owned: float32 values are a view on an aligned frame, a copy when unaligned or not float32', () => {
    const frame = encodeWeights(sample);
    const owned = decodeWeights(frame, { owned: true });
    expect(owned.values.buffer).toBe(frame.buffer);
    expect(bitsOf(owned.values)).toEqual(bitsOf(sample.values));
    const big = new Uint8Array(frame.byteLength + 1);
    big.set(frame, 1);
    const unaligned = decodeWeights(big.subarray(1), { owned: true });
    expect(unaligned.values.buffer).not.toBe(big.buffer);
    expect(bitsOf(unaligned.values)).toEqual(bitsOf(sample.values));
    const half = encodeWeights(sample, { dtype: 'float16' });
    expect(decodeWeights(half, { owned: true }).values.buffer).not.toBe(half.buffer);
  });

  it('returns an encoded frame that does not alias the input values', () => {
    const values = Float32Array.of(1, 2, 3);
    const frame = encodeWeights({ shapes: [[3]], values });
    values[0] = 99;
    expect(decodeWeights(frame).values[0]).toBe(1);
  });
});

describe('decodeWeights refuses malformed frames with HUB_ERR_BAD_FRAME', () => {
  const frame = encodeWeights({ shapes: [[2, 3], [3], []], values: sequential(10) });
  // header: 8 + (1+8) + (1+4) + 1 = 23 -> padded to 24; data 40 bytes.

  it.each([0, 1, 4, 7, 8, 9, 12, 16, 17, 18, 22, 23, 24, 25, 40, 60, 63])(
    'refuses the frame cut to its first %i bytes',
    (cut) => {
      expect(cut).toBeLessThan(frame.byteLength);
      expectCode(() => decodeWeights(frame.subarray(0, cut)), 'HUB_ERR_BAD_FRAME');
    },
  );

  it('refuses an empty input', () => {
    expectCode(() => decodeWeights(new Uint8Array(0)), 'HUB_ERR_BAD_FRAME');
  });

  it('refuses a frame with a wrong magic number', () => {
    for (const at of [0, 1, 2, 3]) {
      const copy = frame.slice();
      copy[at]! ^= 0x20;
      const err = codedErrorOf(() => decodeWeights(copy));
      expect(err.code).toBe('HUB_ERR_BAD_FRAME');
      expect(err.message).toMatch(/FLW1/);
    }
  });

  it.each([0, 2, 255])('refuses frame version %i', (version) => {
    const copy = frame.slice();
    copy[4] = version;
    const err = codedErrorOf(() => decodeWeights(copy));
    expect(err.code).toBe('HUB_ERR_BAD_FRAME');
    expect(err.message).toContain(String(version));
  });

  it('refuses an unknown dtype code', () => {
    const copy = frame.slice();
    copy[5] = 1;
    expectCode(() => decodeWeights(copy), 'HUB_ERR_BAD_FRAME');
  });

  it.each([1, 3, 4, 100])('refuses %i extra trailing bytes', (extra) => {
    const longer = new Uint8Array(frame.byteLength + extra);
    longer.set(frame);
    expectCode(() => decodeWeights(longer), 'HUB_ERR_BAD_FRAME');
  });

  it('refuses a header whose tensor count claims more tensors than the frame holds', () => {
    const copy = frame.slice();
    new DataView(copy.buffer).setUint16(6, 200, true);
    expectCode(() => decodeWeights(copy), 'HUB_ERR_BAD_FRAME');
  });

  it('refuses a tensor count above the 4096 limit before reading any shape', () => {
    const header = new Uint8Array(20);
    header.set(frame.subarray(0, 20));
    new DataView(header.buffer).setUint16(6, 4097, true);
    expect(codedErrorOf(() => decodeWeights(header)).message).toMatch(/too many tensors/);
  });

  it('refuses a tensor rank above 6', () => {
    const copy = frame.slice();
    copy[20] = 7;
    expect(codedErrorOf(() => decodeWeights(copy)).message).toMatch(/rank 7/);
  });

  it('refuses a header whose dimensions disagree with the data length', () => {
    const copy = frame.slice();
    new DataView(copy.buffer).setUint32(21, 3, true); // [2,3] -> [3,3]: one value more than carried
    expectCode(() => decodeWeights(copy), 'HUB_ERR_BAD_FRAME');
  });

  it('refuses a header with absurdly large dimensions without allocating them', () => {
    const copy = frame.slice();
    new DataView(copy.buffer).setUint32(21, 0xffffffff, true);
    expectCode(() => decodeWeights(copy), 'HUB_ERR_BAD_FRAME');
  });
});

describe('encodeWeights refuses inconsistent weights with HUB_ERR_SHAPE_MISMATCH', () => {
  it.each<[string, number[][], number]>([
    ['too few values', [[2, 3]], 5],
    ['too many values', [[2, 3]], 7],
    ['values for a missing tensor', [[4]], 5],
    ['a scalar shape with no value', [[]], 0],
    ['no shapes with values', [], 1],
  ])('throws for %s', (_name, shapes, length) => {
    const err = codedErrorOf(() => encodeWeights({ shapes, values: new Float32Array(length) }));
    expect(err.code).toBe('HUB_ERR_SHAPE_MISMATCH');
    expect(err.message).toContain(String(length));
  });
});

describe('shape helpers', () => {
  it('sizeOfShape multiplies the dimensions, with 1 for a scalar', () => {
    expect(sizeOfShape([])).toBe(1);
    expect(sizeOfShape([7])).toBe(7);
    expect(sizeOfShape([3, 3, 1, 8])).toBe(72);
    expect(sizeOfShape([4, 0, 2])).toBe(0);
  });

  it('totalSize sums the tensor sizes', () => {
    expect(totalSize([])).toBe(0);
    expect(totalSize([[784, 32], [32], [32, 10], [10]])).toBe(25450);
  });

  it('sameShapes is true only for the same dims in the same order', () => {
    expect(sameShapes([], [])).toBe(true);
    expect(sameShapes([[2, 3], [3], []], [[2, 3], [3], []])).toBe(true);
    expect(sameShapes([[2, 3]], [[3, 2]])).toBe(false);
    expect(sameShapes([[2, 3], [3]], [[3], [2, 3]])).toBe(false);
    expect(sameShapes([[6]], [[2, 3]])).toBe(false);
    expect(sameShapes([[2, 3]], [[2, 3, 1]])).toBe(false);
    expect(sameShapes([[2, 3, 1]], [[2, 3]])).toBe(false);
    expect(sameShapes([[2]], [[2], [1]])).toBe(false);
    expect(sameShapes([[2], [1]], [[2]])).toBe(false);
    expect(sameShapes([[]], [[1]])).toBe(false);
  });

  it('sameShapes matches the shapes a frame decodes to', () => {
    const shapes = [[3, 3, 1, 8], [8], [200, 10], [10]];
    const decoded = decodeWeights(encodeWeights({ shapes, values: new Float32Array(totalSize(shapes)) }));
    expect(sameShapes(decoded.shapes, shapes)).toBe(true);
  });
});

describe('firstNonFinite', () => {
  it('returns -1 when every value is finite, including ±0, denormals and ±FLT_MAX', () => {
    expect(firstNonFinite(new Float32Array(0))).toBe(-1);
    expect(firstNonFinite(fromBits([0x00000000, 0x80000000, 0x00000001, 0x7f7fffff, 0xff7fffff]))).toBe(-1);
  });

  it('returns the index of the first NaN', () => {
    expect(firstNonFinite(Float32Array.of(1, 2, NaN, 4, NaN))).toBe(2);
    expect(firstNonFinite(fromBits([0x3f800000, 0x7fc00001]))).toBe(1);
  });

  it('returns the index of the first infinity of either sign', () => {
    expect(firstNonFinite(Float32Array.of(Infinity))).toBe(0);
    expect(firstNonFinite(Float32Array.of(0, 0, 0, -Infinity, NaN))).toBe(3);
  });

  it('finds a non-finite value in the last position of a large array', () => {
    const values = new Float32Array(100_000).fill(0.5);
    values[99_999] = NaN;
    expect(firstNonFinite(values)).toBe(99_999);
  });

  it('sees values that overflow float32 as infinite', () => {
    expect(firstNonFinite(Float32Array.of(1, 1e39))).toBe(1);
  });
});
