import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chartRows, firstRound, lossAxis, pointCount, roundAxis, runLineStyle, seriesKey, shareAxis, type ChartRun } from '../chart-data';
import { lineStyle } from './chart-lines';
import { decimal, percent } from '../format';

const SENSITIVITY_COLOR = '#9333ea';
const AUC_COLOR = '#0d9488';

function formatValue(value: unknown, name: unknown): string {
  if (typeof value !== 'number') return '—';
  return String(name).endsWith('loss') ? decimal(value) : percent(value);
}

/** Global accuracy (left axis) and loss (right axis) per round; chest X-ray adds the clients' sensitivity and AUC. */
export function MetricsChart({ runs }: { runs: ChartRun[] }) {
  const primary = runs.find((r) => r.primary) ?? runs[0];
  const points = primary ? pointCount(primary.run) : 0;
  const rows = chartRows(runs);
  const first = firstRound(runs);
  const planned = Math.max(1, ...runs.map(({ run }) => run.settings.rounds), rows.at(-1)?.round ?? 0);
  const axis = roundAxis(planned, 8, first);
  const loss = lossAxis(rows, runs.map(({ run }) => seriesKey('loss', run.id)));
  const chest = primary ? primary.run.initialTest !== null || primary.run.rounds.some((r) => r.clientTest) : false;
  const shareKeys = runs.map(({ run }) => seriesKey('accuracy', run.id));
  if (primary && chest) shareKeys.push(seriesKey('sensitivity', primary.run.id), seriesKey('auc', primary.run.id));
  const share = shareAxis(rows, shareKeys);

  return (
    <div className={`chart${rows.length === 0 ? ' chart-is-empty' : ''}`} data-testid="accuracy-chart" data-points={points} data-runs={runs.length}>
      <p className="chart-caption muted small">
        Global model after each round: accuracy (bold, left axis, fitted to the values) and loss (faint, right axis)
        {chest ? '; sensitivity and AUC as the clients measured them on their own test images' : ''}
        {first === 0 ? '; round 0 is the model the run started from' : ''}.
      </p>
      {rows.length === 0 ? (
        <p className="chart-empty">The first point appears when round 1 has been aggregated.</p>
      ) : (
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={{ top: 8, right: 4, bottom: 0, left: -8 }}>
            <CartesianGrid stroke="#e5e7eb" vertical={false} />
            <XAxis
              dataKey="round"
              type="number"
              domain={axis.domain}
              ticks={axis.ticks}
              allowDecimals={false}
              padding={{ left: 14, right: 14 }}
              tickLine={false}
              stroke="#6b7280"
              fontSize={12}
              label={{ value: 'round', position: 'insideBottomRight', offset: -2, fontSize: 12, fill: '#6b7280' }}
              height={36}
            />
            <YAxis
              yAxisId="share"
              domain={share.domain}
              ticks={share.ticks}
              allowDataOverflow
              tickFormatter={(v: number) => `${(v * 100).toFixed(share.digits)}%`}
              stroke="#6b7280"
              fontSize={12}
              tickLine={false}
              width={48}
            />
            <YAxis
              yAxisId="loss"
              orientation="right"
              domain={loss.domain}
              ticks={loss.ticks}
              tickFormatter={(v: number) => v.toFixed(loss.digits)}
              stroke="#9ca3af"
              fontSize={12}
              tickLine={false}
              width={40}
            />
            <Tooltip formatter={formatValue} labelFormatter={(round) => (round === 0 ? 'Start (round 0)' : `Round ${String(round)}`)} />
            <Legend iconType="plainline" itemSorter={null} wrapperStyle={{ fontSize: 12 }} />
            {runs.flatMap(({ run, label, color }, i) => {
              const n = pointCount(run);
              const style = runLineStyle(i);
              return [
                <Line
                  key={seriesKey('accuracy', run.id)}
                  yAxisId="share"
                  dataKey={seriesKey('accuracy', run.id)}
                  name={`${label} accuracy`}
                  {...lineStyle({ color, points: n, width: 2.25, dash: style.accuracyDash, marker: style.marker })}
                />,
                <Line
                  key={seriesKey('loss', run.id)}
                  yAxisId="loss"
                  dataKey={seriesKey('loss', run.id)}
                  name={`${label} loss`}
                  {...lineStyle({ color, points: n, dash: style.lossDash, marker: style.marker, faint: true })}
                />,
              ];
            })}
            {primary && chest && (
              <Line
                yAxisId="share"
                dataKey={seriesKey('sensitivity', primary.run.id)}
                name={`${primary.label} sensitivity (clients)`}
                {...lineStyle({ color: SENSITIVITY_COLOR, points })}
              />
            )}
            {primary && chest && (
              <Line
                yAxisId="share"
                dataKey={seriesKey('auc', primary.run.id)}
                name={`${primary.label} AUC (clients)`}
                // Dashed, with squares: drawn over sensitivity, it often has the same values (0 -> 100%) and would hide it.
                {...lineStyle({ color: AUC_COLOR, points, dash: '6 4', marker: 'square' })}
              />
            )}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}
