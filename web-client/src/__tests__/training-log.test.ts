import { describe, expect, it } from 'vitest';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { addEpoch, type EpochEntry, type RunGroup } from '../ui/epoch-log';
import { phaseText } from '../ui/phase-text';
import { dataInUse } from '../ui/data-in-use';

function entry(runId: string, round: number, epoch = 1): EpochEntry {
  return { runId, task: 'mnist', round, rounds: 50, epoch, epochs: 1, loss: 0.5, accuracy: 0.9 };
}

function log(entries: EpochEntry[], limits = { runs: 2, perRun: 3 }): RunGroup[] {
  return entries.reduce<RunGroup[]>((groups, e) => addEpoch(groups, e, limits), []);
}

describe('addEpoch', () => {
  it('groups epochs by run, newest run and newest epoch first', () => {
    const groups = log([entry('a', 1), entry('a', 2), entry('b', 1)]);
    expect(groups.map((g) => [g.runId, g.entries.map((e) => e.round)])).toEqual([
      ['b', [1]],
      ['a', [2, 1]],
    ]);
  });

  it('keeps the last runs and the last epochs of each, counting the ones it let go', () => {
    const groups = log([...[1, 2, 3, 4, 5].map((r) => entry('a', r)), entry('b', 1), entry('c', 1)]);
    expect(groups.map((g) => g.runId)).toEqual(['c', 'b']);
    const long = log([1, 2, 3, 4, 5].map((r) => entry('a', r)));
    expect(long[0]!.entries.map((e) => e.round)).toEqual([5, 4, 3]);
    expect(long[0]!.dropped).toBe(2);
  });

  it('logs an epoch seen twice (a re-sent round) once', () => {
    const once = log([entry('a', 1)]);
    expect(addEpoch(once, entry('a', 1))).toBe(once);
  });
});

const idle: ClientSnapshot = {
  connection: 'connected',
  clientId: 'c',
  phase: 'idle',
  round: { runId: 'r', round: 2, rounds: 3, task: 'mnist' },
  progress: null,
  lastRound: { runId: 'r', round: 1, loss: 1, accuracy: 0.5, trainMs: 1 },
  lastScore: null,
  lastError: null,
  roundsDone: 1,
  cancelled: null,
};

describe('phaseText', () => {
  it("says the run was stopped when the hub cancels the round with 'run stopped'", () => {
    const text = phaseText({ ...idle, cancelled: { runId: 'r', round: 2, reason: 'run stopped' } }, true);
    expect(text).toMatch(/^Run stopped on the hub during round 2 of 3/);
  });

  it("gives the hub's reason for any other cancel, and the last round otherwise", () => {
    expect(phaseText({ ...idle, cancelled: { runId: 'r', round: 2, reason: 'deadline of 5s reached' } }, true)).toContain('deadline of 5s reached');
    expect(phaseText(idle, true)).toBe('Round 1 done; waiting for the next round');
  });
});

describe('dataInUse', () => {
  it('names the data a failed folder left in place', () => {
    expect(dataInUse({ task: 'mnist' })).toBe('Still in use: the MNIST digits from the hub.');
    const chest = { task: 'chest-xray' as const, imageSize: 64, train: { normal: 1341, pneumonia: 3875 }, test: { normal: 234, pneumonia: 390 } };
    expect(dataInUse(chest)).toBe('Still in use: the chest_xray folder loaded before (train 1,341 normal / 3,875 pneumonia, test 234 / 390).');
    expect(dataInUse(null)).toMatch(/^No data is in use yet/);
  });
});
