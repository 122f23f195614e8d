import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chartRows, dpRuns, epsilonAxis, firstRound, roundAxis, runLineStyle, seriesKey, type ChartRun } from '../chart-data';
import { deltaText, epsilonText } from '../format';
import { lineStyle } from './chart-lines';

const TARGET_COLOR = '#b45309';

/**
 * The privacy each DP run of the chart has spent: cumulative ε after each round, on the same rounds as the
 * accuracy chart above it, with the primary run's target as a dashed line. Runs without DP draw nothing here.
 */
export function EpsilonChart({ runs }: { runs: ChartRun[] }) {
  const private_ = dpRuns(runs);
  const primary = private_.find((r) => r.primary) ?? private_[0];
  if (!primary) return null;
  const rows = chartRows(runs);
  const first = firstRound(runs);
  const planned = Math.max(1, ...runs.map(({ run }) => run.settings.rounds), rows.at(-1)?.round ?? 0);
  const axis = roundAxis(planned, 8, first);
  const keys = private_.map(({ run }) => seriesKey('epsilon', run.id));
  const target = primary.run.settings.dp!.targetEpsilon;
  const y = epsilonAxis(rows, keys, target === null ? [] : [target]);
  const points = rows.filter((row) => typeof row[seriesKey('epsilon', primary.run.id)] === 'number').length;
  const delta = deltaText(primary.run.settings.dp!.delta);

  return (
    <div className="chart chart-epsilon" data-testid="epsilon-chart" data-points={points} data-runs={private_.length}>
      <p className="chart-caption muted small">
        Privacy spent: cumulative ε after each round (δ {delta}){target === null ? '' : `, against the target ε ${epsilonText(target)} (dashed)`}.
      </p>
      {points === 0 ? (
        <p className="chart-empty">ε appears when round 1 has been committed.</p>
      ) : (
        <ResponsiveContainer width="100%" height="100%">
          {/* The right margin matches the loss axis above, so both charts put each round at the same x. */}
          <LineChart data={rows} margin={{ top: 8, right: 44, bottom: 8, left: -8 }}>
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
              domain={y.domain}
              ticks={y.ticks}
              tickFormatter={(v: number) => v.toFixed(y.digits)}
              stroke="#6b7280"
              fontSize={12}
              tickLine={false}
              width={48}
            />
            <Tooltip formatter={(v: unknown) => (typeof v === 'number' ? epsilonText(v) : '—')} labelFormatter={(round) => `Round ${String(round)}`} />
            {target !== null && (
              <ReferenceLine
                y={target}
                stroke={TARGET_COLOR}
                strokeDasharray="6 4"
                ifOverflow="extendDomain"
                label={{ value: `target ε ${epsilonText(target)}`, position: 'insideTopRight', fontSize: 11, fill: TARGET_COLOR }}
              />
            )}
            {private_.map(({ run, label, color }) => (
              <Line
                key={run.id}
                dataKey={seriesKey('epsilon', run.id)}
                name={`${label} ε`}
                connectNulls
                {...lineStyle({ color, points, width: 2, marker: runLineStyle(runs.findIndex((r) => r.run.id === run.id)).marker })}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}
