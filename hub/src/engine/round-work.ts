import { decodeWeights, encodeWeights, seedFromString, type EvalMetrics, type FlatWeights, type ParticipationRecord, type RoundStart, type RunSettings, type UpdateSubmit } from '@fl/shared';
import { encodeShard } from '@fl/shared/data/mnist-dataset';
import type { CompletedRound } from '../store/store';
import { capShares } from '../aggregation/client-weights';
import { createRoundAggregator, localSum, type RoundSum, type SumSpec } from './round-sum';
import type { FrameExpectation } from './update-validator';
import { participantIndex } from './participants';

/** The I/O state of the round in flight: the model sent, its sum, each participant's FedAvg weight, who contributed what. */
export interface RoundWork {
  runId: string;
  round: number;
  /** The global model as a weight frame, encoded once for every participant. */
  frame: Uint8Array;
  /** The global model exactly as the participants decode it: deltas are added to this. */
  base: Float32Array;
  /** Where the updates are combined: in the fold worker when the hub has one (not for secure rounds), else here. */
  sum: RoundSum;
  /** FedAvg weight of each participant: its samples, capped at the run's maxClientShare. */
  weights: Map<string, number>;
  contributions: ParticipationRecord[];
  /** Updates that relaying nodes checked and keep in their partial sums: node id -> its clients and their total weight. */
  held: Map<string, { clients: string[]; weight: number }>;
  /** Names this attempt's partial sums on the relays (a retried round starts new ones). */
  partial: string;
}

/** Opens a round's sum in the fold worker. */
export interface SumOpener {
  open(spec: SumSpec, global: Float32Array, base: Float32Array, expect: FrameExpectation): RoundSum;
}

/**
 * Prepares a round: the frame to send (float16 when the run compresses), the capped weight of each participant,
 * and its sum: opened in `remote.folds` (the fold worker, checking frames against the task's `shapes`) when given,
 * except for secure rounds, whose masked inputs the hub only relays; else on this thread.
 */
export function startRoundWork(
  run: { id: string; round: number; attempt: number; settings: RunSettings },
  global: FlatWeights,
  participants: string[],
  heldSamples: (clientId: string) => number,
  remote?: { folds: SumOpener; shapes: number[][] },
): RoundWork {
  const meta = { round: run.round, runTag: seedFromString(run.id) };
  const lossy = run.settings.compression !== 'float32';
  const frame = encodeWeights(global, lossy ? { ...meta, dtype: 'float16' } : meta);
  const { dp } = run.settings;
  // Differential privacy weighs every drawn client the same (its sensitivity bound needs it).
  const capped = dp ? participants.map(() => 1) : capShares(participants.map(heldSamples), run.settings.maxClientShare);
  const base = lossy ? decodeWeights(frame).values : global.values;
  const { strategy, trimFraction, byzantine, clipNorm } = run.settings;
  const spec: SumSpec = { aggregation: { strategy, trimFraction, byzantine, clipNorm }, dp, participants: participants.length };
  const sum =
    remote && !run.settings.secureAggregation
      ? remote.folds.open(spec, global.values, base, { shapes: remote.shapes, task: run.settings.task, round: run.round, runTag: meta.runTag })
      : localSum(createRoundAggregator(spec, global.values, base));
  return {
    runId: run.id,
    round: run.round,
    frame,
    base,
    sum,
    weights: new Map(participants.map((id, i) => [id, capped[i]!])),
    contributions: [],
    held: new Map(),
    partial: `${run.id}#${run.round}#${run.attempt}`,
  };
}

/** The weight an update is folded with: its samples, capped at the client's share. */
export function foldWeight(work: RoundWork, clientId: string, samples: number): number {
  return Math.min(samples, work.weights.get(clientId) ?? samples);
}

/** Records an accepted update's contribution (its values are folded by the caller); returns how many arrived. */
export function recordAccepted(
  work: RoundWork,
  clientId: string,
  name: string,
  update: Pick<UpdateSubmit, 'round' | 'samples' | 'metrics'>,
  test: EvalMetrics | null,
): number {
  const { metrics } = update;
  work.contributions.push({
    round: update.round,
    clientId,
    name,
    samples: update.samples,
    loss: metrics.loss,
    accuracy: metrics.accuracy,
    trainMs: metrics.trainMs,
    test,
  });
  return work.contributions.length;
}

/** The round's record as the store commits it: the combined model, who contributed, and what the strategy did. */
export function finishRoundWork(
  work: RoundWork,
  shapes: number[][],
  task: RunSettings['task'],
  details: { evaluation: CompletedRound['evaluation']; startedAt: number; at: number; retryNote: string | null },
  /** The new model: the sum's result, or what secure aggregation unmasked. */
  combined: { values: Float32Array; note: string | null },
): CompletedRound {
  return {
    runId: work.runId,
    task,
    round: work.round,
    weights: { shapes, values: combined.values },
    evaluation: details.evaluation,
    durationMs: details.at - details.startedAt,
    note: [details.retryNote, combined.note].filter(Boolean).join('; ') || null,
    participants: work.contributions,
    at: details.at,
  };
}

/** What one participant gets at the start of the round (and again when it rejoins within it). */
export function roundStartFor(
  run: { id: string; round: number; settings: RunSettings; participants: string[] },
  work: RoundWork,
  clientId: string,
  shard: Uint16Array | undefined,
  deadline: number,
  secagg: Uint8Array | undefined,
  /** False when the model went out in the round's round:model broadcast. */
  withModel: boolean,
): RoundStart {
  return {
    runId: run.id,
    round: run.round,
    rounds: run.settings.rounds,
    settings: run.settings,
    ...(withModel ? { weights: work.frame } : {}),
    ...(shard ? { shard: encodeShard(shard) } : {}),
    ...(secagg ? { secagg } : {}),
    deadline,
    // Each participant's batch order follows from the run's seed, the round and its place in the round.
    seed: seedFromString(`${run.settings.seed}:${run.round}:${participantIndex(run, clientId)}`),
  };
}

/** The global model after a secure round: the received model plus the survivors' weighted mean change. */
export function applyMeanDelta(base: Float32Array, sum: Float64Array, weight: number): Float32Array {
  const next = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) next[i] = base[i]! + sum[i]! / weight;
  return next;
}

/** A secure round's contribution: recorded for the round's history; its masked input stays with the secure round. */
export function recordMasked(work: RoundWork, clientId: string, name: string, message: { round: number; metrics: UpdateSubmit['metrics'] }, weight: number): number {
  work.contributions.push({
    round: message.round,
    clientId,
    name,
    samples: weight,
    loss: message.metrics.loss,
    accuracy: message.metrics.accuracy,
    trainMs: message.metrics.trainMs,
    test: null,
  });
  return work.contributions.length;
}
