import type { RunSettings } from '@fl/shared';
import { createFedAvg, finishFedAvg, foldUpdate, mergeFedAvg } from './fedavg';
import { clipToNorm, coordinateMedian, multiKrum, trimmedMean } from './robust';

export type AggregationSettings = Pick<RunSettings, 'strategy' | 'trimFraction' | 'byzantine' | 'clipNorm'>;

/** Collects one round's updates and combines them with the run's strategy. */
export interface Aggregator {
  add(values: Float32Array, samples: number): void;
  /** Adds a relaying node's partial sum of `count` updates weighing `weight` (plain FedAvg only: relay-protocol.ts foldsOnRelay). */
  merge(sum: Float64Array, weight: number, count: number): void;
  readonly count: number;
  /** The new global weights, and in words what the strategy did. */
  finish(): { values: Float32Array; note: string | null };
}

/**
 * FedAvg folds each update into a running sum as it arrives (one model in memory, whatever the
 * number of clients); the robust strategies need every update, so only they keep them.
 */
export function createAggregator(settings: AggregationSettings, global: Float32Array): Aggregator {
  const clipped: number[] = [];
  const prepare = (values: Float32Array): Float32Array => {
    if (settings.clipNorm === null) return values;
    const result = clipToNorm(values, global, settings.clipNorm);
    if (result.values !== values) clipped.push(result.norm);
    return result.values;
  };
  const clipNote = () => (clipped.length ? `${clipped.length} update(s) clipped to norm ${settings.clipNorm}` : null);

  if (settings.strategy === 'fedavg') {
    const acc = createFedAvg(global.length);
    return {
      add: (values, samples) => foldUpdate(acc, prepare(values), samples),
      merge: (sum, weight, count) => {
        if (settings.clipNorm !== null) throw new Error('a clipped round takes every update, not partial sums');
        mergeFedAvg(acc, sum, weight, count);
      },
      get count() {
        return acc.count;
      },
      finish: () => ({ values: finishFedAvg(acc), note: clipNote() }),
    };
  }

  const kept: { values: Float32Array; samples: number }[] = [];
  return {
    add(values, samples) {
      if (values.length !== global.length) throw new Error(`update has ${values.length} values, the model ${global.length}`);
      kept.push({ values: prepare(values), samples });
    },
    merge() {
      throw new Error(`${settings.strategy} needs every update, not partial sums`);
    },
    get count() {
      return kept.length;
    },
    finish() {
      const notes = [clipNote()];
      let values: Float32Array;
      switch (settings.strategy) {
        case 'median':
          values = coordinateMedian(kept.map((u) => u.values));
          break;
        case 'trimmed-mean':
          values = trimmedMean(kept.map((u) => u.values), settings.trimFraction);
          break;
        case 'krum':
        case 'multi-krum': {
          const select = settings.strategy === 'krum' ? 1 : Math.max(1, kept.length - settings.byzantine);
          const result = multiKrum(kept, settings.byzantine, select);
          values = result.values;
          notes.push(`${settings.strategy} kept updates ${result.selected.map((i) => i + 1).join(', ')} of ${kept.length}`);
          break;
        }
        case 'fedavg':
          throw new Error('unreachable: fedavg is streamed');
        default: {
          const _exhaustive: never = settings.strategy;
          throw new Error(`unknown strategy ${String(_exhaustive)}`);
        }
      }
      return { values, note: notes.filter(Boolean).join('; ') || null };
    },
  };
}
