import type { HubStatus } from '@fl/shared/api';
import type { DpSettings, RunSettings } from '@fl/shared/settings';

/** The hub's phase in the words the page shows. */
export function phaseWords(status: HubStatus): string {
  const run = status.run;
  switch (status.status) {
    case 'idle':
      return 'Idle';
    case 'waiting':
      return 'Waiting for clients';
    case 'training':
      return run ? `Training round ${run.round} of ${run.rounds}` : 'Training';
    case 'aggregating':
      return run ? `Aggregating round ${run.round} of ${run.rounds}` : 'Aggregating';
    case 'evaluating':
      return 'Clients are scoring the final model';
    default: {
      const _exhaustive: never = status.status;
      return String(_exhaustive);
    }
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function count(n: number): string {
  return integer.format(n);
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}%`;
}

export function decimal(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

/** An epsilon as people quote it: two decimals, whole numbers once it is large, ∞ without noise. */
export function epsilonText(epsilon: number): string {
  if (!Number.isFinite(epsilon)) return '∞';
  if (epsilon < 100) return epsilon.toFixed(2);
  return epsilon < 1e6 ? count(epsilon) : epsilon.toExponential(1).replace('e+', 'e');
}

/** 1e-5 as "1e-5", not "0.00001". */
export function deltaText(delta: number): string {
  return delta.toExponential().replace('e+', 'e');
}

/** "4 s ago", "3 min ago"; the hub's clock and this page's are assumed close (same machine or NTP). */
export function ago(at: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 2) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export function when(at: number): string {
  return new Date(at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${seconds % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The settings a run was launched with, as one short line. */
export function settingsLine(s: RunSettings): string {
  const parts = [
    `${s.rounds} round${s.rounds === 1 ? '' : 's'}`,
    `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}`,
    `batch ${s.batchSize}`,
    `lr ${s.learningRate}`,
    `${s.optimizer}`,
    `≥${s.minClients} client${s.minClients === 1 ? '' : 's'}`,
    `timeout ${s.roundTimeoutSec} s`,
    s.init === 'fresh' ? 'fresh model' : 'continues last model',
  ];
  if (s.task === 'mnist') parts.splice(5, 0, partitionWords(s));
  // Runs stored before FedProx and server optimisers existed have neither field.
  if (s.proximalMu) parts.push(`FedProx μ ${s.proximalMu}`);
  parts.push(strategyWords(s));
  const server = s.serverOptimizer;
  if (server && (server.name !== 'fedavg' || server.learningRate !== 1)) parts.push(`server ${server.name} lr ${server.learningRate}`);
  // Runs stored before clipping and compression existed have neither field.
  if (s.clipNorm !== null && s.clipNorm !== undefined) parts.push(`clip ${s.clipNorm}`);
  if (s.compression && s.compression !== 'float32') parts.push(`${s.compression} updates`);
  // Runs stored before secure aggregation existed have no such field.
  if (s.secureAggregation) parts.push(s.dp ? 'secure aggregation' : `secure aggregation (clip ±${s.secAggClip})`);
  // Runs stored before sampling and DP existed have neither field.
  if (s.clientsPerRound !== null && s.clientsPerRound !== undefined) parts.push(`${s.clientsPerRound} drawn per round`);
  if (s.dp) parts.push(dpWords(s.dp));
  return parts.join(' · ');
}

/** "DP z 1.1 · clip 1 · δ 1e-5 · target ε 3 · central noise". */
export function dpWords(dp: DpSettings): string {
  const target = dp.targetEpsilon === null ? '' : ` · target ε ${dp.targetEpsilon}`;
  return `DP z ${dp.noiseMultiplier} · clip ${dp.clipNorm} · δ ${deltaText(dp.delta)}${target} · ${dp.noise} noise`;
}

function partitionWords(s: RunSettings): string {
  if (s.partition === 'dirichlet') return `dirichlet α ${s.dirichletAlpha} shards`;
  return s.partition === 'by-label' ? 'by-label shards' : 'iid shards';
}

function strategyWords(s: RunSettings): string {
  switch (s.strategy) {
    case 'trimmed-mean':
      return `trimmed mean ${s.trimFraction}`;
    case 'krum':
    case 'multi-krum':
      return `${s.strategy} f=${s.byzantine}`;
    case 'median':
      return 'median';
    default:
      return 'fedavg';
  }
}
