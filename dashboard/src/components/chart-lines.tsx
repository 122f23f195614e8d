/** How the charts draw a line: markers per run, dots for short runs only, no animation. */
import type { RunLineStyle } from '../chart-data';

/** Beyond this many points dots only clutter a line; hovering still marks the round. */
const MAX_DOTTED_POINTS = 30;

export interface SeriesStyle {
  color: string;
  /** Points in the series: dots are drawn for short runs only (and always for a single point). */
  points: number;
  dash?: string | undefined;
  marker?: RunLineStyle['marker'];
  faint?: boolean;
  width?: number;
}

interface DotProps {
  cx?: number;
  cy?: number;
  index?: number;
}

/** A square or triangle marker; recharts draws circles itself. Same class as its dots, so tests find every marker. */
function shapeDot(marker: 'square' | 'triangle', radius: number, color: string, opacity: number) {
  function Dot({ cx, cy, index }: DotProps) {
    if (cx === undefined || cy === undefined) return <g key={index} />;
    const r = radius + 0.5;
    return marker === 'square' ? (
      <rect key={index} className="recharts-line-dot" x={cx - r} y={cy - r} width={2 * r} height={2 * r} fill={color} fillOpacity={opacity} />
    ) : (
      <polygon key={index} className="recharts-line-dot" points={`${cx},${cy - r - 1} ${cx + r + 0.5},${cy + r} ${cx - r - 0.5},${cy + r}`} fill={color} fillOpacity={opacity} />
    );
  }
  return Dot;
}

/** Props shared by every line: no animation, so live updates do not replay the curve. */
export function lineStyle({ color, points, dash, marker = 'circle', faint, width = 1.75 }: SeriesStyle) {
  const radius = width > 2 ? 3.5 : 2.5;
  const opacity = faint ? 0.55 : 1;
  const dotted = points <= MAX_DOTTED_POINTS;
  const dot = !dotted ? false : marker === 'circle' ? { r: radius, strokeWidth: 0, fill: color, fillOpacity: opacity } : shapeDot(marker, radius, color, opacity);
  return {
    stroke: color,
    strokeWidth: width,
    strokeOpacity: opacity,
    ...(dash ? { strokeDasharray: dash } : {}),
    dot,
    activeDot: { r: radius + 1 },
    isAnimationActive: false,
  } as const;
}
