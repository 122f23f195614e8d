import type { DpSettings } from '@fl/shared';
import { createAggregator, type AggregationSettings, type Aggregator } from '../aggregation/aggregator';
import { createDpAggregator } from '../aggregation/dp';

/** How a round's updates are combined: the run's strategy, or DP-FedAvg. Plain data: it crosses to the fold worker. */
export interface SumSpec {
  aggregation: AggregationSettings;
  dp: DpSettings | null;
  /** Clients drawn for the round (DP-FedAvg's fixed denominator). */
  participants: number;
}

/** A round's combined model; `clipped` counts DP's changes at the clip norm (null without DP). */
export interface RoundTotal {
  values: Float32Array;
  note: string | null;
  clipped: number | null;
}

/** An update whose frame passed its checks in the fold worker, waiting for the coordinator's word. */
export interface CheckedUpdate {
  /** Folds it into the sum (the round still takes it). */
  fold(): void;
  /** Forgets it (the round moved on while it was checked). */
  drop(): void;
}

/** The round's sum on the event loop: the coordinator validates each update and adds its values here. */
export interface LocalSum {
  readonly offThread: false;
  add(values: Float32Array, weight: number): void;
  /** A relaying node's partial sum of `count` updates weighing `weight` together. */
  merge(sum: Float64Array, weight: number, count: number): void;
  finish(): RoundTotal;
  discard(): void;
}

/** The round's sum in the fold worker: frames go there to be decoded, checked and, once confirmed, folded. */
export interface RemoteSum {
  readonly offThread: true;
  /** Moves the frame's bytes to the worker (the caller's view is detached); settles with the checks' outcome, a CodedError when refused. */
  check(frame: Uint8Array, weight: number): Promise<CheckedUpdate>;
  /** Posts a relaying node's partial sum (its buffer moves to the worker), folded before a later finish. */
  merge(sum: Float64Array, weight: number, count: number): void;
  /** Resolves after every update confirmed before this call is folded; `busyMs`: the worker's CPU time on this sum. */
  finish(): Promise<RoundTotal & { busyMs: number }>;
  /** Frees the worker's sum of a round that will not finish. */
  discard(): void;
}

export type RoundSum = LocalSum | RemoteSum;

/** The aggregator a round's spec asks for; the same on the event loop and in the fold worker. */
export function createRoundAggregator(spec: SumSpec, global: Float32Array, base: Float32Array): Aggregator & { readonly clipped?: number } {
  // Differential privacy clips each change from the model the clients received, and weighs every client the same.
  return spec.dp ? createDpAggregator(spec.dp, base, spec.participants) : createAggregator(spec.aggregation, global);
}

export function localSum(aggregator: Aggregator & { readonly clipped?: number }): LocalSum {
  return {
    offThread: false,
    add: (values, weight) => aggregator.add(values, weight),
    merge: (sum, weight, count) => aggregator.merge(sum, weight, count),
    finish: () => ({ ...aggregator.finish(), clipped: aggregator.clipped ?? null }),
    discard: () => {},
  };
}
