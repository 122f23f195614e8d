import type { RunDetail } from '@fl/shared/api';
import type { ChartRun } from './chart-data';

export const MAX_COMPARED = 2;
const COLORS = ['#2563eb', '#ea580c', '#059669'];

/** "Run 7": numbered by age among the stored runs, so labels stay put as new runs arrive. */
export function runLabels(runs: RunDetail[]): Map<string, string> {
  const oldestFirst = [...runs].sort((a, b) => a.createdAt - b.createdAt);
  return new Map(oldestFirst.map((run, i) => [run.id, `Run ${i + 1}`]));
}

/**
 * What the chart draws: the active run plus the runs ticked in the history; with neither, the newest run.
 * The first is primary (chest X-ray client metrics are drawn for it only).
 */
export function chartSelection(runs: RunDetail[], activeId: string | null, compared: string[], labels: Map<string, string>): ChartRun[] {
  const ids = [...new Set([...(activeId ? [activeId] : []), ...compared])];
  if (ids.length === 0 && runs[0]) ids.push(runs[0].id);
  return ids.flatMap((id) => {
    const run = runs.find((r) => r.id === id);
    return run ? [run] : [];
  }).map((run, i) => ({ run, label: labels.get(run.id) ?? 'Run', color: COLORS[i % COLORS.length]!, primary: i === 0 }));
}
