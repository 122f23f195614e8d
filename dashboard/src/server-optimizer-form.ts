import { SERVER_OPTIMIZER_DEFAULTS, type ServerOptimizerName, type ServerOptimizerRequest, type ServerOptimizerSettings } from '@fl/shared/settings';

/** The launch form's server optimiser fields, by the name their limits and labels go by. */
export type ServerField = 'serverLearningRate' | 'momentum' | 'beta1' | 'beta2' | 'tau';

/** Each form field's key in the request's `serverOptimizer` object. */
export const SERVER_FIELD_KEYS = {
  serverLearningRate: 'learningRate',
  momentum: 'momentum',
  beta1: 'beta1',
  beta2: 'beta2',
  tau: 'tau',
} as const satisfies Record<ServerField, keyof ServerOptimizerSettings>;

/** The optimisers the form offers, each with one line on when it fits. */
export const SERVER_OPTIMIZER_CHOICES: readonly { value: ServerOptimizerName; label: string; hint: string }[] = [
  { value: 'fedavg', label: 'FedAvg', hint: 'The plain average of the updates (at lr 1); fine for IID data.' },
  { value: 'fedavgm', label: 'FedAvgM', hint: 'Server momentum across rounds; smooths noisy rounds.' },
  { value: 'fedadam', label: 'FedAdam', hint: 'Adaptive per-weight steps (Adam on the server); for uneven (non-IID) data.' },
  { value: 'fedyogi', label: 'FedYogi', hint: 'Like FedAdam, with a second moment that changes more gently; for uneven (non-IID) data.' },
  { value: 'fedadagrad', label: 'FedAdagrad', hint: 'Adaptive steps that shrink with each weight\'s past changes; for sparse changes.' },
];

/** The hyperparameters each optimiser uses (fedadagrad adds up squared changes, so it has no beta2). */
const FIELDS_OF: Record<ServerOptimizerName, readonly ServerField[]> = {
  fedavg: ['serverLearningRate'],
  fedavgm: ['serverLearningRate', 'momentum'],
  fedadam: ['serverLearningRate', 'beta1', 'beta2', 'tau'],
  fedyogi: ['serverLearningRate', 'beta1', 'beta2', 'tau'],
  fedadagrad: ['serverLearningRate', 'beta1', 'tau'],
};

/** The fields the form shows and sends for `name`. */
export function serverFieldsOf(name: ServerOptimizerName): readonly ServerField[] {
  return FIELDS_OF[name];
}

/** The form's text for every server field, from an optimiser's settings (its defaults when the choice changes). */
export function serverValuesOf(settings: ServerOptimizerSettings): Record<ServerField, string> {
  return {
    serverLearningRate: String(settings.learningRate),
    momentum: String(settings.momentum),
    beta1: String(settings.beta1),
    beta2: String(settings.beta2),
    tau: String(settings.tau),
  };
}

/**
 * The request's `serverOptimizer`: omitted for `fallback` (the task's default) as it stands, otherwise the name and
 * only the hyperparameters that differ from that optimiser's defaults.
 */
export function serverOptimizerRequest(
  name: ServerOptimizerName,
  numbers: Partial<Record<ServerField, number>>,
  fallback: ServerOptimizerSettings,
): ServerOptimizerRequest | undefined {
  const defaults = SERVER_OPTIMIZER_DEFAULTS[name];
  const request: ServerOptimizerRequest = { name };
  for (const field of FIELDS_OF[name]) {
    const value = numbers[field];
    const key = SERVER_FIELD_KEYS[field];
    if (value !== undefined && value !== defaults[key]) request[key] = value;
  }
  const plain = name === fallback.name && FIELDS_OF[name].every((f) => (request[SERVER_FIELD_KEYS[f]] ?? defaults[SERVER_FIELD_KEYS[f]]) === fallback[SERVER_FIELD_KEYS[f]]);
  return plain ? undefined : request;
}
