import { FoldSum } from './simd-fold';

/**
 * Streaming FedAvg: each update is folded into a running weighted sum as it arrives,
 * so the hub never holds N full models. The sum is Float64: with hundreds of clients and
 * sample weights in the thousands, float32 sums lose the low bits of small updates.
 */
export interface FedAvgAccumulator {
  readonly sum: Float64Array;
  /** The fold kernel that owns `sum` (WebAssembly SIMD where the runtime has it). */
  readonly kernel: FoldSum;
  totalWeight: number;
  count: number;
}

export function createFedAvg(size: number): FedAvgAccumulator {
  const kernel = new FoldSum(size);
  return { sum: kernel.sum, kernel, totalWeight: 0, count: 0 };
}

/** Adds `values` with weight `samples`; the caller has checked length and finiteness. */
export function foldUpdate(acc: FedAvgAccumulator, values: Float32Array, samples: number): void {
  if (values.length !== acc.sum.length) {
    throw new Error(`update has ${values.length} values, the model ${acc.sum.length}`);
  }
  if (!(samples > 0)) throw new Error(`sample weight must be positive, got ${samples}`);
  acc.kernel.fold(values, samples);
  acc.totalWeight += samples;
  acc.count += 1;
}

/**
 * Adds another accumulator's running sum (a relaying hub node's partial sum: README, "Several hub nodes"): `count`
 * updates weighing `weight` together. Float64 throughout, so the combined mean is the one-node mean.
 */
export function mergeFedAvg(acc: FedAvgAccumulator, sum: Float64Array, weight: number, count: number): void {
  if (sum.length !== acc.sum.length) throw new Error(`partial sum has ${sum.length} values, the model ${acc.sum.length}`);
  if (!(weight > 0)) throw new Error(`partial weight must be positive, got ${weight}`);
  const into = acc.sum;
  for (let i = 0; i < into.length; i++) into[i] = into[i]! + sum[i]!;
  acc.totalWeight += weight;
  acc.count += count;
}

/** The weighted mean of everything folded in. */
export function finishFedAvg(acc: FedAvgAccumulator): Float32Array {
  if (acc.count === 0) throw new Error('no updates to average');
  const out = new Float32Array(acc.sum.length);
  const inv = 1 / acc.totalWeight;
  for (let i = 0; i < out.length; i++) out[i] = acc.sum[i]! * inv;
  return out;
}

/** Batch FedAvg over whole updates, the reference the streaming version is tested against. */
export function fedAvg(updates: readonly { values: Float32Array; samples: number }[]): Float32Array {
  if (updates.length === 0) throw new Error('no updates to average');
  const acc = createFedAvg(updates[0]!.values.length);
  for (const u of updates) foldUpdate(acc, u.values, u.samples);
  return finishFedAvg(acc);
}
