import type { RoundRecord, RunSummary } from '@fl/shared/api';
import { resolveSettings } from '@fl/shared/settings';

/** A completed, evaluated round without differential privacy, unless patched. */
export function roundRecord(round: number, patch: Partial<RoundRecord> = {}): RoundRecord {
  return {
    round,
    status: 'completed',
    clients: 2,
    samples: 10,
    accuracy: 0.5,
    loss: 1,
    durationMs: 1,
    clientTest: null,
    reason: null,
    note: null,
    evaluation: 'done',
    weightsHash: null,
    epsilon: null,
    privacy: null,
    ...patch,
  };
}

/** The live summary of a 3-round MNIST run in round 2, every eligible client drawn, unless patched. */
export function runSummary(patch: Partial<RunSummary> = {}): RunSummary {
  const participants = patch.participants ?? [];
  return {
    id: 'r',
    task: 'mnist',
    round: 2,
    rounds: 3,
    settings: resolveSettings({ task: 'mnist', rounds: 3 }),
    deadline: 0,
    participants,
    population: participants.length,
    ...patch,
  };
}
