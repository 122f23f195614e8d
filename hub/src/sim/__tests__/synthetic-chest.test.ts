import { describe, expect, it } from 'vitest';
import { createRng } from '@fl/shared';
import { areaResize, planChestImages, tabInput, tintedLuma } from '../synthetic-chest';

describe('synthetic chest X-rays', () => {
  it('area-resizes by the mean of the covered source pixels, partial pixels by their overlap', () => {
    // Columns 0, 90, 180 squashed to two: [0, 1.5) -> (0 + 0.5 * 90) / 1.5, [1.5, 3) -> (0.5 * 90 + 180) / 1.5.
    const row = [0, 90, 180];
    const out = areaResize(Uint8Array.from([...row, ...row, ...row]), 3, 3, 2);
    expect([...out]).toEqual([30, 150, 30, 150]);
    const halves = Uint8Array.from({ length: 128 * 128 }, (_, i) => (i % 128 < 64 ? 0 : 200));
    const small = areaResize(halves, 128, 128, 64);
    expect(small[0]).toBe(0);
    expect(small[31]).toBe(0);
    expect(small[32]).toBe(200);
    expect(small[64 * 64 - 1]).toBe(200);
  });

  it('reads a tinted pixel back as its Rec. 601 luma, a little darker than the gray written', () => {
    expect(tintedLuma(100)).toBeCloseTo(0.299 * 118 + 0.587 * 93 + 0.114 * 78, 6);
    expect(tintedLuma(250)).toBeCloseTo(0.299 * 255 + 0.587 * 233 + 0.114 * 195, 6);
  });

  it('plans the same images from the same seed, with the counts asked for, and makes PNEUMONIA brighter', () => {
    const counts = { train: { normal: 3, pneumonia: 4 }, test: { normal: 1, pneumonia: 2 } };
    const a = planChestImages(createRng(7), counts.train, counts.test, 0.5);
    const b = planChestImages(createRng(7), counts.train, counts.test, 0.5);
    expect(a).toEqual(b);
    expect(a.map((p) => `${p.split}:${p.pneumonia ? 'P' : 'N'}`).join(' ')).toBe('train:N train:N train:N train:P train:P train:P train:P test:N test:P test:P');
    const train = tabInput(a, 'train', 64);
    expect([...train.labels]).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(train.pixels.length).toBe(7 * 64 * 64);
    const mean = (i: number) => train.pixels.subarray(i * 4096, (i + 1) * 4096).reduce((s, v) => s + v, 0) / 4096;
    expect(Math.min(mean(3), mean(4), mean(5), mean(6))).toBeGreaterThan(Math.max(mean(0), mean(1), mean(2)));
  });
});
