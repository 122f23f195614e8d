import type { ErrorCode } from '@fl/shared';
import type { FrameExpectation } from './update-validator';
import type { SumSpec } from './round-sum';

/** The fold worker's messages, in the order the hub posts them; the worker answers `check` and `finish` by `id`. */
export type ToFoldWorker =
  /** A round's sum: `global` for the strategy's clipping, `base` for deltas and DP (the same model unless the run compresses). */
  | { type: 'open'; sum: number; spec: SumSpec; global: Float32Array; base: Float32Array; expect: FrameExpectation }
  /** Decode and check one frame (its buffer transferred) and keep its values until `fold` or `drop`. */
  | { type: 'check'; sum: number; id: number; frame: Uint8Array; weight: number }
  | { type: 'fold'; sum: number; id: number }
  | { type: 'drop'; sum: number; id: number }
  /** A relaying node's partial sum (its buffer transferred), folded in order like a confirmed update. */
  | { type: 'merge'; sum: number; partial: Float64Array; weight: number; count: number }
  /** The combined model of everything folded; the sum is freed. */
  | { type: 'finish'; sum: number; id: number }
  | { type: 'discard'; sum: number };

export type FromFoldWorker =
  | { type: 'checked'; id: number }
  | { type: 'refused'; id: number; code: ErrorCode; message: string }
  /** `busyMs`: the worker's CPU time on this sum's checks, folds and finish (thread-cpu.ts). */
  | { type: 'finished'; id: number; values: Float32Array; note: string | null; clipped: number | null; busyMs: number }
  /** Not the client's fault: a fold or finish that threw, or a check that failed other than by a CodedError. */
  | { type: 'failed'; id: number; message: string };
