import { labelBars, labelWords } from '../label-histogram';

const BAR = 4;
const GAP = 1;
const HEIGHT = 16;

/** A client's digits per label as ten tiny bars; nothing when the hub sent no counts. */
export function LabelSparkline({ labels }: { labels: readonly number[] | undefined }) {
  const bars = labelBars(labels);
  if (!bars) return null;
  const words = labelWords(bars);
  const width = bars.length * (BAR + GAP) - GAP;
  return (
    <span className="label-sparkline" title={words} data-testid="label-sparkline" data-labels={bars.map((b) => b.count).join(',')}>
      <svg role="img" aria-label={words} width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`}>
        {bars.map((b) => {
          // A digit the shard holds at all keeps a sliver, so "few" never reads as "none".
          const h = b.count > 0 ? Math.max(1, b.height * HEIGHT) : 0;
          return <rect key={b.digit} className="label-bar" x={b.digit * (BAR + GAP)} y={HEIGHT - h} width={BAR} height={h} />;
        })}
        <line className="label-base" x1={0} x2={width} y1={HEIGHT - 0.25} y2={HEIGHT - 0.25} />
      </svg>
    </span>
  );
}
