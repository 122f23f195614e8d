import { CodedError, type ServerOptimizerName, type ServerOptimizerSettings } from '@fl/shared';

/**
 * Server optimisers (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2; FedAvgM: Hsu et al.
 * 2019). The round's combined model minus the model its clients received is a pseudo-gradient
 * `delta`; the hub steps the global model along it, per coordinate, with float64 state:
 *
 * - fedavg:     x += lr * delta (lr 1: exactly the combined model)
 * - fedavgm:    m = momentum * m + delta; x += lr * m
 * - fedadagrad: m = beta1 * m + (1 - beta1) * delta; v += delta^2;                                   x += lr * m / (sqrt(v) + tau)
 * - fedadam:    m as above; v = beta2 * v + (1 - beta2) * delta^2;                                     x += lr * m / (sqrt(v) + tau)
 * - fedyogi:    m as above; v -= (1 - beta2) * delta^2 * sign(v - delta^2);                            x += lr * m / (sqrt(v) + tau)
 *
 * As in Algorithm 2 there is no bias correction, m starts at 0 and v at tau^2 (the paper asks v_{-1} >= tau^2;
 * Flower starts v at 0, TFF's Yogi at 1e-6). With v_{-1} = tau^2 a coordinate no round has moved keeps v > 0,
 * and Yogi's v stays positive (it subtracts (1 - beta2) * delta^2 only while v > delta^2).
 */
export interface OptimizerState {
  name: ServerOptimizerName;
  /** Rounds applied so far. */
  step: number;
  /** First moment (fedavgm: the momentum buffer). */
  m: Float64Array;
  /** Second moment; null for fedavgm. */
  v: Float64Array | null;
}

/** One round's server step: the new global model and the state after it (null for fedavg, which keeps none). */
export interface ServerStep {
  values: Float32Array;
  state: OptimizerState | null;
}

/** A run's server optimiser. `step` changes nothing: the caller adopts the new state with `restore` once the round is committed. */
export interface ServerOptimizer {
  readonly settings: ServerOptimizerSettings;
  /** Plain FedAvg (fedavg at lr 1): the combined model is the new model and there is no state. */
  readonly plain: boolean;
  step(global: Float32Array, combined: Float32Array): ServerStep;
  state(): OptimizerState | null;
  /** Adopts a state (a committed step's, or a checkpoint's on resume); throws HUB_ERR_INTERNAL when it belongs to another optimiser or model. */
  restore(state: OptimizerState | null): void;
}

/** The state before the first round: m = 0 and, for the adaptive optimisers, v = tau^2; null for fedavg. */
export function initialOptimizerState(settings: ServerOptimizerSettings, length: number): OptimizerState | null {
  if (settings.name === 'fedavg') return null;
  const v = settings.name === 'fedavgm' ? null : new Float64Array(length).fill(settings.tau * settings.tau);
  return { name: settings.name, step: 0, m: new Float64Array(length), v };
}

/** Why `state` cannot continue a run with these settings and this model length, or null when it can. */
export function stateMismatch(settings: ServerOptimizerSettings, length: number, state: OptimizerState | null): string | null {
  if (settings.name === 'fedavg') return state === null ? null : `fedavg keeps no state, got ${state.name}'s`;
  if (!state) return `${settings.name} needs its state`;
  if (state.name !== settings.name) return `the state is ${state.name}'s, the run uses ${settings.name}`;
  if (state.m.length !== length || (state.v && state.v.length !== length)) return `the state has ${state.m.length} values, the model ${length}`;
  if ((state.v === null) !== (settings.name === 'fedavgm')) return `${settings.name}'s state ${state.v ? 'has' : 'lacks'} a second moment`;
  return null;
}

/** The round's note when the run does more than plain FedAvg, e.g. "server fedadam lr 0.01". */
export function serverNote(settings: ServerOptimizerSettings): string | null {
  return isPlain(settings) ? null : `server ${settings.name} lr ${settings.learningRate}`;
}

function isPlain(settings: ServerOptimizerSettings): boolean {
  return settings.name === 'fedavg' && settings.learningRate === 1;
}

/** One server step from `state` (pure: neither the arrays given nor the state are changed). */
export function serverStep(settings: ServerOptimizerSettings, state: OptimizerState | null, global: Float32Array, combined: Float32Array): ServerStep {
  const n = global.length;
  if (combined.length !== n) throw new CodedError('HUB_ERR_INTERNAL', `the combined model has ${combined.length} values, the global model ${n}`);
  if (isPlain(settings)) return { values: Float32Array.from(combined), state: null };
  const mismatch = stateMismatch(settings, n, state);
  if (mismatch) throw new CodedError('HUB_ERR_INTERNAL', `server optimiser state cannot be used: ${mismatch}`);
  const { learningRate: lr, momentum, beta1, beta2, tau } = settings;
  const out = new Float32Array(n);
  if (settings.name === 'fedavg') {
    for (let i = 0; i < n; i++) out[i] = global[i]! + lr * (combined[i]! - global[i]!);
    return { values: finite(out), state: null };
  }
  const prev = state!;
  const m = new Float64Array(n);
  if (settings.name === 'fedavgm') {
    for (let i = 0; i < n; i++) {
      m[i] = momentum * prev.m[i]! + (combined[i]! - global[i]!);
      out[i] = global[i]! + lr * m[i]!;
    }
    return { values: finite(out), state: { name: settings.name, step: prev.step + 1, m, v: null } };
  }
  const v = new Float64Array(n);
  const pv = prev.v!;
  for (let i = 0; i < n; i++) {
    const delta = combined[i]! - global[i]!;
    const d2 = delta * delta;
    m[i] = beta1 * prev.m[i]! + (1 - beta1) * delta;
    switch (settings.name) {
      case 'fedadagrad':
        v[i] = pv[i]! + d2;
        break;
      case 'fedadam':
        v[i] = beta2 * pv[i]! + (1 - beta2) * d2;
        break;
      case 'fedyogi':
        v[i] = pv[i]! - (1 - beta2) * d2 * Math.sign(pv[i]! - d2);
        break;
    }
    out[i] = global[i]! + (lr * m[i]!) / (Math.sqrt(v[i]!) + tau);
  }
  return { values: finite(out), state: { name: settings.name, step: prev.step + 1, m, v } };
}

/** A learning rate too large for float32 must fail the round, not put Infinity into the global model. */
function finite(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new CodedError('HUB_ERR_INTERNAL', `the server optimiser produced a non-finite weight at ${i}`);
  }
  return values;
}

/** A run's optimiser, from its settings and its model's length, at its initial state. */
export function createServerOptimizer(settings: ServerOptimizerSettings, length: number): ServerOptimizer {
  let current = initialOptimizerState(settings, length);
  return {
    settings,
    plain: isPlain(settings),
    step: (global, combined) => serverStep(settings, current, global, combined),
    state: () => current,
    restore(state) {
      const mismatch = stateMismatch(settings, length, state);
      if (mismatch) throw new CodedError('HUB_ERR_INTERNAL', `server optimiser state cannot be used: ${mismatch}`);
      current = state;
    },
  };
}
