import { describe, expect, it } from 'vitest';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { phaseText } from '../phase-text';

const base: ClientSnapshot = {
  connection: 'connected',
  clientId: 'c',
  phase: 'loading',
  round: { runId: 'run12345678', round: 1, rounds: 2, task: 'mnist', secure: true },
  progress: null,
  lastRound: null,
  lastScore: null,
  lastError: null,
  roundsDone: 0,
  cancelled: null,
};

describe('phaseText in a secure round', () => {
  it('shows the key and share exchange while the tab is loading, then training, then masking', () => {
    expect(phaseText(base, true)).toBe(
      'Round 1 of 2 · MNIST digits · secure round: stage keys and shares (exchanging keys and encrypted shares with the other clients)',
    );
    const progress = { epoch: 1, epochs: 1, batch: 3, batches: 84, loss: 1, accuracy: 0.5 };
    expect(phaseText({ ...base, phase: 'training', progress }, true)).toBe('Round 1 of 2 · MNIST digits · secure round: stage training · epoch 1/1 · batch 3/84');
    expect(phaseText({ ...base, phase: 'submitting' }, true)).toBe(
      'Round 1 of 2 · MNIST digits · secure round: stage masking · sending the masked update (the hub sees only the sum)',
    );
  });

  it('says nothing of secure aggregation in a plain round', () => {
    const plain = { ...base, round: { ...base.round!, secure: false } };
    expect(phaseText(plain, true)).toBe('Round 1 of 2 · MNIST digits · preparing data');
    expect(phaseText({ ...plain, phase: 'submitting' }, true)).toBe('Round 1 of 2 · MNIST digits · sending the update');
  });
});
