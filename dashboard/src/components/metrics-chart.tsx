import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chartRows, lossAxis, pointCount, roundAxis, seriesKey, type ChartRun } from '../chart-data';
import { decimal, percent } from '../format';

/** Beyond this many points dots only clutter a line; hovering still marks the round. */
const MAX_DOTTED_POINTS = 30;
const SENSITIVITY_COLOR = '#9333ea';
const AUC_COLOR = '#0d9488';

function formatValue(value: unknown, name: unknown): string {
  if (typeof value !== 'number') return '—';
  return String(name).endsWith('loss') ? decimal(value) : percent(value);
}

interface SeriesStyle {
  color: string;
  /** Points in the series: dots are drawn for short runs only (and always for a single point). */
  points: number;
  dashed?: boolean;
  faint?: boolean;
  width?: number;
}

/** Props shared by every line: no animation, so live updates do not replay the curve. */
function lineStyle({ color, points, dashed, faint, width = 1.75 }: SeriesStyle) {
  const radius = width > 2 ? 3.5 : 2.5;
  return {
    stroke: color,
    strokeWidth: width,
    strokeOpacity: faint ? 0.55 : 1,
    ...(dashed ? { strokeDasharray: '5 4' } : {}),
    dot: points <= MAX_DOTTED_POINTS ? { r: radius, strokeWidth: 0, fill: color, fillOpacity: faint ? 0.55 : 1 } : false,
    activeDot: { r: radius + 1 },
    isAnimationActive: false,
  } as const;
}

/** Global accuracy (left axis) and loss (right axis) per round; chest X-ray adds the clients' sensitivity and AUC. */
export function MetricsChart({ runs }: { runs: ChartRun[] }) {
  const primary = runs.find((r) => r.primary) ?? runs[0];
  const points = primary ? pointCount(primary.run) : 0;
  const rows = chartRows(runs);
  const planned = Math.max(1, ...runs.map(({ run }) => run.settings.rounds), rows.length);
  const axis = roundAxis(planned);
  const loss = lossAxis(rows, runs.map(({ run }) => seriesKey('loss', run.id)));
  const chest = primary?.run.rounds.some((r) => r.clientTest) ?? false;

  return (
    <div className={`chart${rows.length === 0 ? ' chart-is-empty' : ''}`} data-testid="accuracy-chart" data-points={points} data-runs={runs.length}>
      <p className="chart-caption muted small">
        Global model after each round: accuracy (solid, left axis) and loss (dashed, right axis)
        {chest ? '; sensitivity and AUC as the clients measured them on their own test images' : ''}.
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
              domain={[0, 1]}
              ticks={[0, 0.25, 0.5, 0.75, 1]}
              tickFormatter={(v: number) => `${Math.round(v * 100)}%`}
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
            <Tooltip formatter={formatValue} labelFormatter={(round) => `Round ${String(round)}`} />
            <Legend iconType="plainline" itemSorter={null} wrapperStyle={{ fontSize: 12 }} />
            {runs.flatMap(({ run, label, color }) => {
              const n = pointCount(run);
              return [
                <Line
                  key={seriesKey('accuracy', run.id)}
                  yAxisId="share"
                  dataKey={seriesKey('accuracy', run.id)}
                  name={`${label} accuracy`}
                  {...lineStyle({ color, points: n, width: 2.25 })}
                />,
                <Line
                  key={seriesKey('loss', run.id)}
                  yAxisId="loss"
                  dataKey={seriesKey('loss', run.id)}
                  name={`${label} loss`}
                  {...lineStyle({ color, points: n, dashed: true, faint: true })}
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
                {...lineStyle({ color: AUC_COLOR, points })}
              />
            )}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}
