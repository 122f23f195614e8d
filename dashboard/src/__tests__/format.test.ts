import { describe, expect, it } from 'vitest';
import { resolveSettings } from '@fl/shared/settings';
import { deltaText, epsilonText, settingsLine } from '../format';

describe('privacy numbers', () => {
  it('writes epsilon with two decimals, whole once large, ∞ without noise', () => {
    expect(epsilonText(1.8449)).toBe('1.84');
    expect(epsilonText(1234.5)).toBe('1,235');
    expect(epsilonText(Infinity)).toBe('∞');
  });

  it('writes delta as a power of ten', () => {
    expect(deltaText(1e-5)).toBe('1e-5');
    expect(deltaText(2.5e-6)).toBe('2.5e-6');
  });
});

describe('settingsLine', () => {
  it('names the clients drawn per round and the DP settings, and drops the secure clip DP does not use', () => {
    const line = settingsLine(
      resolveSettings({ task: 'mnist', rounds: 3, minClients: 3, clientsPerRound: 5, secureAggregation: true, dp: { noiseMultiplier: 1.1, clipNorm: 0.5, delta: 1e-5, targetEpsilon: 3, noise: 'distributed' } }),
    );
    expect(line).toContain(' · secure aggregation · 5 drawn per round · DP z 1.1 · clip 0.5 · δ 1e-5 · target ε 3 · distributed noise');
    expect(line).not.toContain('±');
  });

  it('says nothing of sampling or DP for a run without them', () => {
    const line = settingsLine(resolveSettings({ task: 'mnist', rounds: 3 }));
    expect(line).not.toMatch(/drawn|DP/);
  });
});
