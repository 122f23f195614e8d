/**
 * The differential privacy part of BENCHMARKS.md, from a privacy bench's figures only: the table of accuracy
 * against epsilon, the round-by-round table, and an SVG plot (accuracy against epsilon spent, and against round).
 */
import type { PrivacyResults, PrivacyRun } from './privacy-bench';

/** The plot's file, next to BENCHMARKS.md. */
export const PRIVACY_PLOT_FILE = 'bench-privacy.svg';

const f = (x: number | null | undefined, digits: number) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
/** Epsilon to three significant figures or two decimals, whichever says less. */
const eps = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const baselineOf = (p: PrivacyResults) => p.runs.find((r) => r.noiseMultiplier === null);
const dpRuns = (p: PrivacyResults) => p.runs.filter((r) => r.noiseMultiplier !== null);
const label = (r: PrivacyRun) => (r.noiseMultiplier === null ? 'no DP' : `noise ${r.noiseMultiplier}`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The summary table's row: each noise level's final accuracy and epsilon against the no-DP run's accuracy. */
export function privacyRows(p: PrivacyResults | undefined): [string, string, string, string][] {
  if (!p) return [];
  const dp = dpRuns(p);
  const base = baselineOf(p);
  return [
    [
      `DP-FedAvg held-out accuracy at noise ${dp.map((r) => r.noiseMultiplier).join(' / ')} (epsilon ${dp.map((r) => eps(r.epsilon)).join(' / ')}) vs no DP`,
      `${dp.map((r) => f(r.finalAccuracy, 4)).join(' / ')} vs ${f(base?.finalAccuracy, 4)}`,
      '(no target)',
      '',
    ],
  ];
}

/** The "Differential privacy" section's body. */
export function privacySection(p: PrivacyResults | undefined): string {
  if (!p) return 'Not measured in this run.';
  const base = baselineOf(p);
  const dp = dpRuns(p);
  const q = p.clientsPerRound / p.clients;
  const where = p.alone ? ' by the differential privacy section alone (`--only privacy`), not in the run above' : ' in the run above';
  const provenance =
    `Measured on ${p.date.slice(0, 10)}${where}${p.quick ? ', reduced (--quick: fewer rounds)' : ''}, in ${p.durationSec} s: MNIST, ${p.clients} headless clients ` +
    `with ${f(p.digitsPerClient, 0)} training digits each (IID shards), ${p.clientsPerRound} drawn per round (q = ${f(q, 2)}), ${p.rounds} rounds of ` +
    `${p.epochs} local epoch(s) (batch ${p.batchSize}, Adam, learning rate ${p.learningRate}), seed ${p.seed}. Every run starts from the same weights and ` +
    `draws the same clients each round; the DP runs clip each change to L2 norm ${p.clipNorm} and the hub adds central Gaussian noise of ` +
    `std noise x ${p.clipNorm} to the sum (drawn from WebCrypto, so it differs from run to run). Accuracy: the hub's held-out test digits; ` +
    `epsilon: the hub's cumulative figure at delta ${p.delta.toExponential()}, next to the accountant's (\`epsilonFor\`) for q = ${f(q, 2)} and the same rounds.`;
  const accountant = (r: PrivacyRun) =>
    r.epsilon === null || r.epsilonAccountant === null
      ? 'n/a'
      : `${eps(r.epsilonAccountant)} (${Math.abs(r.epsilon - r.epsilonAccountant) <= 1e-9 * Math.max(1, r.epsilonAccountant) ? 'same' : `differs by ${(r.epsilon - r.epsilonAccountant).toExponential(2)}`})`;
  const atClip = (r: PrivacyRun) => {
    if (r.noiseMultiplier === null) return 'n/a';
    const counted = r.rounds.map((x) => x.clippedAtClient ?? 0);
    return `${sum(counted)} of ${sum(r.rounds.map((x) => x.participants))}`;
  };
  const norms = (r: PrivacyRun) => f(median(r.rounds.flatMap((x) => (x.changeNorm ? [x.changeNorm.median] : []))), 3);
  const summary = p.runs
    .map(
      (r) =>
        `| ${r.noiseMultiplier ?? 'none (no DP)'} | ${r.clipNorm ?? 'none'} | ${eps(r.epsilon)} | ${accountant(r)} | ${f(r.finalAccuracy, 4)} | ` +
        `${r === base || !base ? '' : f(base.finalAccuracy - r.finalAccuracy, 4)} | ${atClip(r)} | ${norms(r)} | ${f(r.wallMs / 1000, 0)} |`,
    )
    .join('\n');
  const header = ['round', ...p.runs.map((r) => (r.noiseMultiplier === null ? 'no DP' : `noise ${r.noiseMultiplier}: accuracy (epsilon)`))];
  const perRound = Array.from({ length: p.rounds }, (_, i) => {
    const cells = p.runs.map((r) => {
      const x = r.rounds[i];
      if (!x) return 'n/a';
      return r.noiseMultiplier === null ? f(x.accuracy, 4) : `${f(x.accuracy, 4)} (${eps(x.epsilon)})`;
    });
    const baseNorm = base?.rounds[i]?.changeNorm;
    const clip = dp.map((r) => `${r.rounds[i]?.clippedAtClient ?? 'n/a'}`).join(' / ');
    const hub = dp.map((r) => `${r.rounds[i]?.clipped ?? 'n/a'}`).join(' / ');
    return `| ${i + 1} | ${cells.join(' | ')} | ${baseNorm ? `${f(baseNorm.median, 3)} (${f(baseNorm.min, 3)}-${f(baseNorm.max, 3)})` : 'n/a'} | ${clip} | ${hub} |`;
  }).join('\n');
  const dpNames = dp.map((r) => r.noiseMultiplier).join(' / ');
  return `${provenance}

| noise multiplier | clip norm | epsilon after the run (hub) | accountant, q = ${f(q, 2)}, ${p.rounds} rounds | final held-out accuracy | lost to DP | changes at the clip norm | median change norm | run time (s) |
|---|---|---|---|---|---|---|---|---|
${summary}

![Held-out accuracy against epsilon spent, and against round](${PRIVACY_PLOT_FILE})

Round by round: held-out accuracy after the round (and the cumulative epsilon); the drawn clients' change norms in the no-DP run
(median, min-max), which the clip norm ${p.clipNorm} is set against; per DP run (noise ${dpNames}), how many of the ${p.clientsPerRound}
changes arrived at the clip norm, and the hub's own count (\`privacy.clipped\` of the round record).

| ${header.join(' | ')} | change norm, no DP | at the clip norm | hub's clipped count |
|${' --- |'.repeat(header.length + 3)}
${perRound}`;
}

/** The section's lines under "What each figure means". */
export function privacyMeaning(p: PrivacyResults | undefined): string {
  return `- **DP-FedAvg held-out accuracy**: user-level DP-FedAvg (each drawn client's change from the global model clipped to L2 norm
  C${p ? ` = ${p.clipNorm}` : ''}, uniform weights over the drawn clients, Gaussian noise of std noise x C on the sum at the hub) against the same
  run without DP: same seed, same clients drawn, same initial weights. "Changes at the clip norm" counts the changes that arrived with
  norm C (within 1e-4 relative): the client clips before it sends, so those are the ones the clip shortened. The hub clips again; its
  \`privacy.clipped\` counts only the changes that float32 rounding of the client's clip left just above C. "Median change norm":
  the median over rounds of each round's median norm of the changes as they arrived (after the client's clip under DP). "Run time":
  each run's wall time on this machine; the first run's includes the clients loading the MNIST training sprite once.`;
}

// The plot: two panels, accuracy against epsilon (log scale) and against round.
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 820;
const H = 340;
const PANEL = { top: 50, bottom: 50, left: 60, width: 310, gap: 90 };
const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const n2 = (x: number) => x.toFixed(1);

/** 1, 2, 5 x 10^k within [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** k;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

interface Axes {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string;
}

function axes(left: number, xTicks: number[], xScale: (v: number) => number, yLo: number, yHi: number, xTitle: string, title: string): Axes {
  const bottom = H - PANEL.bottom;
  const height = bottom - PANEL.top;
  const x = (v: number) => left + xScale(v) * PANEL.width;
  const y = (v: number) => bottom - ((v - yLo) / (yHi - yLo)) * height;
  const parts: string[] = [];
  parts.push(`<rect x="${left}" y="${PANEL.top}" width="${PANEL.width}" height="${height}" fill="none" stroke="#999"/>`);
  for (let v = yLo; v <= yHi + 1e-9; v += 0.1) {
    parts.push(`<line x1="${left}" x2="${left + PANEL.width}" y1="${n2(y(v))}" y2="${n2(y(v))}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${n2(y(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line x1="${n2(x(t))}" x2="${n2(x(t))}" y1="${PANEL.top}" y2="${bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${n2(x(t))}" y="${bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<text x="${left + PANEL.width / 2}" y="${bottom + 36}" text-anchor="middle">${escape(xTitle)}</text>`);
  parts.push(`<text x="${left + PANEL.width / 2}" y="${PANEL.top - 12}" text-anchor="middle" font-weight="bold">${escape(title)}</text>`);
  parts.push(`<text transform="translate(${left - 42} ${PANEL.top + height / 2}) rotate(-90)" text-anchor="middle">held-out accuracy</text>`);
  return { x, y, svg: parts.join('\n') };
}

const polyline = (points: [number, number][], color: string, dashed: boolean) =>
  `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dashed ? ' stroke-dasharray="6 4"' : ''} points="${points.map(([a, b]) => `${n2(a)},${n2(b)}`).join(' ')}"/>`;

/** The plot as an SVG document; null when there is nothing to draw. */
export function privacyPlotSvg(p: PrivacyResults | undefined): string | null {
  if (!p || !p.runs.length) return null;
  const base = baselineOf(p);
  const dp = dpRuns(p);
  const accuracies = p.runs.flatMap((r) => r.rounds.map((x) => x.accuracy)).filter((a) => Number.isFinite(a));
  const yLo = Math.max(0, Math.floor(Math.min(...accuracies) * 10) / 10);
  const yHi = Math.min(1, Math.ceil(Math.max(...accuracies) * 10) / 10);
  const color = (r: PrivacyRun) => (r.noiseMultiplier === null ? '#333' : PALETTE[dp.indexOf(r) % PALETTE.length]!);
  const parts: string[] = [];
  // Left: each DP run's path through (epsilon after round r, accuracy after round r); the no-DP run's final accuracy as a line.
  const epsilons = dp.flatMap((r) => r.rounds.flatMap((x) => (x.epsilon !== null && x.epsilon > 0 ? [x.epsilon] : [])));
  if (epsilons.length) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...epsilons)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...epsilons)));
    const scale = (v: number) => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
    const left = axes(PANEL.left, logTicks(lo, hi), scale, yLo, yHi, `epsilon spent (delta ${p.delta.toExponential()}, log scale)`, 'accuracy against epsilon');
    parts.push(left.svg);
    if (base) {
      const yb = left.y(base.finalAccuracy);
      parts.push(polyline([[left.x(lo), yb], [left.x(hi), yb]], color(base), true));
      parts.push(`<text x="${n2(left.x(lo) + 4)}" y="${n2(yb - 5)}" fill="${color(base)}">no DP after ${base.rounds.length} rounds: ${f(base.finalAccuracy, 3)}</text>`);
    }
    for (const r of dp) {
      const pts = r.rounds.filter((x) => x.epsilon !== null && x.epsilon > 0 && Number.isFinite(x.accuracy)).map((x): [number, number] => [left.x(x.epsilon!), left.y(x.accuracy)]);
      if (!pts.length) continue;
      parts.push(polyline(pts, color(r), false));
      const [lx, ly] = pts.at(-1)!;
      parts.push(`<circle cx="${n2(lx)}" cy="${n2(ly)}" r="3.5" fill="${color(r)}"/>`);
    }
  }
  // Right: accuracy against round for every run.
  const rounds = Math.max(...p.runs.map((r) => r.rounds.length));
  const step = rounds <= 10 ? 1 : rounds <= 25 ? 5 : 10;
  const ticks = [1, ...Array.from({ length: Math.floor(rounds / step) }, (_, i) => (i + 1) * step).filter((t) => t > 1)];
  const right = axes(PANEL.left + PANEL.width + PANEL.gap, ticks, (v) => (rounds === 1 ? 0.5 : (v - 1) / (rounds - 1)), yLo, yHi, 'round', 'accuracy against round');
  parts.push(right.svg);
  for (const r of p.runs) {
    const pts = r.rounds.filter((x) => Number.isFinite(x.accuracy)).map((x): [number, number] => [right.x(x.round), right.y(x.accuracy)]);
    parts.push(polyline(pts, color(r), r.noiseMultiplier === null));
  }
  // Legend, under the right panel's title.
  const lx = PANEL.left + 2 * PANEL.width + PANEL.gap + 12;
  p.runs.forEach((r, i) => {
    const y = PANEL.top + 10 + i * 18;
    parts.push(polyline([[lx, y], [lx + 22, y]], color(r), r.noiseMultiplier === null));
    parts.push(`<text x="${lx + 28}" y="${y + 4}">${escape(label(r))}: ${f(r.finalAccuracy, 3)}${r.epsilon === null ? '' : ` at epsilon ${eps(r.epsilon)}`}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 190}" height="${H}" viewBox="0 0 ${W + 190} ${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${PANEL.left}" y="18" font-size="12">DP-FedAvg on MNIST: ${p.clients} clients, ${p.clientsPerRound} drawn per round, clip norm ${p.clipNorm}, ${p.rounds} rounds (${p.date.slice(0, 10)}${p.quick ? ', --quick' : ''})</text>
${parts.join('\n')}
</svg>
`;
}
