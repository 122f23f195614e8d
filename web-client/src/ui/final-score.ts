import type { ClientData, EvalMetrics } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { percent } from './format';

/** This tab's score of a run's final model (its answer to the hub's model:evaluate). */
export type FinalScore = { runId: string; round: number } & EvalMetrics;

/** Images in the tab's own test split: the hub asks only tabs holding some to score the final model. */
export function testImages(data: ClientData | null): number {
  return data?.task === 'chest-xray' ? data.test.normal + data.test.pneumonia : 0;
}

/** The final model's score, once in: lastScore of the run's last round (a start score is of round - 1, never the last). */
export function finalScore(snapshot: ClientSnapshot): FinalScore | null {
  const { lastScore, round } = snapshot;
  return lastScore && round && lastScore.runId === round.runId && lastScore.round === round.rounds ? lastScore : null;
}

/**
 * Whether the tab is scoring (or about to score) the final model: it sent the last round's update of a chest
 * X-ray run and its score is not in yet. The snapshot's phase stays 'idle' for model:evaluate.
 */
export function scoringFinalModel(snapshot: ClientSnapshot, images: number): boolean {
  const { round, lastRound, phase } = snapshot;
  if (phase !== 'idle' || !round || !lastRound || images === 0 || round.task !== 'chest-xray') return false;
  if (snapshot.cancelled || snapshot.lastError) return false;
  return lastRound.runId === round.runId && lastRound.round === round.rounds && finalScore(snapshot) === null;
}

/** "Final model of run 1a2b3c4d: 92.5% accuracy on your 40 test images". */
export function finalScoreText(score: FinalScore): string {
  const extra = [
    score.sensitivity !== undefined ? `sensitivity ${percent(score.sensitivity)}` : '',
    score.specificity !== undefined ? `specificity ${percent(score.specificity)}` : '',
    score.auc !== undefined ? `AUC ${score.auc.toFixed(3)}` : '',
  ].filter(Boolean);
  const images = `${score.samples} test image${score.samples === 1 ? '' : 's'}`;
  return `Final model of run ${score.runId.slice(0, 8)}: ${percent(score.accuracy)} accuracy on your ${images}${extra.length ? ` (${extra.join(', ')})` : ''}.`;
}
