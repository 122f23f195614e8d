import { describe, expect, it } from 'vitest';
import type { EvalMetrics } from '../contract';
import { binaryMetrics, rocAuc, weightedEvalMean } from '../metrics';

/** AUC by brute force over every (positive, negative) pair, ties counted half: the definition rocAuc must match. */
function pairwiseAuc(labels: number[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === 1) continue;
      pairs++;
      if (scores[i]! > scores[j]!) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe('binaryMetrics', () => {
  it('computes accuracy, sensitivity and specificity from a hand-counted confusion matrix', () => {
    // label:  1    1    1    1    0    0    0    0    0    1
    // score: .9   .6   .4   .2   .1   .7   .3   .5   .0  .55   (threshold .5)
    // pred:   1    1    0    0    0    1    0    1    0    1
    // TP = 3 (idx 0,1,9), FN = 2 (idx 2,3), FP = 2 (idx 5,7), TN = 3 (idx 4,6,8)
    const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1];
    const scores = [0.9, 0.6, 0.4, 0.2, 0.1, 0.7, 0.3, 0.5, 0.0, 0.55];
    const m = binaryMetrics(labels, scores);
    expect(m.samples).toBe(10);
    expect(m.accuracy).toBeCloseTo(6 / 10, 12);
    expect(m.sensitivity).toBeCloseTo(3 / 5, 12);
    expect(m.specificity).toBeCloseTo(3 / 5, 12);
    expect(m.auc).toBeCloseTo(pairwiseAuc(labels, scores), 12);
  });

  it('treats a score exactly at the threshold as positive', () => {
    const m = binaryMetrics([1, 0], [0.5, 0.5]);
    // TP = 1, FP = 1
    expect(m.sensitivity).toBe(1);
    expect(m.specificity).toBe(0);
    expect(m.accuracy).toBe(0.5);
  });

  it('honours a custom threshold', () => {
    const labels = [1, 1, 0, 0];
    const scores = [0.8, 0.3, 0.25, 0.1];
    expect(binaryMetrics(labels, scores, 0.5)).toMatchObject({ accuracy: 0.75, sensitivity: 0.5, specificity: 1 });
    expect(binaryMetrics(labels, scores, 0.2)).toMatchObject({ accuracy: 0.75, sensitivity: 1, specificity: 0.5 });
    expect(binaryMetrics(labels, scores, 0.9)).toMatchObject({ accuracy: 0.5, sensitivity: 0, specificity: 1 });
  });

  it('scores a perfect classifier 1 on every metric', () => {
    expect(binaryMetrics([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8])).toEqual({
      samples: 4,
      accuracy: 1,
      sensitivity: 1,
      specificity: 1,
      auc: 1,
    });
  });

  it('scores an inverted classifier 0 on every metric', () => {
    expect(binaryMetrics([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2])).toEqual({
      samples: 4,
      accuracy: 0,
      sensitivity: 0,
      specificity: 0,
      auc: 0,
    });
  });

  it('reports sensitivity 0 (not NaN) when there are no positives, and specificity 0 when there are no negatives', () => {
    const onlyNegatives = binaryMetrics([0, 0, 0], [0.1, 0.9, 0.2]);
    expect(onlyNegatives.sensitivity).toBe(0);
    expect(onlyNegatives.specificity).toBeCloseTo(2 / 3, 12);
    expect(onlyNegatives.accuracy).toBeCloseTo(2 / 3, 12);
    expect(onlyNegatives.auc).toBe(0.5);

    const onlyPositives = binaryMetrics([1, 1], [0.7, 0.2]);
    expect(onlyPositives.specificity).toBe(0);
    expect(onlyPositives.sensitivity).toBe(0.5);
    expect(onlyPositives.auc).toBe(0.5);
  });

  it('returns zeros and AUC 0.5 for an empty input', () => {
    expect(binaryMetrics([], [])).toEqual({ samples: 0, accuracy: 0, sensitivity: 0, specificity: 0, auc: 0.5 });
  });

  it('accepts typed arrays', () => {
    const m = binaryMetrics(Uint8Array.of(1, 0, 1, 0), Float32Array.of(0.9, 0.6, 0.4, 0.2));
    // TP 1, FN 1, FP 1, TN 1
    expect(m).toMatchObject({ samples: 4, accuracy: 0.5, sensitivity: 0.5, specificity: 0.5 });
    expect(m.auc).toBeCloseTo(0.75, 12);
  });
});

