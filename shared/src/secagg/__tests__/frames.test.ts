import { describe, expect, it } from 'vitest';
import { decodeKeyset, decodeReveal, decodeSealed, decodeUnmask, encodeSealed, readMaskedHeader, SEALED_BYTES } from '../frames';
import { planSecAgg } from '../graph';
import { decodeSetup, encodeSetup } from '../setup-frame';
import { codeOf } from './support/code-of';

const params = planSecAgg({
  runId: 'run-ü',
  round: 7,
  participants: Array.from({ length: 20 }, (_, i) => `tab-${i}`),
  weights: Array.from({ length: 20 }, (_, i) => i + 1),
  length: 1234,
  clip: 0.75,
  seed: 1,
});


describe('setup frame', () => {
  it('round-trips every parameter and the index', () => {
    const { params: back, index } = decodeSetup(encodeSetup(params, 13));
    expect(back).toEqual(params);
    expect(index).toBe(13);
  });

  it('refuses truncated, padded, asymmetric and out-of-range frames with HUB_ERR_SECAGG_BAD_FRAME', () => {
    const frame = encodeSetup(params, 0);
    expect(codeOf(() => decodeSetup(frame.subarray(0, frame.length - 1)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => decodeSetup(Uint8Array.of(...frame, 0)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => decodeSetup(frame.subarray(0, 10)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    const asymmetric = structuredClone(params);
    asymmetric.neighbours[0] = asymmetric.neighbours[0]!.slice(1);
    const wrongIndex = frame.slice();
    new DataView(wrongIndex.buffer).setUint16(2, 20, true);
    expect(codeOf(() => decodeSetup(wrongIndex))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => encodeSetup(asymmetric, 0))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    const badThreshold = frame.slice();
    new DataView(badThreshold.buffer).setUint16(10, 1, true);
    expect(codeOf(() => decodeSetup(badThreshold))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
  });
});

describe('stage frames', () => {
  it('refuse wrong lengths, unsorted indices and bad kinds with HUB_ERR_SECAGG_BAD_FRAME', () => {
    expect(codeOf(() => decodeKeyset(new Uint8Array(65)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    const sealed = new Uint8Array(SEALED_BYTES);
    const twice = encodeSealed([
      { peer: 3, sealed },
      { peer: 3, sealed },
    ]);
    expect(codeOf(() => decodeSealed(twice))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(decodeSealed(encodeSealed([{ peer: 1, sealed }, { peer: 4, sealed }])).map((e) => e.peer)).toEqual([1, 4]);
    expect(codeOf(() => decodeUnmask(Uint8Array.of(2, 0, 0, 0, 1, 0)))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => decodeReveal(Uint8Array.of(0, 0, 2, ...new Uint8Array(32))))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => decodeReveal(Uint8Array.of(0, 0, 0, ...new Uint8Array(31))))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(codeOf(() => readMaskedHeader(new Uint8Array(8 + 4 * 10), 10))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
  });
});

describe('wordsOf', () => {
  it('reads little-endian words from a view at an unaligned offset (socket buffers are pool slices)', async () => {
    const { wordsOf } = await import('../bytes');
    const backing = new Uint8Array(9);
    backing.set([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], 1);
    expect(Array.from(wordsOf(backing.subarray(1)))).toEqual([1, 0xffffffff]);
  });
});
