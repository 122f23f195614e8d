import type { ClientView, HubStatus } from '@fl/shared/api';
import {
  launchRequestChecker,
  resolveSettings,
  settingsConflict,
  TASK_DEFAULTS,
  type DpNoise,
  type LaunchRequest,
  type RunSettings,
  type ServerOptimizerName,
} from '@fl/shared/settings';
import type { TaskId } from '@fl/shared/tasks';
import type { CheckResult } from '@fl/shared/validation';
import { SERVER_FIELD_KEYS, serverFieldsOf, serverOptimizerRequest, serverValuesOf, type ServerField } from './server-optimizer-form';

/** Rounds have no task default in the shared settings; a short run is the friendliest first try. */
export const DEFAULT_ROUNDS = 5;

/** Differential privacy's starting values: z = 1 keeps ε within single digits for tens of rounds at small sampling rates. */
export const DP_DEFAULTS = { noiseMultiplier: '1', dpClipNorm: '1', delta: '1e-5', targetEpsilon: '' } as const;

export type NumberField =
  | 'rounds'
  | 'epochs'
  | 'minLocalSteps'
  | 'batchSize'
  | 'learningRate'
  | 'minClients'
  | 'roundTimeoutSec'
  | 'trimFraction'
  | 'byzantine'
  | 'clipNorm'
  | 'secAggClip'
  | 'clientsPerRound'
  | 'noiseMultiplier'
  | 'dpClipNorm'
  | 'delta'
  | 'targetEpsilon'
  | 'proximalMu'
  | 'dirichletAlpha'
  | ServerField;

/** The number fields that go into the request's `dp` object, by the name they have there. */
const DP_FIELDS = { noiseMultiplier: 'noiseMultiplier', dpClipNorm: 'clipNorm', delta: 'delta', targetEpsilon: 'targetEpsilon' } as const;
type DpField = keyof typeof DP_FIELDS;

function isDpField(field: NumberField): field is DpField {
  return field in DP_FIELDS;
}

function isServerField(field: NumberField): field is ServerField {
  return field in SERVER_FIELD_KEYS;
}

/** The form as typed: numbers stay strings until launch, so half-typed values are not rewritten. */
export interface LaunchFormValues extends Record<NumberField, string> {
  task: TaskId;
  partition: RunSettings['partition'];
  init: RunSettings['init'];
  optimizer: RunSettings['optimizer'];
  strategy: RunSettings['strategy'];
  compression: RunSettings['compression'];
  secureAggregation: boolean;
  dp: boolean;
  dpNoise: DpNoise;
  serverOptimizer: ServerOptimizerName;
}

export const FIELD_LABELS: Record<NumberField, string> = {
  rounds: 'Rounds',
  epochs: 'Epochs per round',
  minLocalSteps: 'Min batches per round',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
  minClients: 'Min clients',
  roundTimeoutSec: 'Round timeout (s)',
  trimFraction: 'Trim fraction',
  byzantine: 'Hostile clients (f)',
  clipNorm: 'Clip norm (empty: off)',
  secAggClip: 'Secure clip (per coordinate)',
  clientsPerRound: 'Clients per round',
  noiseMultiplier: 'Noise multiplier (z)',
  dpClipNorm: 'Clip norm (L2 of each change)',
  delta: 'Delta (δ)',
  targetEpsilon: 'Target ε (empty: none)',
  proximalMu: 'Proximal μ (FedProx)',
  dirichletAlpha: 'Dirichlet α',
  serverLearningRate: 'Server learning rate',
  momentum: 'Momentum',
  beta1: 'β1 (first moment)',
  beta2: 'β2 (second moment)',
  tau: 'τ (adaptivity)',
};

export const INTEGER_FIELDS: ReadonlySet<NumberField> = new Set(['rounds', 'epochs', 'minLocalSteps', 'batchSize', 'minClients', 'roundTimeoutSec', 'byzantine', 'clientsPerRound']);

/** Fields that may be left empty: empty means off (clip norm, target ε) or every eligible client (clients per round). */
export const OPTIONAL_FIELDS: ReadonlySet<NumberField> = new Set(['clipNorm', 'clientsPerRound', 'targetEpsilon']);

/**
 * The number fields a launch sends: the strategy's own parameter only for that strategy, optional fields only when
 * set, the DP fields only with DP. With DP the secure clip is not sent: the hub sizes the fixed point from dp.clipNorm.
 */
