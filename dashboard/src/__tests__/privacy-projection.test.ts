import { describe, expect, it } from 'vitest';
import { epsilonFor } from '@fl/shared/privacy/index';
import { defaultValues } from '../launch-rules';
import { projectedSamplingRate, projectionInputOf, projectionLines, projectPrivacy, roundUp, type ProjectionInput } from '../privacy-projection';

const base: ProjectionInput = { rounds: 10, clientsPerRound: 5, eligible: 10, noiseMultiplier: 1, delta: 1e-5, targetEpsilon: null };
const eps = (rounds: number, samplingRate = 0.5, noiseMultiplier = 1) => epsilonFor({ samplingRate, noiseMultiplier, rounds, delta: 1e-5 }).epsilon;

describe('projectedSamplingRate', () => {
  it('is drawn over eligible, and 1 without clientsPerRound, when it draws everyone, or before any client connects', () => {
    expect(projectedSamplingRate(5, 10)).toBe(0.5);
    expect(projectedSamplingRate(null, 10)).toBe(1);
    expect(projectedSamplingRate(20, 10)).toBe(1);
    expect(projectedSamplingRate(5, 0)).toBe(1);
  });
});

describe('projectPrivacy', () => {
  it('spends what the accountant says for every round at the form\'s sampling rate', () => {
    const p = projectPrivacy(base);
    expect(p.samplingRate).toBe(0.5);
    expect(p.epsilon).toBe(eps(10));
    expect(p).toMatchObject({ drawn: 5, population: 10, assumed: false, roundsWithin: null, noiseForTarget: null });
  });

  it('counts the rounds that fit in the target, as the hub does before each round', () => {
    const target = (eps(3) + eps(4)) / 2;
    expect(projectPrivacy({ ...base, targetEpsilon: target }).roundsWithin).toBe(3);
    expect(projectPrivacy({ ...base, targetEpsilon: eps(10) }).roundsWithin).toBe(10);
    expect(projectPrivacy({ ...base, targetEpsilon: eps(1) / 2 }).roundsWithin).toBe(0);
  });

  it('offers the smallest noise multiplier, rounded up, that fits every round', () => {
    const target = 3;
    const z = projectPrivacy({ ...base, targetEpsilon: target }).noiseForTarget!;
    expect(eps(10, 0.5, z)).toBeLessThanOrEqual(target);
    // Three digits: at most 1% above the exact answer, so 2% less noise no longer fits.
    expect(eps(10, 0.5, z * 0.98)).toBeGreaterThan(target);
    expect(projectPrivacy({ ...base, noiseMultiplier: z, targetEpsilon: target }).roundsWithin).toBe(10);
  });

  it('offers no noise multiplier when none up to the limit fits, and still projects without one typed', () => {
    const p = projectPrivacy({ ...base, clientsPerRound: null, rounds: 1000, noiseMultiplier: null, targetEpsilon: 0.01 });
    expect(p).toMatchObject({ samplingRate: 1, epsilon: null, roundsWithin: null, noiseForTarget: null });
  });

  it('takes clientsPerRound as the population while no client is connected', () => {
    const p = projectPrivacy({ ...base, eligible: 0 });
    expect(p).toMatchObject({ samplingRate: 1, drawn: 5, population: 5, assumed: true });
    expect(p.epsilon).toBe(eps(10, 1));
  });
});

describe('projectionLines', () => {
  it('says where a run that overruns its target ends', () => {
    const input = { ...base, targetEpsilon: (eps(3) + eps(4)) / 2 };
    const lines = projectionLines(projectPrivacy(input), input);
    expect(lines.spend).toBe(`Projected ε ${eps(10).toFixed(2)} after 10 rounds (δ 1e-5).`);
    expect(lines.sampling).toBe('q = 0.50: 5 of 10 eligible clients drawn per round.');
    expect(lines.target).toMatch(/^The target ε \d+\.\d\d allows 3 of 10 rounds: the run will end early, after round 3\. The smallest noise multiplier that fits all 10 rounds: z = \d/);
  });

  it('says the projection assumes q = 1 before clients connect', () => {
    const input = { ...base, eligible: 0 };
    expect(projectionLines(projectPrivacy(input), input).sampling).toMatch(/^No client is connected yet: .*q = 1/);
  });
});

describe('projectionInputOf', () => {
  const form = { ...defaultValues('mnist'), dp: true, rounds: '10', clientsPerRound: '5', targetEpsilon: '3' };

  it('reads the typed numbers, and leaves out what is empty or half typed', () => {
    expect(projectionInputOf(form, 10)).toEqual({ rounds: 10, clientsPerRound: 5, eligible: 10, noiseMultiplier: 1, delta: 1e-5, targetEpsilon: 3 });
    expect(projectionInputOf({ ...form, clientsPerRound: '', noiseMultiplier: '-', targetEpsilon: '' }, 10)).toMatchObject({
      clientsPerRound: null,
      noiseMultiplier: null,
      targetEpsilon: null,
    });
  });

  it('projects nothing without whole rounds or a delta below 1', () => {
    expect(projectionInputOf({ ...form, rounds: '2.5' }, 10)).toBeNull();
    expect(projectionInputOf({ ...form, delta: '1' }, 10)).toBeNull();
  });
});

describe('roundUp', () => {
  it('rounds up to three significant digits', () => {
    expect(roundUp(1.23401)).toBe(1.24);
    expect(roundUp(0.77254)).toBe(0.773);
    expect(roundUp(16.9775)).toBe(17);
    expect(roundUp(2)).toBe(2);
  });
});
