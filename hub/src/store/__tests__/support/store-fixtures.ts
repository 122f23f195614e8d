import { resolveSettings, type FlatWeights, type ParticipationRecord, type RunSettings } from '@fl/shared';
import type { CompletedRound } from '../../store';

// The runs, models and rounds the store tests write, the same for every backend.

export const mnist: RunSettings = resolveSettings({ task: 'mnist', rounds: 3, minClients: 2 });
export const xray: RunSettings = resolveSettings({ task: 'chest-xray', rounds: 2 });

export const SHAPES = [[2, 3], [3]];

export function weights(seed: number): FlatWeights {
  return { shapes: SHAPES, values: Float32Array.from({ length: 9 }, (_, i) => seed + i / 8 - 0.5) };
}

/** The raw bits, so that -0, NaN payloads and denormals compare exactly. */
export function bits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

export function participant(clientId: string, samples: number, round = 1): ParticipationRecord {
  return {
    round,
    clientId,
    name: `name-${clientId}`,
    samples,
    loss: 0.25,
    accuracy: 0.875,
    trainMs: 1234.5,
    test: clientId === 'b' ? { samples: 40, accuracy: 0.5, auc: 0.75 } : null,
  };
}

export function completedRound(runId: string, round: number, overrides: Partial<CompletedRound> = {}): CompletedRound {
  return {
    runId,
    task: 'mnist',
    round,
    weights: weights(round * 10),
    evaluation: 'pending',
    durationMs: 1500.4,
    participants: [participant('a', 100, round), participant('b', 300, round)],
    at: 10_000 + round,
    ...overrides,
  };
}
