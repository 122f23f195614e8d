import { describe, expect, it } from 'vitest';
import { erfc, logErfc } from '../erfc';

/** [x, log(erfc(x))] computed with mpmath 1.3.0 at 40 significant digits (mp.log(mp.erfc(x))), rounded to doubles. */
const REFERENCE: [number, number][] = [
  [-30, 0.6931471805599453],
  [-3, 0.6931361352504468],
  [-1.3, 0.6595945050581623],
  [-1.2, 0.6472676150562195],
  [-0.5, 0.41903914777555956],
  [1e-8, -1.1283791734617103e-08],
  [0.3, -0.39843005144008525],
  [1, -1.8496055099332482],
  [1.2, -2.4114403551669295],
  [1.25, -2.5626536619221256],
  [1.3, -2.7182209220903846],
  [2, -5.364941264616638],
  [3.7, -15.604367894999848],
  [5, -27.200889545537436],
  [9.99, -102.67899829776833],
  [10, -102.87988902484489],
  [10.01, -103.08097878073202],
  [26, -679.8311997631943],
  [27, -732.8688865078974],
  [30, -903.9741171106439],
  [100, -10005.177585122665],
  [1000, -1000007.4801207219],
  [1e6, -1000000000014.3878],
];

describe('logErfc', () => {
  it.each(REFERENCE)('log(erfc(%d)) matches mpmath to 1e-14 relative', (x, expected) => {
    expect(Math.abs(logErfc(x) - expected) / Math.abs(expected)).toBeLessThan(1e-14);
  });

  it('is 0 at 0, log 2 at -Infinity, -Infinity at +Infinity and NaN at NaN', () => {
    expect(Math.abs(logErfc(0))).toBe(0);
    expect(logErfc(-Infinity)).toBe(Math.log(2));
    expect(logErfc(Infinity)).toBe(-Infinity);
    expect(logErfc(NaN)).toBeNaN();
  });

  it('is continuous and decreasing across the switches between series, continued fraction and expansion', () => {
    for (const edge of [-1.25, 1.25, 10]) {
      const below = logErfc(edge - 1e-12);
      const at = logErfc(edge);
      expect(Math.abs(below - at)).toBeLessThan(1e-10 * Math.max(1, Math.abs(at)));
      expect(below).toBeGreaterThan(logErfc(edge + 1e-6));
    }
  });

  it('gives erfc(7/√2) = P(|N(0,1)| > 7) = 2.55962508777167e-12 (mpmath)', () => {
    expect(Math.abs(erfc(7 / Math.SQRT2) / 2.55962508777167e-12 - 1)).toBeLessThan(1e-13);
  });
});
