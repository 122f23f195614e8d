import type { DpSettings } from '@fl/shared';
import { addGaussianNoise, centralNoiseStd, clipL2 } from '@fl/shared/privacy/index';
import type { Aggregator } from './aggregator';

/**
 * The DP-FedAvg mean (McMahan et al. 2018): the sum of the round's clipped changes, plus the hub's Gaussian noise
 * when the noise is central, over a fixed denominator (the clients drawn for the round, whoever answered), so
 * one client moves the model by at most clipNorm / participants.
 */
export function dpMean(base: Float32Array, sum: Float64Array, dp: DpSettings, participants: number): Float32Array {
  const std = centralNoiseStd(dp);
  if (std > 0) addGaussianNoise(sum, std);
  const next = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) next[i] = base[i]! + sum[i]! / participants;
  return next;
}

/** A change within this factor of clipNorm arrived clipped (float32 rounding moves a clipped norm by ~1e-7). */
const AT_BOUND = 1 - 1e-5;

/** Folds each update's change from the global model, clipped to dp.clipNorm, into a float64 sum; uniform weights. */
export function createDpAggregator(dp: DpSettings, global: Float32Array, participants: number): Aggregator & { readonly clipped: number } {
  const sum = new Float64Array(global.length);
  const delta = new Float32Array(global.length);
  let count = 0;
  let clipped = 0;
  return {
    add(values) {
      if (values.length !== global.length) throw new Error(`update has ${values.length} values, the model ${global.length}`);
      for (let i = 0; i < delta.length; i++) delta[i] = values[i]! - global[i]!;
      const result = clipL2(delta, dp.clipNorm);
      // Clients clip before sending, so "clipped" counts every change that reached the bound, whoever clipped it.
      if (result.clipped || result.norm >= dp.clipNorm * AT_BOUND) clipped++;
      const change = result.values;
      for (let i = 0; i < sum.length; i++) sum[i]! += change[i]!;
      count++;
    },
    merge() {
      throw new Error('differential privacy clips every update on its own: it takes no partial sums');
    },
    get count() {
      return count;
    },
    get clipped() {
      return clipped;
    },
    finish() {
      const note = `differential privacy: ${count} of ${participants} drawn clients' changes, ${clipped} at the clip norm ${dp.clipNorm}, ${dp.noise} noise`;
      return { values: dpMean(global, sum, dp, participants), note };
    },
  };
}
