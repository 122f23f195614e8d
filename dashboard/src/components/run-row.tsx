import type { RunDetail } from '@fl/shared/api';
import { TASK_LABELS } from '@fl/shared/tasks';
import { percent, settingsLine, when } from '../format';
import { RunStatusBadge } from './run-status-badge';
import { SecureBadge } from './secure-badge';
import { DpBadge } from './dp-badge';
import { endReason, finalEpsilon } from '../run-privacy';

interface RunRowProps {
  run: RunDetail;
  label: string;
  /** Colour of its curve when the run is in the chart. */
  color: string | null;
  selected: boolean;
  selectable: boolean;
  onToggle(id: string): void;
}

function finalAccuracy(run: RunDetail): number | null {
  return run.rounds.filter((r) => r.status === 'completed' && r.accuracy !== null).at(-1)?.accuracy ?? null;
}

/** One stored run: its outcome, its settings, and a box to overlay its curve. */
export function RunRow({ run, label, color, selected, selectable, onToggle }: RunRowProps) {
  const completed = run.rounds.filter((r) => r.status === 'completed').length;
  const id = `compare-${run.id}`;
  const reason = endReason(run);
  return (
    <li className={`run-row${selected ? ' selected' : ''}`} data-testid="run-row" data-run-id={run.id} data-status={run.status}>
      <label className="run-compare" htmlFor={id} title={selectable ? 'Overlay this run in the chart' : 'Two runs are already selected'}>
        <input id={id} type="checkbox" checked={selected} disabled={!selectable && !selected} onChange={() => onToggle(run.id)} />
        <span className="swatch" style={{ background: color ?? 'transparent', borderColor: color ?? '#d1d5db' }} />
        <span className="run-label">{label}</span>
      </label>
      <span className="run-task">{TASK_LABELS[run.task]}</span>
      <span className="run-status">
        <RunStatusBadge run={run} />
        {run.settings.secureAggregation && <SecureBadge />}
        {run.settings.dp && <DpBadge epsilon={finalEpsilon(run)} />}
        {reason && (
          <span className={`run-reason run-reason-${reason.kind} small`} data-testid="run-end-reason" title={run.reason ?? undefined}>
            {reason.text}
          </span>
        )}
      </span>
      <span className="run-rounds small">
        {completed}/{run.settings.rounds} rounds
      </span>
      <span className="run-accuracy">{percent(finalAccuracy(run))}</span>
      <span className="run-when muted small" title={new Date(run.createdAt).toLocaleString()}>
        {when(run.createdAt)}
      </span>
      <span className="run-settings muted small">{settingsLine(run.settings)}</span>
    </li>
  );
}
