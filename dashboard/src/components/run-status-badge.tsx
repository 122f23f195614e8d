import type { RunDetail } from '@fl/shared/api';

/** completed / failed / stopped / running, with the failure reason on hover. */
export function RunStatusBadge({ run }: { run: RunDetail }) {
  return (
    <span className={`badge badge-run-${run.status}`} title={run.reason ?? undefined}>
      {run.status}
    </span>
  );
}