export function activeNumberFields(values: LaunchFormValues): NumberField[] {
  const fields: NumberField[] = ['rounds', 'epochs', 'minLocalSteps', 'batchSize', 'learningRate', 'minClients', 'roundTimeoutSec', 'proximalMu'];
  if (values.task === 'mnist' && values.partition === 'dirichlet') fields.push('dirichletAlpha');
  fields.push(...serverFieldsOf(values.serverOptimizer));
  if (values.strategy === 'trimmed-mean') fields.push('trimFraction');
  if (values.strategy === 'krum' || values.strategy === 'multi-krum') fields.push('byzantine');
  fields.push('clipNorm', 'clientsPerRound');
  if (values.secureAggregation && !values.dp) fields.push('secAggClip');
  if (values.dp) fields.push('noiseMultiplier', 'dpClipNorm', 'delta', 'targetEpsilon');
  return fields.filter((field) => !OPTIONAL_FIELDS.has(field) || values[field].trim() !== '');
}

export function defaultValues(task: TaskId, rounds = String(DEFAULT_ROUNDS)): LaunchFormValues {
  const d = TASK_DEFAULTS[task];
  return {
    task,
    rounds,
    epochs: String(d.epochs),
    minLocalSteps: String(d.minLocalSteps ?? 0),
    batchSize: String(d.batchSize),
    learningRate: String(d.learningRate),
    minClients: String(d.minClients),
    roundTimeoutSec: String(d.roundTimeoutSec),
    trimFraction: String(d.trimFraction),
    byzantine: String(d.byzantine),
    clipNorm: d.clipNorm === null ? '' : String(d.clipNorm),
    secAggClip: String(d.secAggClip),
    clientsPerRound: d.clientsPerRound === null ? '' : String(d.clientsPerRound),
    ...DP_DEFAULTS,
    proximalMu: String(d.proximalMu),
    dirichletAlpha: String(d.dirichletAlpha),
    ...serverValuesOf(d.serverOptimizer),
    serverOptimizer: d.serverOptimizer.name,
    partition: d.partition,
    init: d.init,
    optimizer: d.optimizer,
    strategy: d.strategy,
    compression: d.compression,
    secureAggregation: d.secureAggregation,
    dp: d.dp !== null,
    dpNoise: d.dp?.noise ?? 'central',
  };
}

/** Form fields by their key inside the request's nested objects. */
const NESTED_FIELDS: Record<string, Record<string, string>> = { dp: DP_FIELDS, serverOptimizer: SERVER_FIELD_KEYS };

/** Turns the checker's "/batchSize must be ..." (or "/dp/clipNorm ...") into "Batch size must be ...". */
function readable(reason: string): string {
  return reason
    .replace(/\/(dp|serverOptimizer)\/(\w+)/g, (match, group: string, key: string) => {
      const fields = NESTED_FIELDS[group] ?? {};
      const field = Object.keys(fields).find((f) => fields[f] === key) as NumberField | undefined;
      return field ? FIELD_LABELS[field] : match;
    })
    .replace(/\/(\w+)/g, (match, key: string) => (key in FIELD_LABELS ? FIELD_LABELS[key as NumberField] : match));
}

/** The request the form describes, validated with the hub's own schema before it is sent. */
export function toLaunchRequest(values: LaunchFormValues): CheckResult<LaunchRequest> {
  const numbers: Partial<Record<NumberField, number>> = {};
  const dp: Partial<Record<(typeof DP_FIELDS)[DpField], number>> = {};
  const server: Partial<Record<ServerField, number>> = {};
  for (const field of activeNumberFields(values)) {
    const text = values[field].trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) return { ok: false, reason: `${FIELD_LABELS[field]} must be a number` };
    if (isDpField(field)) dp[DP_FIELDS[field]] = n;
    else if (isServerField(field)) server[field] = n;
    else numbers[field] = n;
  }
  // The settings added for uneven data and small folders go out only when they differ from the task's defaults.
  const defaults = TASK_DEFAULTS[values.task];
  if (numbers.proximalMu === defaults.proximalMu) delete numbers.proximalMu;
  if (numbers.minLocalSteps === (defaults.minLocalSteps ?? 0)) delete numbers.minLocalSteps;
  if (numbers.dirichletAlpha === defaults.dirichletAlpha) delete numbers.dirichletAlpha;
  const serverOptimizer = serverOptimizerRequest(values.serverOptimizer, server, defaults.serverOptimizer);
  const request = {
    task: values.task,
    ...numbers,
    ...(serverOptimizer ? { serverOptimizer } : {}),
    ...(values.dp ? { dp: { ...dp, noise: values.dpNoise } } : {}),
    ...(values.task === 'mnist' ? { partition: values.partition } : {}),
    init: values.init,
    optimizer: values.optimizer,
    strategy: values.strategy,
    compression: values.compression,
    ...(values.secureAggregation ? { secureAggregation: true } : {}),
  };
  const checked = launchRequestChecker.check(request);
  if (!checked.ok) return { ok: false, reason: readable(checked.reason) };
  // The hub's own words for a refused combination, so the form and the 400 agree.
  const conflict = settingsConflict(resolveSettings(checked.value));
  return conflict ? { ok: false, reason: conflict } : checked;
}

