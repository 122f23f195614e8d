import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { fromHalf, toHalf } from '../quantize';
import { addWeights, decodeWeights, encodeWeights, subtractWeights } from '../weight-codec';

function gaussian(n: number, seed: number, sigma = 0.05): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

describe('float16', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [2 ** -24, 0x0001],
    [Infinity, 0x7c00],
    [1e6, 0x7c00],
    [0.1, 0x2e66],
  ])('encodes %d as the IEEE half %i', (value, bits) => {
    expect(toHalf(value)).toBe(bits);
  });

  it('rounds to nearest even at the halfway point', () => {
    // 1 + 2^-11 lies exactly between the halves 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('keeps NaN a NaN', () => {
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });

  it('decodes every finite half back to itself', () => {
    for (let bits = 0; bits < 0x7c00; bits += 7) expect(toHalf(fromHalf(bits))).toBe(bits);
  });

  it('round-trips weights through a frame within half precision (relative error <= 2^-11)', () => {
    const values = gaussian(10_000, 1);
    const decoded = decodeWeights(encodeWeights({ shapes: [[100, 100]], values }, { dtype: 'float16' }));
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const tolerance = Math.max(Math.abs(v) * 2 ** -11, 2 ** -25);
      expect(Math.abs(decoded.values[i]! - v)).toBeLessThanOrEqual(tolerance);
    }
  });

  it('takes half the bytes of float32 plus the header', () => {
    const values = gaussian(1000, 2);
    const f32 = encodeWeights({ shapes: [[1000]], values });
    const f16 = encodeWeights({ shapes: [[1000]], values }, { dtype: 'float16' });
    expect(f32.byteLength - 4000).toBe(f16.byteLength - 2000);
  });
});

describe('int8', () => {
  it('keeps each value within half a quantisation step of its tensor', () => {
    const a = gaussian(5000, 3, 0.01);
    const b = gaussian(300, 4, 2);
    const values = new Float32Array([...a, ...b]);
    const decoded = decodeWeights(encodeWeights({ shapes: [[5000], [300]], values }, { dtype: 'int8' }));
    for (const [start, tensor] of [[0, a], [5000, b]] as const) {
      const step = (Math.max(...tensor) - Math.min(...tensor)) / 255;
      for (let i = 0; i < tensor.length; i++) {
        expect(Math.abs(decoded.values[start + i]! - tensor[i]!)).toBeLessThanOrEqual(step / 2 + 1e-7);
      }
    }
  });

  it('represents a constant tensor exactly', () => {
    const values = new Float32Array(50).fill(0.375);
    expect(Array.from(decodeWeights(encodeWeights({ shapes: [[50]], values }, { dtype: 'int8' })).values)).toEqual(Array.from(values));
  });

  it('takes a quarter of the bytes of float32 plus 8 bytes per tensor', () => {
    const values = gaussian(4000, 5);
    const f32 = encodeWeights({ shapes: [[4000]], values });
    const i8 = encodeWeights({ shapes: [[4000]], values }, { dtype: 'int8' });
    expect(i8.byteLength).toBe(f32.byteLength - 16000 + 4000 + 8);
  });

  it('refuses to quantise NaN', () => {
    expect(() => encodeWeights({ shapes: [[2]], values: Float32Array.of(1, NaN) }, { dtype: 'int8' })).toThrow(/non-finite/);
  });
});

describe('frame metadata', () => {
  it('round-trips dtype, delta flag, round and run tag', () => {
    const frame = encodeWeights({ shapes: [[3]], values: Float32Array.of(1, 2, 3) }, { dtype: 'float16', delta: true, round: 7, runTag: 0xdeadbeef });
    expect(decodeWeights(frame).meta).toEqual({ dtype: 'float16', delta: true, round: 7, runTag: 0xdeadbeef });
  });

  it('defaults to float32 weights of round 0', () => {
    expect(decodeWeights(encodeWeights({ shapes: [[1]], values: Float32Array.of(1) })).meta).toEqual({ dtype: 'float32', delta: false, round: 0, runTag: 0 });
  });

  it('refuses truncated float16 and int8 frames with HUB_ERR_BAD_FRAME', () => {
    for (const dtype of ['float16', 'int8'] as const) {
      const frame = encodeWeights({ shapes: [[10]], values: gaussian(10, 6) }, { dtype });
      for (const cut of [1, 2, 9, frame.byteLength - 21]) {
        expect(() => decodeWeights(frame.subarray(0, frame.byteLength - cut))).toThrow(expect.objectContaining({ code: 'HUB_ERR_BAD_FRAME' }));
      }
    }
  });

  it.each(['float16', 'int8'] as const)('decodes a %s frame delivered inside a larger pooled buffer (a Node Buffer view)', (dtype) => {
    const values = gaussian(64, 9);
    const frame = encodeWeights({ shapes: [[64]], values }, { dtype });
    const pool = new Uint8Array(frame.byteLength + 1003).fill(0xff);
    pool.set(frame, 1001);
    const view = (globalThis as unknown as { Buffer: { from(b: ArrayBuffer, o: number, l: number): Uint8Array } }).Buffer.from(pool.buffer, 1001, frame.byteLength);
    const decoded = decodeWeights(view);
    const direct = decodeWeights(frame);
    expect(Array.from(decoded.values)).toEqual(Array.from(direct.values));
  });

  it('refuses unknown flags', () => {
    const frame = encodeWeights({ shapes: [[1]], values: Float32Array.of(1) });
    frame[8] = 4;
    expect(() => decodeWeights(frame)).toThrow(expect.objectContaining({ code: 'HUB_ERR_BAD_FRAME' }));
  });

  it('a delta added to its base gives back the weights', () => {
    const base = gaussian(100, 7);
    const next = gaussian(100, 8);
    const back = addWeights(base, subtractWeights(next, base));
    for (let i = 0; i < 100; i++) expect(back[i]).toBeCloseTo(next[i]!, 6);
  });
});
