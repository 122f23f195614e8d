import type { RoundRecord, RunDetail } from '@fl/shared/api';

/** A run drawn in the chart, with its colour; only the primary run also gets the chest X-ray client metrics. */
export interface ChartRun {
  run: RunDetail;
  label: string;
  color: string;
  primary: boolean;
}

export type SeriesKind = 'accuracy' | 'loss' | 'sensitivity' | 'auc' | 'epsilon';

export function seriesKey(kind: SeriesKind, runId: string): string {
  return `${kind}:${runId}`;
}

/** One row per round; a failed or missing round leaves a gap, never a zero. */
export type ChartRow = { round: number } & Record<string, number | null>;

/** The first round drawn: 0 when a run carries the clients' score of the model it started from (chest X-ray). */
export function firstRound(runs: ChartRun[]): 0 | 1 {
  return runs.some(({ run }) => run.initialTest) ? 0 : 1;
}

export function chartRows(runs: ChartRun[]): ChartRow[] {
  const first = firstRound(runs);
  const last = Math.max(0, ...runs.flatMap(({ run }) => run.rounds.map((r) => r.round)));
  if (last === 0 && first === 1) return [];
  const rows: ChartRow[] = Array.from({ length: last - first + 1 }, (_, i) => ({ round: first + i }) as ChartRow);
  for (const { run, primary } of runs) {
    const points: { round: number; accuracy: number | null; loss: number | null; test: RoundRecord['clientTest'] }[] = run.rounds
      .filter((r) => r.status === 'completed')
      .map((r) => ({ round: r.round, accuracy: r.accuracy, loss: r.loss, test: r.clientTest }));
    if (run.initialTest) points.unshift({ round: 0, accuracy: run.initialTest.accuracy, loss: run.initialTest.loss ?? null, test: run.initialTest });
    for (const point of points) {
      const row = rows[point.round - first];
      if (!row) continue;
      row[seriesKey('accuracy', run.id)] = point.accuracy;
      row[seriesKey('loss', run.id)] = point.loss;
      if (primary && point.test) {
        row[seriesKey('sensitivity', run.id)] = point.test.sensitivity ?? null;
        row[seriesKey('auc', run.id)] = point.test.auc ?? null;
      }
    }
    if (run.settings.dp) addEpsilon(rows, first, run);
  }
  return rows;
}

/** A DP run's cumulative epsilon per round (0 for the model it started from); rounds without one leave a gap. */
function addEpsilon(rows: ChartRow[], first: 0 | 1, run: RunDetail): void {
  const key = seriesKey('epsilon', run.id);
  if (first === 0 && rows[0]) rows[0][key] = 0;
  for (const r of run.rounds) {
    const row = rows[r.round - first];
    if (row && typeof r.epsilon === 'number' && Number.isFinite(r.epsilon)) row[key] = r.epsilon;
  }
}

/** The runs of the chart that spent a privacy budget: they get the epsilon chart. */
export function dpRuns(runs: ChartRun[]): ChartRun[] {
  return runs.filter(({ run }) => run.settings.dp);
}

/** A run's accuracy points: completed rounds with an accuracy, and round 0 when the run has a starting score. */
export function pointCount(run: RunDetail): number {
  return run.rounds.filter((r) => r.status === 'completed' && r.accuracy !== null).length + (run.initialTest ? 1 : 0);
}

const STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];

/** X axis of a run of `rounds` rounds: whole rounds only, at most about `maxTicks` labels; `first` 0 adds the starting model. */
export function roundAxis(rounds: number, maxTicks = 8, first: 0 | 1 = 1): { domain: [number, number]; ticks: number[] } {
  const n = Math.max(1, rounds);
  // One round gets a little room either side, so its single point sits in the middle.
  if (n === 1 && first === 1) return { domain: [0.5, 1.5], ticks: [1] };
  const step = STEPS.find((s) => (n + 1 - first) / s <= maxTicks) ?? Math.ceil(n / maxTicks);
  if (step === 1) return { domain: [first, n], ticks: Array.from({ length: n + 1 - first }, (_, i) => first + i) };
  // Round 1 is labelled only when the next tick is far enough away not to crowd it; round 0, when drawn, always.
  const ticks: number[] = first === 0 ? [0] : step >= 5 ? [1] : [];
  for (let t = step; t <= n; t += step) ticks.push(t);
  return { domain: [first, n], ticks };
}

