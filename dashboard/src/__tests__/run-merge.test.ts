import { describe, expect, it } from 'vitest';
import type { RoundRecord, RunDetail } from '@fl/shared/api';
import { resolveSettings } from '@fl/shared/settings';
import { roundRecord } from './support/run-fixtures';
import { mergeRuns } from '../run-merge';

function record(round: number, accuracy: number | null): RoundRecord {
  return roundRecord(round, { accuracy, loss: accuracy === null ? null : 1, evaluation: accuracy === null ? 'pending' : 'done' });
}

function run(rounds: RoundRecord[], endedAt: number | null = null, id = 'a'): RunDetail {
  return { id, task: 'mnist', status: endedAt ? 'completed' : 'running', settings: resolveSettings({ task: 'mnist', rounds: 3 }), createdAt: 1, endedAt, reason: null, initialTest: null, rounds };
}

describe('mergeRuns', () => {
  it("takes the push that carries round 1's evaluation, though the round count is the same and the run has not ended", () => {
    const committed = run([record(1, null)]);
    const evaluated = run([record(1, 0.91)]);
    expect(mergeRuns([committed], [evaluated], 'push')[0]!.rounds[0]!.accuracy).toBe(0.91);
  });

  it('keeps a pushed copy when a list answer read before that push arrives after it', () => {
    const pushed = mergeRuns([], [run([record(1, 0.91)])], 'push');
    const stale = run([record(1, null)]);
    expect(mergeRuns(pushed, [stale], 'answer')[0]!.rounds[0]!.accuracy).toBe(0.91);
    expect(mergeRuns(mergeRuns([], [run([record(1, 0.9), record(2, 0.92)])], 'push'), [run([record(1, 0.9)])], 'answer')[0]!.rounds).toHaveLength(2);
  });

  it('takes an answer that is further along (missed pushes while the socket was down), and one that ended the run', () => {
    const known = [run([record(1, 0.9)])];
    expect(mergeRuns(known, [run([record(1, 0.9), record(2, null)])], 'answer')[0]!.rounds).toHaveLength(2);
    expect(mergeRuns(known, [run([record(1, 0.9)], 5)], 'answer')[0]!.endedAt).toBe(5);
  });

  it('adds unknown runs and keeps the list newest first', () => {
    const older = run([], null, 'old');
    const newer = { ...run([], null, 'new'), createdAt: 2 };
    expect(mergeRuns([older], [newer], 'answer').map((r) => r.id)).toEqual(['new', 'old']);
  });
});
