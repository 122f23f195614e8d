import { describe, expect, it } from 'vitest';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { finalScore, finalScoreText, scoringFinalModel, testImages } from '../final-score';
import { phaseText } from '../phase-text';

const chest = { task: 'chest-xray' as const, imageSize: 64, train: { normal: 30, pneumonia: 30 }, test: { normal: 20, pneumonia: 20 } };

/** A chest tab right after its update for round 2 of 2 was acked: the hub now asks it to score the final model. */
const lastRoundSent: ClientSnapshot = {
  connection: 'connected',
  clientId: 'c',
  phase: 'idle',
  round: { runId: 'run12345678', round: 2, rounds: 2, task: 'chest-xray' },
  progress: null,
  lastRound: { runId: 'run12345678', round: 2, loss: 0.2, accuracy: 0.95, trainMs: 1000, test: { samples: 40, accuracy: 0.7 } },
  // Sent at round 2's start: the model after round 1.
  lastScore: { runId: 'run12345678', round: 1, samples: 40, accuracy: 0.7 },
  lastError: null,
  roundsDone: 2,
  cancelled: null,
};

const scored: ClientSnapshot = {
  ...lastRoundSent,
  lastScore: { runId: 'run12345678', round: 2, samples: 40, accuracy: 0.925, sensitivity: 0.9, specificity: 0.95, auc: 0.97 },
};

describe('final model score on the tab', () => {
  it('counts the test split of a chest folder and nothing for MNIST', () => {
    expect(testImages(chest)).toBe(40);
    expect(testImages({ task: 'mnist' })).toBe(0);
    expect(testImages(null)).toBe(0);
  });

  it('says the tab is scoring the final model after its last update, until the score of the last round is in', () => {
    expect(scoringFinalModel(lastRoundSent, 40)).toBe(true);
    expect(finalScore(lastRoundSent)).toBeNull();
    expect(phaseText(lastRoundSent, true, 40)).toBe('Round 2 of 2 done · scoring the final model on your test split');
    expect(scoringFinalModel(scored, 40)).toBe(false);
  });

  it('does not claim to score when the tab holds no test images, the round was cancelled or the run has rounds left', () => {
    expect(scoringFinalModel(lastRoundSent, 0)).toBe(false);
    expect(scoringFinalModel({ ...lastRoundSent, cancelled: { runId: 'run12345678', round: 2, reason: 'run stopped' } }, 40)).toBe(false);
    const midRun = { ...lastRoundSent, round: { ...lastRoundSent.round!, rounds: 3 } };
    expect(scoringFinalModel(midRun, 40)).toBe(false);
    expect(phaseText(midRun, true, 40)).toBe('Round 2 done; waiting for the next round');
  });

  it("shows the final model's score from lastScore of the run's last round, never a start score", () => {
    expect(finalScore(scored)?.accuracy).toBe(0.925);
    expect(finalScoreText(finalScore(scored)!)).toBe(
      'Final model of run run12345: 92.5% accuracy on your 40 test images (sensitivity 90.0%, specificity 95.0%, AUC 0.970).',
    );
    expect(phaseText(scored, true, 40)).toBe('Run finished: the final model scored 92.5% on your 40 test images; waiting for the next run');
    // A score of round 1 in a 2-round run is the start score of round 2, not the final model.
    expect(finalScore({ ...scored, lastScore: { ...scored.lastScore!, round: 1 } })).toBeNull();
    expect(finalScore({ ...scored, lastScore: { ...scored.lastScore!, runId: 'another-run' } })).toBeNull();
  });
});
