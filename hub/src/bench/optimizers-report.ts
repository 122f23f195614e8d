/**
 * The server optimiser part of BENCHMARKS.md, from an optimizers bench's figures only: fedVsCentral for IID and
 * by-label per optimiser in one table, accuracy per round, and an SVG plot of accuracy per round per optimiser.
 */
import { isBefore, type OptimizerRunResult, type OptimizersResults, type Split } from './optimizers-bench';

/** The plot's file, next to BENCHMARKS.md. */
export const OPTIMIZERS_PLOT_FILE = 'bench-optimizers.svg';

const SPLITS: Split[] = ['iid', 'by-label'];
const f = (x: number | null | undefined, digits: number) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');
/** Every run on a split, the `before` baseline last. */
const runsOf = (o: OptimizersResults, split: Split) => o.runs.filter((r) => r.partition === split).sort((a, b) => Number(isBefore(o, a)) - Number(isBefore(o, b)));
/** The run of an optimiser at its defaults with the section's client settings. */
const runOf = (o: OptimizersResults, split: Split, name: string) => o.runs.find((r) => r.partition === split && r.server.name === name && !isBefore(o, r));
const beforeOf = (o: OptimizersResults, split: Split) => o.runs.find((r) => r.partition === split && isBefore(o, r));
const ratio = (o: OptimizersResults, r: OptimizerRunResult) => r.final / o.central[r.partition];
const best = (o: OptimizersResults, split: Split) =>
  runsOf(o, split)
    .filter((r) => !isBefore(o, r))
    .reduce<OptimizerRunResult | undefined>((a, r) => (!a || r.final > a.final ? r : a), undefined);
/** "fedadam", or for the baseline "fedavg, clients adam 0.002 (before)". */
const nameOf = (o: OptimizersResults, r: OptimizerRunResult) => (isBefore(o, r) ? `${r.server.name}, clients ${r.optimizer} ${r.learningRate} (before)` : r.server.name);
const points = (a: OptimizerRunResult | undefined, b: OptimizerRunResult | undefined) => (a && b ? f(100 * (a.final - b.final), 1) : 'n/a');

/** "lr 0.03, beta1 0.9, beta2 0.99, tau 0.001": the hyperparameters the optimiser uses. */
export function serverSettingsText(s: OptimizerRunResult['server']): string {
  switch (s.name) {
    case 'fedavg':
      return `lr ${s.learningRate}`;
    case 'fedavgm':
      return `lr ${s.learningRate}, momentum ${s.momentum}`;
    case 'fedadagrad':
      return `lr ${s.learningRate}, beta1 ${s.beta1}, tau ${s.tau}`;
    case 'fedadam':
    case 'fedyogi':
      return `lr ${s.learningRate}, beta1 ${s.beta1}, beta2 ${s.beta2}, tau ${s.tau}`;
  }
}

/** The summary table's rows: the issue's acceptance figures, from this run. */
export function optimizersRows(o: OptimizersResults | undefined): [string, string, string, string][] {
  if (!o) return [];
  const bestIid = best(o, 'iid');
  const adam = runOf(o, 'by-label', 'fedadam');
  const avg = runOf(o, 'by-label', 'fedavg');
  const before = beforeOf(o, 'by-label');
  const list = (split: Split) => runsOf(o, split).map((r) => `${nameOf(o, r)} ${f(ratio(o, r), 3)}`).join(', ');
  return [
    [
      `fedVsCentral, IID ${o.rounds.iid} rounds, best server optimiser at its defaults (${bestIid?.server.name ?? 'n/a'})`,
      f(bestIid ? ratio(o, bestIid) : undefined, 4),
      '>= 1.0',
      verdict(bestIid ? ratio(o, bestIid) >= 1 : undefined),
    ],
    [`  each: ${list('iid')}`, '', '', ''],
    [
      `by-label ${o.rounds['by-label']} rounds: FedAdam held-out accuracy`,
      f(adam?.final, 4),
      '>= 0.90',
      verdict(adam ? adam.final >= 0.9 : undefined),
    ],
    [
      before
        ? `  FedAdam minus plain FedAvg as before (clients ${before.optimizer} at ${before.learningRate}), by-label (points)`
        : '  FedAdam minus plain FedAvg, by-label (points)',
      points(adam, before ?? avg),
      '>= 5',
      verdict(adam && (before ?? avg) ? adam.final - (before ?? avg)!.final >= 0.05 : undefined),
    ],
    ...(before ? [[`  FedAdam minus FedAvg with the same clients (${o.client.optimizer} at ${o.client.learningRate}), by-label (points)`, points(adam, avg), '(no target)', ''] as [string, string, string, string]] : []),
    [`  fedVsCentral by-label, each: ${list('by-label')}`, '', '', ''],
  ];
}

