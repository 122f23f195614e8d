import type { EvalMetrics } from './contract';

/**
 * Binary classification metrics with class 1 (PNEUMONIA) as positive.
 * `scores` are the predicted probabilities of class 1.
 */
export function binaryMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): EvalMetrics {
  const n = labels.length;
  let tp = 0, tn = 0, fp = 0, fn = 0;
  for (let i = 0; i < n; i++) {
    const positive = labels[i] === 1;
    const predicted = scores[i]! >= threshold;
    if (positive && predicted) tp++;
    else if (positive) fn++;
    else if (predicted) fp++;
    else tn++;
  }
  return {
    samples: n,
    accuracy: n === 0 ? 0 : (tp + tn) / n,
    sensitivity: tp + fn === 0 ? 0 : tp / (tp + fn),
    specificity: tn + fp === 0 ? 0 : tn / (tn + fp),
    auc: rocAuc(labels, scores),
  };
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties averaged. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Sample-weighted mean of several clients' evaluation metrics. */
export function weightedEvalMean(items: readonly EvalMetrics[]): EvalMetrics | null {
  const total = items.reduce((n, m) => n + m.samples, 0);
  if (total === 0) return null;
  const mean = (key: 'accuracy' | 'sensitivity' | 'specificity' | 'auc' | 'loss'): number | undefined => {
    const present = items.filter((m) => m[key] !== undefined);
    const weight = present.reduce((n, m) => n + m.samples, 0);
    return weight === 0 ? undefined : present.reduce((s, m) => s + m[key]! * m.samples, 0) / weight;
  };
  const out: EvalMetrics = { samples: total, accuracy: mean('accuracy') ?? 0 };
  for (const key of ['loss', 'sensitivity', 'specificity', 'auc'] as const) {
    const value = mean(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