/** Loss axis from 0 to a round top, in 4–5 steps of 1, 2, 2.5 or 5 × 10^k, with as many decimals as the step needs. */
export function lossAxis(rows: ChartRow[], keys: string[]): { domain: [number, number]; ticks: number[]; digits: number } {
  return zeroBasedAxis(rows.flatMap((row) => keys.map((k) => row[k])));
}

/** The epsilon axis: from 0, high enough for every line, and with room above each target so its line and label are not the plot's edge. */
export function epsilonAxis(rows: ChartRow[], keys: string[], targets: number[]): { domain: [number, number]; ticks: number[]; digits: number } {
  return zeroBasedAxis([...rows.flatMap((row) => keys.map((k) => row[k])), ...targets.map((t) => t * 1.12)]);
}

function zeroBasedAxis(input: Array<number | null | undefined>): { domain: [number, number]; ticks: number[]; digits: number } {
  const values = input.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const max = Math.max(0, ...values);
  if (max === 0) return { domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1], digits: 2 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const top = Number((step * Math.ceil(max / step - 1e-9)).toPrecision(12));
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) + (Number.isInteger(Number((step / magnitude).toPrecision(12))) ? 0 : 1);
  return { domain: [0, top], ticks, digits };
}

/** The accuracy axis (shares 0..1) fitted to the data with some room: 95% -> 97% fills the plot instead of a flat line at the top. */
export function shareAxis(rows: ChartRow[], keys: string[]): { domain: [number, number]; ticks: number[]; digits: number } {
  const values = rows.flatMap((row) => keys.map((k) => row[k])).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return { domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1], digits: 0 };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  // At least 2 points of span, so one value (or a flat run) is not stretched over the whole height.
  const span = Math.max(hi - lo, 0.02);
  const pad = span * 0.15;
  const low = Math.max(0, lo - pad - (span - (hi - lo)) / 2);
  const high = Math.min(1, hi + pad + (span - (hi - lo)) / 2);
  const raw = (high - low) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => Number((m * magnitude).toPrecision(12))).find((s) => s >= raw - 1e-12) ?? 10 * magnitude;
  const bottom = Math.max(0, Number((step * Math.floor(low / step + 1e-9)).toPrecision(12)));
  const top = Math.min(1, Number((step * Math.ceil(high / step - 1e-9)).toPrecision(12)));
  const ticks = Array.from({ length: Math.round((top - bottom) / step) + 1 }, (_, i) => Number((bottom + i * step).toPrecision(12)));
  // Decimals of the percent labels: as many as the step has (25% none, 2.5% and 0.5% one, 0.25% two).
  const percentStep = step * 100;
  const digits = [0, 1, 2, 3].find((d) => Math.abs(Math.round(percentStep * 10 ** d) - percentStep * 10 ** d) < 1e-6) ?? 4;
  return { domain: [bottom, top], ticks, digits };
}

/** How one run's lines look apart from colour, so overlapping runs stay apart in grey print or for colour-blind eyes. */
export interface RunLineStyle {
  /** strokeDasharray of the accuracy line; undefined: solid. */
  accuracyDash: string | undefined;
  lossDash: string;
  marker: 'circle' | 'square' | 'triangle';
}

const RUN_LINE_STYLES: RunLineStyle[] = [
  { accuracyDash: undefined, lossDash: '5 4', marker: 'circle' },
  { accuracyDash: '9 4', lossDash: '2 3', marker: 'square' },
  { accuracyDash: '2 3', lossDash: '8 3 2 3', marker: 'triangle' },
];

/** The i-th run of the chart (0: the primary run). */
export function runLineStyle(index: number): RunLineStyle {
  return RUN_LINE_STYLES[index % RUN_LINE_STYLES.length]!;
}
