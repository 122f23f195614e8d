import type { ClientView, HubStatus } from '@fl/shared/api';
import { launchRequestChecker, resolveSettings, settingsConflict, TASK_DEFAULTS, type LaunchRequest, type RunSettings } from '@fl/shared/settings';
import type { TaskId } from '@fl/shared/tasks';
import type { CheckResult } from '@fl/shared/validation';

/** Rounds have no task default in the shared settings; a short run is the friendliest first try. */
export const DEFAULT_ROUNDS = 5;

export type NumberField =
  | 'rounds'
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'minClients'
  | 'roundTimeoutSec'
  | 'trimFraction'
  | 'byzantine'
  | 'clipNorm'
  | 'secAggClip';

/** The form as typed: numbers stay strings until launch, so half-typed values are not rewritten. */
export interface LaunchFormValues extends Record<NumberField, string> {
  task: TaskId;
  partition: RunSettings['partition'];
  init: RunSettings['init'];
  optimizer: RunSettings['optimizer'];
  strategy: RunSettings['strategy'];
  compression: RunSettings['compression'];
  secureAggregation: boolean;
}

export const FIELD_LABELS: Record<NumberField, string> = {
  rounds: 'Rounds',
  epochs: 'Epochs per round',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
  minClients: 'Min clients',
  roundTimeoutSec: 'Round timeout (s)',
  trimFraction: 'Trim fraction',
  byzantine: 'Hostile clients (f)',
  clipNorm: 'Clip norm (empty: off)',
  secAggClip: 'Secure clip (per coordinate)',
};

export const INTEGER_FIELDS: ReadonlySet<NumberField> = new Set(['rounds', 'epochs', 'batchSize', 'minClients', 'roundTimeoutSec', 'byzantine']);

/** The number fields a launch sends: the strategy's own parameter only for that strategy, the clip norm only when set. */
export function activeNumberFields(values: LaunchFormValues): NumberField[] {
  const fields: NumberField[] = ['rounds', 'epochs', 'batchSize', 'learningRate', 'minClients', 'roundTimeoutSec'];
  if (values.strategy === 'trimmed-mean') fields.push('trimFraction');
  if (values.strategy === 'krum' || values.strategy === 'multi-krum') fields.push('byzantine');
  if (values.clipNorm.trim() !== '') fields.push('clipNorm');
  if (values.secureAggregation) fields.push('secAggClip');
  return fields;
}

export function defaultValues(task: TaskId, rounds = String(DEFAULT_ROUNDS)): LaunchFormValues {
  const d = TASK_DEFAULTS[task];
  return {
    task,
    rounds,
    epochs: String(d.epochs),
    batchSize: String(d.batchSize),
    learningRate: String(d.learningRate),
    minClients: String(d.minClients),
    roundTimeoutSec: String(d.roundTimeoutSec),
    trimFraction: String(d.trimFraction),
    byzantine: String(d.byzantine),
    clipNorm: d.clipNorm === null ? '' : String(d.clipNorm),
    secAggClip: String(d.secAggClip),
    partition: d.partition,
    init: d.init,
    optimizer: d.optimizer,
    strategy: d.strategy,
    compression: d.compression,
    secureAggregation: d.secureAggregation,
  };
}

/** Turns the checker's "/batchSize must be ..." into "Batch size must be ...". */
function readable(reason: string): string {
  return reason.replace(/\/(\w+)/g, (match, key: string) => (key in FIELD_LABELS ? FIELD_LABELS[key as NumberField] : match));
}

/** The request the form describes, validated with the hub's own schema before it is sent. */
export function toLaunchRequest(values: LaunchFormValues): CheckResult<LaunchRequest> {
  const numbers: Partial<Record<NumberField, number>> = {};
  for (const field of activeNumberFields(values)) {
    const text = values[field].trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) return { ok: false, reason: `${FIELD_LABELS[field]} must be a number` };
    numbers[field] = n;
  }
  const request = {
    task: values.task,
    ...numbers,
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

/**
 * The hub's refusal of the combination the form shows (secure aggregation with a robust strategy, ...), or null:
 * shown while the operator edits, so half-typed numbers only count once they are numbers.
 */
export function settingsConflictOf(values: LaunchFormValues): string | null {
  const minClients = Number(values.minClients);
  const settings = resolveSettings({
    task: values.task,
    rounds: 1,
    strategy: values.strategy,
    compression: values.compression,
    secureAggregation: values.secureAggregation,
    ...(values.minClients.trim() !== '' && Number.isFinite(minClients) ? { minClients } : {}),
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
