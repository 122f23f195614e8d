/** What a DP run has spent, and whom a sampled round drew, in the run panel's words. */
import type { RoundRecord, RunDetail, RunSummary } from '@fl/shared/api';
import { deltaText, epsilonText } from './format';

/** Epsilon spent so far against the target, at the run's delta. */
export interface PrivacySpent {
  epsilon: number;
  delta: number;
  targetEpsilon: number | null;
}

/** The last round that carries a cumulative epsilon; failed rounds spend nothing, so they carry none. */
function lastEpsilon(rounds: readonly RoundRecord[]): number {
  for (let i = rounds.length - 1; i >= 0; i--) {
    const epsilon = rounds[i]!.epsilon;
    if (epsilon !== null && epsilon !== undefined) return epsilon;
  }
  return 0;
}

/**
 * The run's spend: the live status's while it runs (it counts every committed round), else the last round's
 * cumulative epsilon. null for runs without DP, and for runs stored before DP existed.
 */
export function privacySpentOf(summary: RunSummary | null, run: RunDetail | null): PrivacySpent | null {
  if (summary?.privacy) return summary.privacy;
  const dp = summary?.settings.dp ?? run?.settings.dp;
  if (!dp) return null;
  return { epsilon: run ? lastEpsilon(run.rounds) : 0, delta: dp.delta, targetEpsilon: dp.targetEpsilon };
}

/** The meter's share of the target that is used, from 0.9 on drawn as nearly spent. */
export const NEARLY_SPENT = 0.9;

/** "ε 1.84 of 3.00 (δ 1e-5)" with the share of the target used, or "ε 1.84 spent (δ 1e-5), no target". */
export function privacyMeter(spent: PrivacySpent): { text: string; fraction: number | null; nearlySpent: boolean } {
  const delta = `δ ${deltaText(spent.delta)}`;
  if (spent.targetEpsilon === null) return { text: `ε ${epsilonText(spent.epsilon)} spent (${delta}), no target`, fraction: null, nearlySpent: false };
  const fraction = Math.min(1, spent.epsilon / spent.targetEpsilon);
  return { text: `ε ${epsilonText(spent.epsilon)} of ${epsilonText(spent.targetEpsilon)} (${delta})`, fraction, nearlySpent: fraction >= NEARLY_SPENT };
}

/** "Drawn 5 of 10 eligible clients this round (seeded); the rest wait.", only when the round left some out. */
export function drawnLine(summary: RunSummary): string | null {
  const drawn = summary.participants.length;
  // Hubs from before client sampling send no population.
  if (!(summary.population > drawn) || drawn === 0) return null;
  return `Drawn ${drawn} of ${summary.population} eligible clients this round (seeded); the rest wait.`;
}

/**
 * The last DP round, when the noise its sum carried was below the setting (distributed noise: clients that
 * dropped took their share of it with them), so its epsilon rose more than planned; else null.
 */
export function weakenedNoiseLine(run: RunDetail): string | null {
  const dp = run.settings.dp;
  const last = run.rounds.filter((r) => r.privacy).at(-1);
  if (!dp || !last?.privacy || last.privacy.noiseMultiplier >= dp.noiseMultiplier) return null;
  const p = last.privacy;
  return `Round ${last.round}: ${p.survivors} of ${p.participants} drawn clients' noise shares reached the sum, so it carried z = ${p.noiseMultiplier.toFixed(2)} instead of ${dp.noiseMultiplier}; the accountant counted the smaller noise.`;
}

/** A finished run's final epsilon for the history, or null without DP. */
export function finalEpsilon(run: RunDetail): number | null {
  return run.settings.dp ? lastEpsilon(run.rounds) : null;
}

/**
 * Why a run ended, when it is worth a line in the history: a failure, or a completed run cut short by its
 * privacy budget (the hub's full reason stays in the tooltip). A run that ran its rounds, or was stopped (its badge says so), shows none.
 */
export function endReason(run: RunDetail): { kind: 'failed' | 'budget'; text: string } | null {
  if (run.status === 'running' || !run.reason) return null;
  if (run.status === 'failed') return { kind: 'failed', text: run.reason };
  if (run.reason.startsWith('privacy budget reached')) {
    const round = /round (\d+) would/.exec(run.reason)?.[1];
    return { kind: 'budget', text: round ? `privacy budget reached before round ${round}` : 'privacy budget reached' };
  }
  return null;
}
