import { count } from './format';

/** One digit's bar in a client's label sparkline: its count and its height as a share of the tallest bar. */
export interface LabelBar {
  digit: number;
  count: number;
  /** 0..1 of the tallest bar; 0 for an empty digit. */
  height: number;
}

/** A client's shard as bars, one per digit, or null when the hub sent no counts (not MNIST, or before any run). */
export function labelBars(labels: readonly number[] | undefined): LabelBar[] | null {
  if (!labels || labels.length === 0) return null;
  const tallest = Math.max(...labels);
  return labels.map((n, digit) => ({ digit, count: n, height: tallest > 0 ? n / tallest : 0 }));
}

/** "Digits in this client's shard: 0: 120, 1: 4, …", the sparkline's tooltip and accessible name. */
export function labelWords(bars: readonly LabelBar[]): string {
  return `Digits in this client's shard: ${bars.map((b) => `${b.digit}: ${count(b.count)}`).join(', ')}`;
}
