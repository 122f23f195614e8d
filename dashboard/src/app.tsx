import { useCallback, useMemo, useState } from 'react';
import { useAccess } from './hooks/use-access';
import { useHub } from './hooks/use-hub';
import { useFetchRun, useRuns } from './hooks/use-runs';
import { useModelAvailability } from './hooks/use-model-availability';
import { chartSelection, runLabels, MAX_COMPARED } from './run-selection';
import { AccessNotice } from './components/access-notice';
import { Card } from './components/card';
import { ClusterNodes } from './components/cluster-nodes';
import { useCluster } from './hooks/use-cluster';
import { ClientList } from './components/client-list';
import { LaunchForm } from './components/launch-form';
import { MetricsChart } from './components/metrics-chart';
import { EpsilonChart } from './components/epsilon-chart';
import { ModelDownloads } from './components/model-downloads';
import { RunHistory } from './components/run-history';
import { RunPanel } from './components/run-panel';
import { StatusHeader } from './components/status-header';

export function App() {
  const access = useAccess();
  const cluster = useCluster(access.token);
  const history = useRuns();
  const { status, connection } = useHub({ onRunUpdate: history.upsert, onConnect: history.refresh });
  const activeId = status?.run?.id ?? null;
  useFetchRun(activeId, history.answer);

  const [compared, setCompared] = useState<string[]>([]);
  const toggle = useCallback(
    (id: string) => setCompared((ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id].slice(-MAX_COMPARED))),
    [],
  );

  const labels = useMemo(() => runLabels(history.runs), [history.runs]);
  const chart = chartSelection(history.runs, activeId, compared, labels);
  const focus = (activeId ? history.runs.find((r) => r.id === activeId) : history.runs[0]) ?? null;
  const modelVersion = `${activeId}:${history.runs.map((r) => `${r.id}.${r.rounds.length}`).join(',')}`;
  const models = useModelAvailability(modelVersion);

  return (
    <>
      <StatusHeader status={status} connection={connection} readOnly={!access.token} />
      {connection === 'offline' && (
        <div className="offline-banner" role="alert" data-testid="hub-offline">
          <strong>The hub is unreachable.</strong> This page reconnects by itself and catches up when the hub is back; until then
          what you see may be out of date and nothing can be launched or stopped.
        </div>
      )}
      <main className={`layout${connection === 'offline' ? ' is-offline' : ''}`} data-connection={connection} inert={connection === 'offline'}>
        {!access.token && <AccessNotice refused={access.refused} />}
        <div className="grid">
          <div className="col-main">
            {(!status || status.run || focus) && (
              <Card area="run" title={status?.run ? 'Current run' : 'Last run'}>
                {status ? (
                  <RunPanel
                    status={status}
                    run={focus}
                    label={focus ? (labels.get(focus.id) ?? 'Run') : 'Run'}
                    token={access.token}
                    onStopped={history.answer}
                    onUnauthorized={access.refuse}
                  />
                ) : (
                  <p className="muted">Connecting to the hub…</p>
                )}
              </Card>
            )}
            {chart.length > 0 && (
              <Card
                area="chart"
                title={chart.some((c) => c.run.settings.dp) ? 'Accuracy, loss and privacy per round' : 'Accuracy and loss per round'}
                aside={<span className="muted small">{chart.map((c) => c.label).join(' vs ')}</span>}
              >
                <MetricsChart runs={chart} />
                <EpsilonChart runs={chart} />
              </Card>
            )}
            <ClientList clients={status?.clients ?? []} total={status?.clientCount} states={status?.clientStates} />
          </div>
          <div className="col-side">
            <Card area="launch" title="Launch a run">
              {access.token ? (
                <LaunchForm status={status} token={access.token} onUnauthorized={access.refuse} />
              ) : (
                <p className="muted">Launching and stopping runs needs the admin token (see the note at the top).</p>
              )}
            </Card>
            <Card area="models" title="Global models (TF.js)">
              <ModelDownloads availability={models} />
            </Card>
            {access.token && (
              <Card area="nodes" title="Hub nodes">
                <ClusterNodes cluster={cluster} />
              </Card>
            )}
          </div>
          <Card area="history" title="Run history">
            <RunHistory
              runs={history.runs}
              labels={labels}
              colors={new Map(chart.map((c) => [c.run.id, c.color]))}
              selected={compared}
              maxSelected={MAX_COMPARED}
              onToggle={toggle}
            />
            {history.error && <p className="form-error">Could not load the history: {history.error}</p>}
          </Card>
        </div>
      </main>
    </>
  );
}