/** A field's number, or undefined while it is empty or half typed. */
function typed(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/**
 * The hub's refusal of the combination the form shows (secure aggregation with a robust strategy, DP with a
 * top-level clip, ...), or null: shown while the operator edits, so half-typed numbers only count once they are numbers.
 */
export function settingsConflictOf(values: LaunchFormValues): string | null {
  const minClients = typed(values.minClients);
  const clientsPerRound = typed(values.clientsPerRound);
  const clipNorm = typed(values.clipNorm);
  const proximalMu = typed(values.proximalMu);
  const dirichletAlpha = typed(values.dirichletAlpha);
  const server: Partial<Record<ServerField, number>> = {};
  for (const field of serverFieldsOf(values.serverOptimizer)) {
    const n = typed(values[field]);
    if (n !== undefined) server[field] = n;
  }
  const serverOptimizer = serverOptimizerRequest(values.serverOptimizer, server, TASK_DEFAULTS[values.task].serverOptimizer);
  const settings = resolveSettings({
    task: values.task,
    rounds: 1,
    ...(values.task === 'mnist' ? { partition: values.partition } : {}),
    ...(proximalMu !== undefined ? { proximalMu } : {}),
    ...(dirichletAlpha !== undefined ? { dirichletAlpha } : {}),
    ...(serverOptimizer ? { serverOptimizer } : {}),
    strategy: values.strategy,
    compression: values.compression,
    secureAggregation: values.secureAggregation,
    ...(minClients !== undefined ? { minClients } : {}),
    ...(clientsPerRound !== undefined ? { clientsPerRound } : {}),
    ...(clipNorm !== undefined ? { clipNorm } : {}),
    // The conflicts read only whether DP is on and who adds the noise; the numbers are checked at launch.
    ...(values.dp ? { dp: { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5, noise: values.dpNoise } } : {}),
  });
  return settingsConflict(settings);
}

/** Mirrors the hub's eligibility: connected, holding the task's data (chest X-ray: at least one training image). */
export function holdsData(client: ClientView, task: TaskId): boolean {
  if (client.state === 'lost' || client.data?.task !== task) return false;
  return client.data.task !== 'chest-xray' || client.data.train.normal + client.data.train.pneumonia > 0;
}

/** Why Launch is disabled right now, or null when it may be pressed. */
export function launchBlocker(status: HubStatus | null, task: TaskId, minClients: number): string | null {
  if (!status) return 'Waiting for the hub status…';
  if (status.run) return 'A run is active: stop it or wait for it to end.';
  const ready = status.clients.filter((c) => holdsData(c, task)).length;
  const need = Number.isInteger(minClients) && minClients > 0 ? minClients : 1;
  if (ready < need) {
    return `Needs ${need} connected client${need === 1 ? '' : 's'} with ${task === 'mnist' ? 'MNIST' : 'chest X-ray'} data; ${ready} connected.`;
  }
  return null;
}

/** "2 of 3 clients hold MNIST data": who a launch of `task` would train on now. */
export function takePartLine(status: HubStatus | null, task: TaskId): { eligible: number; total: number; text: string } | null {
  if (!status) return null;
  const present = status.clients.filter((c) => c.state !== 'lost');
  const eligible = present.filter((c) => holdsData(c, task)).length;
  const data = task === 'mnist' ? 'MNIST' : 'chest X-ray';
  const text =
    present.length === 0
      ? 'No client is connected yet.'
      : `${eligible} of ${present.length} client${present.length === 1 ? '' : 's'} ${present.length === 1 ? 'holds' : 'hold'} ${data} data and would take part.`;
  return { eligible, total: present.length, text };
}
