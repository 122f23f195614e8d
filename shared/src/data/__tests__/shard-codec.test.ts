import { describe, expect, it } from 'vitest';
import { decodeShard, encodeShard } from '../mnist-dataset';

describe('shard codec', () => {
  it('round-trips shards of every size, indices up to 65535, past its 4,096-index slices', () => {
    for (const length of [0, 1, 2, 3, 4095, 4096, 4097, 10_000]) {
      const indices = Uint16Array.from({ length }, (_, i) => (i * 7919 + (i === 1 ? 65535 : 0)) % 65536);
      const text = encodeShard(indices);
      expect(text.length).toBe(4 * Math.ceil((2 * length) / 3));
      expect(decodeShard(text)).toEqual(indices);
    }
  });

  it('writes little-endian uint16 (the layout the hub documents)', () => {
    expect(encodeShard(Uint16Array.of(0x0102, 0xfffe))).toBe(btoa(String.fromCharCode(0x02, 0x01, 0xfe, 0xff)));
  });

  it('refuses text that is not base64, and an odd number of bytes', () => {
    expect(() => decodeShard('not base64!')).toThrow('shard is not base64');
    expect(() => decodeShard('AAE')).toThrow('shard is not base64');
    expect(() => decodeShard(btoa('abc'))).toThrow('odd number of bytes');
  });
});
