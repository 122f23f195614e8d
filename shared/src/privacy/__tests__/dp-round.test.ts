import { describe, expect, it } from 'vitest';
import { codeOf } from '../../secagg/__tests__/support/code-of';
import {
  FIXED_POINT_EXCEED_PROBABILITY,
  centralNoiseStd,
  clientNoiseStd,
  effectiveNoiseMultiplier,
  fixedPointRange,
  type DpRoundSettings,
} from '../dp-round';
import { gaussianNoise } from '../gaussian';

const distributed: DpRoundSettings = { noiseMultiplier: 1.2, clipNorm: 0.5, noise: 'distributed' };
const central: DpRoundSettings = { ...distributed, noise: 'central' };

describe('per-round DP arithmetic', () => {
  it('splits the noise into n client shares of zC/√n when distributed, and gives it all to the hub when central', () => {
    expect(clientNoiseStd(distributed, 9)).toBeCloseTo((1.2 * 0.5) / 3, 15);
    expect(centralNoiseStd(distributed)).toBe(0);
    expect(clientNoiseStd(central, 9)).toBe(0);
    expect(centralNoiseStd(central)).toBeCloseTo(0.6, 15);
  });

  it('n clients adding clientNoiseStd each sum to variance (zC)² (within 2%, 6.3 standard errors over 200,000 coordinates)', () => {
    const n = 10;
    const length = 200_000;
    const std = clientNoiseStd(distributed, n);
    const sum = new Float64Array(length);
    for (let c = 0; c < n; c++) {
      const share = gaussianNoise(length, std);
      for (let i = 0; i < length; i++) sum[i] += share[i]!;
    }
    let ss = 0;
    for (const v of sum) ss += v * v;
    const target = (distributed.noiseMultiplier * distributed.clipNorm) ** 2;
    expect(Math.abs(ss / length / target - 1)).toBeLessThan(0.02);
  });

  it('accounts central rounds at z whoever survives, distributed rounds at z·√(survivors/participants)', () => {
    expect(effectiveNoiseMultiplier(central, 10, 6)).toBe(1.2);
    expect(effectiveNoiseMultiplier(distributed, 10, 10)).toBe(1.2);
    expect(effectiveNoiseMultiplier(distributed, 10, 6)).toBeCloseTo(1.2 * Math.sqrt(0.6), 15);
    expect(effectiveNoiseMultiplier(distributed, 10, 0)).toBe(0);
    expect(codeOf(() => effectiveNoiseMultiplier(distributed, 10, 11))).toBe('HUB_ERR_INVALID_SETTINGS');
  });

  it('sizes the fixed-point range as C + 7 client std, exceeded per coordinate with probability erfc(7/√2)', () => {
    expect(fixedPointRange(distributed, 4)).toBeCloseTo(0.5 + (7 * 0.6) / 2, 14);
    expect(fixedPointRange(central, 4)).toBe(0.5);
    // P(|N(0,1)| > 7) from mpmath: 2.5596250877716700e-12.
    expect(Math.abs(FIXED_POINT_EXCEED_PROBABILITY / 2.55962508777167e-12 - 1)).toBeLessThan(1e-12);
  });

  it('refuses a negative noise multiplier, a clip norm <= 0, an unknown noise mode and zero participants', () => {
    expect(codeOf(() => clientNoiseStd({ ...distributed, noiseMultiplier: -1 }, 3))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => centralNoiseStd({ ...central, clipNorm: 0 }))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => centralNoiseStd({ ...central, noise: 'local' as never }))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => clientNoiseStd(distributed, 0))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => fixedPointRange(distributed, 1.5))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});
