import type { RunDetail } from '@fl/shared/api';
import { RunRow } from './run-row';

interface RunHistoryProps {
  runs: RunDetail[];
  labels: Map<string, string>;
  colors: Map<string, string>;
  selected: string[];
  maxSelected: number;
  onToggle(id: string): void;
}

/** Past runs, newest first; ticking up to two overlays their curves in the chart. */
export function RunHistory({ runs, labels, colors, selected, maxSelected, onToggle }: RunHistoryProps) {
  if (runs.length === 0) return <p className="muted">No runs stored yet.</p>;
  const full = selected.length >= maxSelected;
  return (
    <>
      <p className="muted small">Tick up to {maxSelected} runs to overlay their curves in the chart.</p>
      <ul className="run-list">
        <li className="run-row run-head" aria-hidden="true">
          <span className="run-compare">Compare</span>
          <span className="run-task">Task</span>
          <span className="run-status">Status</span>
          <span className="run-rounds">Rounds</span>
          <span className="run-accuracy">Accuracy</span>
          <span className="run-when">Started</span>
        </li>
        {runs.map((run) => (
          <RunRow
            key={run.id}
            run={run}
            label={labels.get(run.id) ?? run.id.slice(0, 8)}
            color={colors.get(run.id) ?? null}
            selected={selected.includes(run.id)}
            selectable={!full}
            onToggle={onToggle}
          />
        ))}
      </ul>
    </>
  );
}
