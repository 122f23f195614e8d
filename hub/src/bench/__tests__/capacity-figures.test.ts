import { describe, expect, it } from 'vitest';
import {
  capacityLine,
  evaluationWindows,
  loadWorkerCount,
  longestStallIn,
  openFilesLimit,
  mergeTimings,
  percentile,
  roundParts,
  rssPerClientKiB,
  workerShares,
  type CapacityLine,
  type EpochRoundTimings,
} from '../capacity-figures';

describe('percentile', () => {
  it('takes the nearest rank, whatever the input order', () => {
    const xs = [50, 10, 40, 20, 30, 60, 70, 80, 90, 100];
    expect(percentile(xs, 95)).toBe(100);
    expect(percentile(xs, 90)).toBe(90);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 0)).toBe(10);
  });

  it('is the largest of three rounds at p95 and the only value of one', () => {
    expect(percentile([3000, 5200, 4100], 95)).toBe(5200);
    expect(percentile([7], 95)).toBe(7);
  });

  it('is null without values and leaves its input unsorted', () => {
    expect(percentile([], 95)).toBeNull();
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('load workers', () => {
  it('takes one per core, never more than the clients, more when a worker would hold over its cap', () => {
    expect(loadWorkerCount(8, 2)).toBe(2);
    expect(loadWorkerCount(1, 16)).toBe(1);
    expect(loadWorkerCount(10_000, 2)).toBe(2);
    expect(loadWorkerCount(20_000, 2)).toBe(4);
    expect(loadWorkerCount(20_001, 2)).toBe(5);
    expect(loadWorkerCount(100, 16)).toBe(16);
    expect(loadWorkerCount(100, 0)).toBe(1);
  });

  it('refuses a client count that is not a positive integer', () => {
    expect(() => loadWorkerCount(0, 2)).toThrow(RangeError);
    expect(() => loadWorkerCount(2.5, 2)).toThrow(RangeError);
  });

  it('splits the clients into contiguous shares that differ by at most one and cover every client once', () => {
    const shares = workerShares(10, 3);
    expect(shares).toEqual([
      { from: 0, count: 4 },
      { from: 4, count: 3 },
      { from: 7, count: 3 },
    ]);
    expect(workerShares(20_000, 4).map((s) => s.count)).toEqual([5000, 5000, 5000, 5000]);
  });
});

const t = (firstReceived: number, lastReceived: number, lastEmitted: number, lastAcked: number): EpochRoundTimings => ({ firstReceived, lastReceived, lastEmitted, lastAcked });

describe('mergeTimings', () => {
  it('takes the earliest first receipt and the latest of the rest over the workers, round by round', () => {
    const merged = mergeTimings([
      [
        [1, t(100, 150, 1150, 1160)],
        [2, t(2000, 2100, 3100, 3105)],
      ],
      [[1, t(90, 180, 1200, 1190)]],
    ]);
    expect(merged.get(1)).toEqual(t(90, 180, 1200, 1190));
    expect(merged.get(2)).toEqual(t(2000, 2100, 3100, 3105));
  });

  it('lets a worker without a mark (NaN) not hide the others', () => {
    const merged = mergeTimings([[[1, t(100, 150, NaN, NaN)]], [[1, t(NaN, NaN, 1200, 1210)]]]);
    expect(merged.get(1)).toEqual(t(100, 150, 1200, 1210));
  });
});

describe('roundParts', () => {
  const timings = t(10_100, 10_400, 11_450, 11_500);
  const commit = { round: 1, durationMs: 1600, commitStart: 11_600, commitEnd: 11_610 };

  it('cuts a round into parts that add up to its duration when the hub commit is known', () => {
    const p = roundParts(1600, 1000, timings, { commit, stalls: [], evaluations: [] });
    expect(p.coordinationMs).toBe(600);
    expect(p.startToFirstMs).toBe(100);
    expect(p.receiveSpreadMs).toBe(300);
    expect(p.lateUpdateMs).toBe(50);
    expect(p.lastAckMs).toBe(50);
    expect(p.ackToCommitMs).toBe(100);
    expect(p.restMs).toBe(0);
    expect(p.startToFirstMs! + p.receiveSpreadMs + p.simulatedTrainMs + p.lateUpdateMs + p.lastAckMs + p.ackToCommitMs!).toBe(p.durationMs);
  });

  it('leaves what the clients cannot see in restMs without the hub probe', () => {
    const p = roundParts(1600, 1000, timings);
    expect(p.startToFirstMs).toBeNull();
    expect(p.ackToCommitMs).toBeNull();
    expect(p.longestStallMs).toBeNull();
    expect(p.restMs).toBe(200);
  });

  it("takes the round's longest stall, and the longest outside the previous round's evaluation", () => {
    const stalls = [
      { at: 10_030, ms: 40 }, // began before the round (10,000) and ran into it
      { at: 10_300, ms: 900 }, // overlaps the evaluation window
      { at: 11_605, ms: 30 },
      { at: 17_000, ms: 5000 }, // began after the commit ended
    ];
    const p = roundParts(1600, 1000, timings, { commit, stalls, evaluations: [{ from: 10_150, to: 10_250 }] });
    expect(p.longestStallMs).toBe(900);
    expect(p.longestStallOutsideEvalMs).toBe(40);
  });
});

describe('stalls', () => {
  it('counts a stall in a span when any part of it overlaps, seen only when it ended', () => {
    const stalls = [{ at: 1000, ms: 600 }];
    expect(longestStallIn(stalls, 300, 450).all).toBe(600);
    expect(longestStallIn(stalls, 1001, 2000).all).toBe(0);
    expect(longestStallIn(stalls, 0, 399).all).toBe(0);
  });

  it("makes each evaluation's window from its round's commit end to its end", () => {
    const commits = [
      { round: 1, durationMs: 1000, commitStart: 5000, commitEnd: 5010 },
      { round: 2, durationMs: 1000, commitStart: 7000, commitEnd: 7010 },
    ];
    expect(evaluationWindows(commits, [{ round: 2, at: 8000 }, { round: 9, at: 9000 }])).toEqual([{ from: 7010, to: 8000 }]);
  });
});

describe('rssPerClientKiB', () => {
  it('divides the growth by the clients', () => {
    expect(rssPerClientKiB(100 * 2 ** 20, 100 * 2 ** 20 + 1000 * 30 * 1024, 1000)).toBe(30);
  });

  it('refuses zero clients', () => {
    expect(() => rssPerClientKiB(1, 2, 0)).toThrow(RangeError);
  });
});

describe('capacityLine', () => {
  const line: CapacityLine = {
    clients: 10_000,
    rounds: 3,
    p95CoordinationMs: 4321.26,
    peakRssMiB: 812.449,
    completedRounds: 3,
    ok: true,
    reason: null,
    trainMs: 1000,
    workers: 2,
    longestStallMs: 48.04,
    rssPerClientKiB: 35.55,
    coordinationMs: [4000.04, 4321.26, NaN],
  };

  it("is one line of JSON that starts with the issue's four keys in order", () => {
    const text = capacityLine(line);
    expect(text).not.toContain('\n');
    expect(Object.keys(JSON.parse(text)).slice(0, 4)).toEqual(['clients', 'rounds', 'p95CoordinationMs', 'peakRssMiB']);
  });

  it('rounds to a tenth and writes what was not measured as null', () => {
    const parsed = JSON.parse(capacityLine({ ...line, peakRssMiB: null, rssPerClientKiB: Infinity }));
    expect(parsed.p95CoordinationMs).toBe(4321.3);
    expect(parsed.peakRssMiB).toBeNull();
    expect(parsed.rssPerClientKiB).toBeNull();
    expect(parsed.coordinationMs).toEqual([4000, 4321.3, null]);
  });
});

describe('openFilesLimit', () => {
  it('reads the soft and hard limits of open files from /proc/<pid>/limits', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             unlimited            unlimited            processes \nMax open files            20000                20000                files     \n';
    expect(openFilesLimit(limits)).toEqual({ soft: 20000, hard: 20000 });
    expect(openFilesLimit('Max open files            1024                 unlimited            files')).toEqual({ soft: 1024, hard: Infinity });
    expect(openFilesLimit('Max processes 10 10')).toBeNull();
  });
});