/** The "Server optimisers" section's body. */
export function optimizersSection(o: OptimizersResults | undefined): string {
  if (!o) return 'Not measured in this run.';
  const where = o.alone ? ' by the server optimiser section alone (`--only optimizers`), not in the run above' : ' in the run above';
  const provenance =
    `Measured on ${o.date.slice(0, 10)}${where}${o.quick ? ', reduced (--quick: fewer rounds)' : ''}, in ${o.durationSec} s: MNIST, ${o.clients} headless clients ` +
    `sharing ${o.digits.toLocaleString('en-US')} training digits (IID shards, or by-label: sorted by digit, cut in ${2 * o.clients} shards, two to a client), ` +
    `${o.client.epochs} local epoch(s) of ${o.client.optimizer === 'adam' ? 'Adam (a new optimiser state each round)' : 'plain SGD'} at learning rate ${o.client.learningRate} ` +
    `on every client, seed ${o.seed} (shards, batch orders and the initial weights), every run from the same weights. Each server optimiser runs at its ` +
    `defaults (SERVER_OPTIMIZER_DEFAULTS). fedVsCentral: the run's held-out accuracy (the hub's 2,000 test digits) over the centralised model's, ` +
    `trained on the same digits from the same weights for as many epochs as the run has rounds: ` +
    SPLITS.map((s) => `${f(o.central[s], 4)} after ${o.rounds[s]} epochs`).join(', ') +
    '.';
  const line = (label: string, pick: (s: Split) => OptimizerRunResult | undefined) => {
    const runs = SPLITS.map(pick);
    const cells = runs.map((r) => (r ? `${f(r.final, 4)} | ${f(ratio(o, r), 4)}` : 'n/a | n/a'));
    const settings = runs.find(Boolean)!.server;
    return `| ${label} | ${serverSettingsText(settings)} | ${cells.join(' | ')} | ${runs.map((r) => (r ? f(r.wallMs / 1000, 0) : 'n/a')).join(' / ')} |`;
  };
  const names = [...new Set(o.runs.filter((r) => !isBefore(o, r)).map((r) => r.server.name))];
  const rowsText = names.map((name) => line(name, (s) => runOf(o, s, name)));
  if (o.before) rowsText.push(line(`fedavg, clients ${o.before.optimizer} at ${o.before.learningRate} (the defaults before)`, (s) => beforeOf(o, s)));
  const summary = rowsText.join('\n');
  const perRound = (split: Split) => {
    const runs = runsOf(o, split);
    if (!runs.length) return '';
    const header = `| round | ${runs.map((r) => nameOf(o, r)).join(' | ')} |\n|${' --- |'.repeat(runs.length + 1)}`;
    const lines = Array.from({ length: o.rounds[split] }, (_, i) => `| ${i + 1} | ${runs.map((r) => f(r.accuracy[i], 4)).join(' | ')} |`);
    return `Held-out accuracy after each round, ${split}:\n\n${header}\n${lines.join('\n')}`;
  };
  return `${provenance}

| server optimiser | defaults | IID ${o.rounds.iid} rounds: accuracy | IID fedVsCentral | by-label ${o.rounds['by-label']} rounds: accuracy | by-label fedVsCentral | run time IID / by-label (s) |
|---|---|---|---|---|---|---|
${summary}

![Held-out accuracy per round per server optimiser, IID and by-label](${OPTIMIZERS_PLOT_FILE})

${SPLITS.map(perRound).filter(Boolean).join('\n\n')}`;
}

/** The section's line under "What each figure means". */
export function optimizersMeaning(o: OptimizersResults | undefined): string {
  return `- **Server optimisers**: the hub averages the round's models (FedAvg weights), takes the change from the model it sent as a
  pseudo-gradient and steps the global model along it with the run's server optimiser (Reddi et al. 2021, Algorithm 2; FedAvgM:
  Hsu et al. 2019)${o ? `, each at its defaults` : ''}. fedVsCentral here divides by a centralised model trained for as many epochs as the run
  has rounds, so the by-label runs (more rounds) are set against a longer-trained centralised model than the IID runs.`;
}

// The plot: one panel per split, accuracy against round, a line per optimiser and the centralised model dashed.
const PALETTE: Record<string, string> = { fedavg: '#333333', fedavgm: '#1f77b4', fedadam: '#d62728', fedyogi: '#2ca02c', fedadagrad: '#9467bd' };
const H = 340;
const PANEL = { top: 50, bottom: 50, left: 60, width: 330, gap: 80 };
const n2 = (x: number) => x.toFixed(1);
const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
/** The `before` baseline in orange, dotted. */
const BEFORE = { color: '#ff7f0e', dash: '2 3' };
const polyline = (points: [number, number][], color: string, dash: string | null) =>
  `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${points.map(([a, b]) => `${n2(a)},${n2(b)}`).join(' ')}"/>`;