describe('rocAuc', () => {
  it('gives 0.75 for labels [0,0,1,1] and scores [0.1,0.4,0.35,0.8]', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });

  it('averages tied scores across classes (one tie counts half)', () => {
    // pairs: (0.5+ vs 0.5-) = 0.5, (0.5+ vs 0.2-) = 1, (0.9+ vs both) = 2 -> 3.5 / 4
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
  });

  it('is 0.5 when every score is tied', () => {
    expect(rocAuc([0, 1, 1, 0, 1], [0.3, 0.3, 0.3, 0.3, 0.3])).toBeCloseTo(0.5, 12);
  });

  it('handles ties within one class without changing the result', () => {
    // positives 0.8, 0.8; negatives 0.2, 0.2, 0.9 -> each positive beats 2 of 3 negatives: 4/6
    expect(rocAuc([1, 1, 0, 0, 0], [0.8, 0.8, 0.2, 0.2, 0.9])).toBeCloseTo(4 / 6, 12);
  });

  it('is 0.5 for single-class input of either class', () => {
    expect(rocAuc([1, 1, 1], [0.1, 0.5, 0.9])).toBe(0.5);
    expect(rocAuc([0, 0, 0], [0.1, 0.5, 0.9])).toBe(0.5);
    expect(rocAuc([1], [0.3])).toBe(0.5);
  });

  it('does not depend on the order of the samples', () => {
    const labels = [1, 0, 1, 0, 0, 1, 1, 0];
    const scores = [0.9, 0.3, 0.3, 0.6, 0.1, 0.45, 0.6, 0.45];
    const expected = pairwiseAuc(labels, scores);
    const perm = [3, 7, 0, 5, 1, 6, 2, 4];
    expect(rocAuc(labels, scores)).toBeCloseTo(expected, 12);
    expect(rocAuc(perm.map((i) => labels[i]!), perm.map((i) => scores[i]!))).toBeCloseTo(expected, 12);
  });

  it('matches the pairwise definition on a pseudo-random set with many ties', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const labels = Array.from({ length: 300 }, () => (next() < 0.4 ? 1 : 0));
    // Scores quantised to 20 levels so ties are common, and correlated with the labels.
    const scores = labels.map((l) => Math.round((next() * 0.7 + l * 0.3) * 20) / 20);
    expect(rocAuc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 10);
  });

  it('is unchanged by a monotonic rescaling of the scores', () => {
    const labels = [0, 1, 0, 1, 1, 0];
    const scores = [0.2, 0.7, 0.4, 0.4, 0.95, 0.1];
    expect(rocAuc(labels, scores.map((s) => 10 * s - 3))).toBeCloseTo(rocAuc(labels, scores), 12);
  });
});

describe('weightedEvalMean', () => {
  it('returns null for no items or only empty items', () => {
    expect(weightedEvalMean([])).toBeNull();
    expect(weightedEvalMean([{ samples: 0, accuracy: 0.9 }])).toBeNull();
  });

  it('weights each metric by sample count, not by client', () => {
    const items: EvalMetrics[] = [
      { samples: 100, accuracy: 0.9, loss: 0.2, sensitivity: 0.8, specificity: 1.0, auc: 0.95 },
      { samples: 300, accuracy: 0.5, loss: 1.0, sensitivity: 0.4, specificity: 0.6, auc: 0.55 },
    ];
    const m = weightedEvalMean(items)!;
    expect(m.samples).toBe(400);
    expect(m.accuracy).toBeCloseTo((100 * 0.9 + 300 * 0.5) / 400, 12); // 0.6
    expect(m.accuracy).toBeCloseTo(0.6, 12);
    expect(m.loss).toBeCloseTo(0.8, 12); // (20 + 300) / 400
    expect(m.sensitivity).toBeCloseTo(0.5, 12); // (80 + 120) / 400
    expect(m.specificity).toBeCloseTo(0.7, 12); // (100 + 180) / 400
    expect(m.auc).toBeCloseTo(0.65, 12); // (95 + 165) / 400
  });

  it('averages an optional field only over the items that have it', () => {
    const items: EvalMetrics[] = [
      { samples: 100, accuracy: 1.0, auc: 0.9 },
      { samples: 300, accuracy: 0.6, loss: 0.4 },
      { samples: 600, accuracy: 0.5, auc: 0.6, loss: 0.1 },
    ];
    const m = weightedEvalMean(items)!;
    expect(m.samples).toBe(1000);
    expect(m.accuracy).toBeCloseTo((100 + 180 + 300) / 1000, 12); // 0.58
    expect(m.auc).toBeCloseTo((90 + 360) / 700, 12); // weights 100 + 600
    expect(m.loss).toBeCloseTo((120 + 60) / 900, 12); // weights 300 + 600
  });

  it('omits an optional field that no item has, rather than reporting it as 0 or NaN', () => {
    const m = weightedEvalMean([
      { samples: 10, accuracy: 0.5 },
      { samples: 30, accuracy: 0.7 },
    ])!;
    expect(m).toEqual({ samples: 40, accuracy: expect.closeTo(0.65, 12) });
    expect('loss' in m).toBe(false);
    expect('sensitivity' in m).toBe(false);
    expect('specificity' in m).toBe(false);
    expect('auc' in m).toBe(false);
  });

  it('ignores items with zero samples in the mean', () => {
    const m = weightedEvalMean([
      { samples: 0, accuracy: 0, auc: 0 },
      { samples: 50, accuracy: 0.8, auc: 0.9 },
    ])!;
    expect(m.samples).toBe(50);
    expect(m.accuracy).toBeCloseTo(0.8, 12);
    expect(m.auc).toBeCloseTo(0.9, 12);
  });

  it('returns the single item unchanged in value', () => {
    const one: EvalMetrics = { samples: 7, accuracy: 0.25, loss: 1.5, sensitivity: 0.5, specificity: 0.75, auc: 0.6 };
    const m = weightedEvalMean([one])!;
    expect(m.samples).toBe(7);
    for (const key of ['accuracy', 'loss', 'sensitivity', 'specificity', 'auc'] as const) {
      expect(m[key]).toBeCloseTo(one[key]!, 12);
    }
  });
});
