import type { ClientView } from '@fl/shared/api';
import { ago, count, decimal, percent } from '../format';
import { LabelSparkline } from './label-sparkline';
import { ProgressBar } from './progress-bar';

function dataWords(client: ClientView): string {
  const data = client.data;
  if (!data) return 'no data loaded yet';
  if (data.task === 'mnist') return client.samples > 0 ? `MNIST · ${count(client.samples)} digits` : 'MNIST · shard assigned at launch';
  const { train, test } = data;
  return `Chest X-ray · train ${count(train.normal)} normal / ${count(train.pneumonia)} pneumonia · test ${count(test.normal)} / ${count(test.pneumonia)}`;
}

function trainingFraction(p: NonNullable<ClientView['progress']>): { value: number; max: number } {
  return { value: (p.epoch - 1) * p.batches + p.batch, max: p.epochs * p.batches };
}

/** One connected tab or headless client: what it holds, what it runs on, what it is doing. */
export function ClientRow({ client, now }: { client: ClientView; now: number }) {
  const { backend, progress, lastMetrics } = client;
  const test = lastMetrics?.test;
  const training = client.state === 'training' && progress;
  return (
    <li className={`client-row state-${client.state}`} data-testid="client-row" data-client-id={client.id} data-state={client.state}>
      <div className="client-who">
        <div className="client-title">
          <span className="client-name" title={client.name}>
            {client.name}
          </span>
          <span className={`badge badge-${client.kind}`}>{client.kind}</span>
        </div>
        <div className="client-backend small" title={[backend.renderer, backend.reason].filter(Boolean).join(' — ') || backend.name}>
          <span className="backend-name">{backend.name}</span>
          {backend.software && <span className="badge badge-warn">software</span>}
          {backend.renderer && <span className="renderer"> · {backend.renderer}</span>}
        </div>
      </div>
      <div className="client-data small">
        <span>{dataWords(client)}</span>
        <LabelSparkline labels={client.labels} />
      </div>
      <div className="client-state">
        <div className="client-state-line">
          <span className={`badge badge-state-${client.state}`}>{client.state}</span>
          {training && (
            <span className="muted small">
              {progress.epochs > 1 && `epoch ${progress.epoch}/${progress.epochs} · `}batch {progress.batch}/{progress.batches}
            </span>
          )}
        </div>
        {training && <ProgressBar {...trainingFraction(progress)} label={`${client.name} training progress`} />}
      </div>
      <div className="client-metrics small">
        {lastMetrics ? (
          <>
            <span className="metric-label">last round</span> loss {decimal(lastMetrics.loss)} · acc {percent(lastMetrics.accuracy)}
            {test && (
              <span className="muted">
                {' '}
                · test acc {percent(test.accuracy)}
                {test.auc !== undefined && <> · AUC {decimal(test.auc, 2)}</>}
              </span>
            )}
          </>
        ) : (
          <span className="muted">no round yet</span>
        )}
      </div>
      <div className="client-seen muted small" title={`last heard ${new Date(client.lastSeen).toLocaleString()}`}>
        {ago(client.lastSeen, now)}
      </div>
    </li>
  );
}