const styleOf = (o: OptimizersResults, r: OptimizerRunResult) => (isBefore(o, r) ? BEFORE : { color: PALETTE[r.server.name] ?? '#8c564b', dash: null });

function panel(o: OptimizersResults, split: Split, left: number, yLo: number, yHi: number): string {
  const rounds = o.rounds[split];
  const bottom = H - PANEL.bottom;
  const height = bottom - PANEL.top;
  const x = (round: number) => left + (rounds === 1 ? 0.5 : (round - 1) / (rounds - 1)) * PANEL.width;
  const y = (v: number) => bottom - ((Math.min(yHi, Math.max(yLo, v)) - yLo) / (yHi - yLo)) * height;
  const parts = [`<rect x="${left}" y="${PANEL.top}" width="${PANEL.width}" height="${height}" fill="none" stroke="#999"/>`];
  const yStep = yHi - yLo > 0.3 ? 0.1 : 0.05;
  for (let v = yLo; v <= yHi + 1e-9; v += yStep) {
    parts.push(`<line x1="${left}" x2="${left + PANEL.width}" y1="${n2(y(v))}" y2="${n2(y(v))}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${n2(y(v) + 4)}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  const step = rounds <= 10 ? 1 : rounds <= 25 ? 5 : 10;
  for (const t of [1, ...Array.from({ length: Math.floor(rounds / step) }, (_, i) => (i + 1) * step).filter((t) => t > 1)]) {
    parts.push(`<text x="${n2(x(t))}" y="${bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<text x="${left + PANEL.width / 2}" y="${bottom + 36}" text-anchor="middle">round</text>`);
  parts.push(`<text x="${left + PANEL.width / 2}" y="${PANEL.top - 12}" text-anchor="middle" font-weight="bold">${split}, ${rounds} rounds</text>`);
  parts.push(`<text transform="translate(${left - 44} ${PANEL.top + height / 2}) rotate(-90)" text-anchor="middle">held-out accuracy</text>`);
  const yc = y(o.central[split]);
  parts.push(polyline([[left, yc], [left + PANEL.width, yc]], '#888', '6 4'));
  parts.push(`<text x="${left + 4}" y="${n2(yc - 5)}" fill="#666">centralised, ${rounds} epochs: ${f(o.central[split], 3)}</text>`);
  for (const r of runsOf(o, split)) {
    const pts = r.accuracy.flatMap((a, i): [number, number][] => (Number.isFinite(a) ? [[x(i + 1), y(a)]] : []));
    const style = styleOf(o, r);
    parts.push(polyline(pts, style.color, style.dash));
  }
  return parts.join('\n');
}

/** The plot as an SVG document; null when there is nothing to draw. */
export function optimizersPlotSvg(o: OptimizersResults | undefined): string | null {
  if (!o || !o.runs.length) return null;
  const values = [...o.runs.flatMap((r) => r.accuracy), ...Object.values(o.central)].filter((a) => Number.isFinite(a));
  // The first rounds of a by-label run can sit near chance; the axis starts where the data does, in tenths.
  const yLo = Math.max(0, Math.floor(Math.min(...values) * 10) / 10);
  const yHi = Math.min(1, Math.ceil(Math.max(...values) * 20) / 20);
  const lefts = SPLITS.map((_, i) => PANEL.left + i * (PANEL.width + PANEL.gap));
  const legendX = lefts.at(-1)! + PANEL.width + 16;
  // One entry per line drawn: each optimiser with the section's clients, then the baseline.
  const entries = [...new Map(o.runs.map((r) => [nameOf(o, r), r])).entries()];
  const legend = entries.map(([label, r], i) => {
    const y = PANEL.top + 10 + i * 18;
    const pick = (s: Split) => (isBefore(o, r) ? beforeOf(o, s) : runOf(o, s, r.server.name));
    const style = styleOf(o, r);
    const text = SPLITS.map((s) => f(pick(s)?.final, 3)).join(' / ');
    return `${polyline([[legendX, y], [legendX + 22, y]], style.color, style.dash)}\n<text x="${legendX + 28}" y="${y + 4}">${escape(label)}: ${text}</text>`;
  });
  const width = legendX + 300;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${PANEL.left}" y="18" font-size="12">Server optimisers on MNIST at their defaults, clients ${o.client.optimizer} at ${o.client.learningRate}: ${o.clients} clients, seed ${o.seed} (${o.date.slice(0, 10)}${o.quick ? ', --quick' : ''}); legend: final accuracy IID / by-label</text>
${SPLITS.map((s, i) => panel(o, s, lefts[i]!, yLo, yHi)).join('\n')}
${legend.join('\n')}
</svg>
`;
}
