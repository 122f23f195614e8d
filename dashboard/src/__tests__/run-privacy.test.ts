import { describe, expect, it } from 'vitest';
import type { RunDetail } from '@fl/shared/api';
import { resolveSettings } from '@fl/shared/settings';
import { drawnLine, endReason, finalEpsilon, privacyMeter, privacySpentOf, weakenedNoiseLine } from '../run-privacy';
import { roundRecord, runSummary } from './support/run-fixtures';

const dp = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5, targetEpsilon: 3 };
const dpSettings = resolveSettings({ task: 'mnist', rounds: 4, clientsPerRound: 5, dp });
const privacy = { samplingRate: 0.5, noiseMultiplier: 1, participants: 5, survivors: 5, clipped: 1 };

function run(patch: Partial<RunDetail> = {}): RunDetail {
  return {
    id: 'r',
    task: 'mnist',
    status: 'completed',
    settings: dpSettings,
    createdAt: 0,
    endedAt: 1,
    reason: null,
    initialTest: null,
    rounds: [roundRecord(1, { epsilon: 0.9, privacy }), roundRecord(2, { epsilon: 1.4, privacy }), roundRecord(3, { status: 'failed', epsilon: null, privacy: null })],
    ...patch,
  };
}

describe('privacySpentOf', () => {
  it('takes the live status while the run is active, else the last round that carries an epsilon', () => {
    const live = runSummary({ settings: dpSettings, privacy: { epsilon: 1.84, delta: 1e-5, targetEpsilon: 3 } });
    expect(privacySpentOf(live, run())).toEqual({ epsilon: 1.84, delta: 1e-5, targetEpsilon: 3 });
    expect(privacySpentOf(null, run())).toEqual({ epsilon: 1.4, delta: 1e-5, targetEpsilon: 3 });
    expect(privacySpentOf(runSummary({ settings: dpSettings }), null)).toEqual({ epsilon: 0, delta: 1e-5, targetEpsilon: 3 });
  });

  it('is null for a run without DP', () => {
    expect(privacySpentOf(runSummary(), run({ settings: resolveSettings({ task: 'mnist', rounds: 4 }) }))).toBeNull();
  });
});

describe('privacyMeter', () => {
  it('says epsilon against the target and how much of it is used', () => {
    expect(privacyMeter({ epsilon: 1.84, delta: 1e-5, targetEpsilon: 3 })).toEqual({ text: 'ε 1.84 of 3.00 (δ 1e-5)', fraction: 1.84 / 3, nearlySpent: false });
    expect(privacyMeter({ epsilon: 2.8, delta: 1e-5, targetEpsilon: 3 }).nearlySpent).toBe(true);
  });

  it('shows the numbers alone without a target, and ∞ for a run without noise', () => {
    expect(privacyMeter({ epsilon: 12.5, delta: 2.5e-6, targetEpsilon: null })).toEqual({ text: 'ε 12.50 spent (δ 2.5e-6), no target', fraction: null, nearlySpent: false });
    expect(privacyMeter({ epsilon: Infinity, delta: 1e-5, targetEpsilon: null }).text).toBe('ε ∞ spent (δ 1e-5), no target');
  });
});

describe('drawnLine', () => {
  it('says whom the round drew when it left some eligible clients waiting', () => {
    expect(drawnLine(runSummary({ participants: ['a', 'b', 'c', 'd', 'e'], population: 10 }))).toBe('Drawn 5 of 10 eligible clients this round (seeded); the rest wait.');
  });

  it('says nothing when every eligible client takes part, or the hub sends no population', () => {
    expect(drawnLine(runSummary({ participants: ['a', 'b'] }))).toBeNull();
    expect(drawnLine({ ...runSummary({ participants: ['a'] }), population: undefined as unknown as number })).toBeNull();
  });
});

describe('weakenedNoiseLine', () => {
  it('names a round whose distributed noise lost the shares of clients that dropped out', () => {
    const weak = run({ rounds: [roundRecord(1, { epsilon: 1.1, privacy: { ...privacy, survivors: 4, noiseMultiplier: Math.sqrt(4 / 5), clipped: null } })] });
    expect(weakenedNoiseLine(weak)).toBe("Round 1: 4 of 5 drawn clients' noise shares reached the sum, so it carried z = 0.89 instead of 1; the accountant counted the smaller noise.");
    expect(weakenedNoiseLine(run())).toBeNull();
  });
});

describe('history', () => {
  it('gives a DP run its final epsilon and none to a run without DP', () => {
    expect(finalEpsilon(run())).toBe(1.4);
    expect(finalEpsilon(run({ settings: resolveSettings({ task: 'mnist', rounds: 4 }) }))).toBeNull();
  });

  it('shortens the privacy budget reason to the round it stopped before, keeps failures, and drops the operator\'s stop', () => {
    const budget = run({ reason: 'privacy budget reached: round 3 would raise epsilon from 1.400 to 3.100, over the target 3 (delta 0.00001)' });
    expect(endReason(budget)).toEqual({ kind: 'budget', text: 'privacy budget reached before round 3' });
    expect(endReason(run({ status: 'failed', reason: 'round 2: too few clients' }))).toEqual({ kind: 'failed', text: 'round 2: too few clients' });
    expect(endReason(run({ status: 'stopped', reason: 'stopped by the operator' }))).toBeNull();
    expect(endReason(run())).toBeNull();
  });
});
