import {
  CodedError,
  addWeights,
  decodeWeights,
  firstNonFinite,
  sameShapes,
  seedFromString,
  toBytes,
  type ErrorCode,
  type EvalSubmit,
  type TaskId,
  type UpdateSubmit,
} from '@fl/shared';
import type { EngineState } from './engine-types';
import { isParticipant } from './participants';

/** What the hub knows of the round in flight when an update arrives. */
export interface UpdateContext {
  state: EngineState;
  /** Tensor shapes of the run's model. */
  shapes: number[][];
  /** Samples the client may claim: its MNIST shard, or the chest X-ray images it declared. */
  heldSamples: number;
  /** The global model exactly as the participants decoded it (deltas are added to it); null when no round collects. */
  base: Float32Array | null;
  maxUpdateBytes: number;
}

/** Why an update for (runId, round) from this client cannot be accepted now, or null when it can. */
export function checkUpdate(state: EngineState, clientId: string, runId: string, round: number): ErrorCode | null {
  const run = state.run;
  if (!state.clients.get(clientId)) return 'HUB_ERR_NOT_JOINED';
  if (!run) return 'HUB_ERR_NO_RUN';
  if (run.id !== runId) return 'HUB_ERR_WRONG_RUN';
  if (round < run.round) return 'HUB_ERR_STALE_ROUND';
  if (round > run.round || run.phase !== 'training') return 'HUB_ERR_ROUND_CLOSED';
  if (!isParticipant(run, clientId) || run.dropped.includes(clientId)) return 'HUB_ERR_NOT_PARTICIPANT';
  if (run.submitted.has(clientId)) return 'HUB_ERR_DUPLICATE_UPDATE';
  return null;
}

/** What a weight frame must be to join the round in flight (plain data: the fold worker checks frames too). */
export interface FrameExpectation {
  /** Tensor shapes of the run's model. */
  shapes: number[][];
  task: TaskId;
  /** The round the update claims (checkUpdate has matched it with the round in flight). */
  round: number;
  /** seedFromString of the run's id, as frames carry it. */
  runTag: number;
}

/**
 * Every check an update passes before it is folded: size, round and participant, claimed samples,
 * frame, shapes, finiteness, the frame's own run and round. Returns the model values to fold; throws a
 * CodedError and changes nothing otherwise.
 */
export function validateUpdate(ctx: UpdateContext, clientId: string, update: UpdateSubmit): Float32Array {
  checkUpdateEnvelope(ctx, clientId, update, update.weights.byteLength);
  const run = ctx.state.run!;
  return checkFrame(toBytes(update.weights), { shapes: ctx.shapes, task: run.settings.task, round: update.round, runTag: seedFromString(run.id) }, ctx.base);
}

/**
 * The checks that need the engine's state, in their order: size (`bytes`, the frame's), round and participant, claimed
 * samples. Throws a CodedError.
 */
export function checkUpdateEnvelope(
  ctx: Omit<UpdateContext, 'base' | 'shapes'>,
  clientId: string,
  update: Pick<UpdateSubmit, 'runId' | 'round' | 'samples'>,
  bytes: number,
): void {
  // The size first: it costs nothing and tells a client with a too-large model why, whatever else is wrong.
  if (bytes > ctx.maxUpdateBytes) {
    throw new CodedError('HUB_ERR_TOO_LARGE', `update of ${bytes} bytes exceeds the hub's limit of ${ctx.maxUpdateBytes}`);
  }
  const refusal = checkUpdate(ctx.state, clientId, update.runId, update.round);
  if (refusal) throw new CodedError(refusal, refusalMessage(refusal, update.runId, update.round));
  // FedAvg weighs by samples: a client may not claim more than its shard or its declared images.
  if (update.samples > ctx.heldSamples) {
    throw new CodedError('HUB_ERR_INVALID_PAYLOAD', `update claims ${update.samples} samples, the client holds ${ctx.heldSamples}`);
  }
}

/**
 * The frame's own checks, in their order: decoding, shapes, finiteness, its run and round, and a delta added to
 * `base` (the model the participants received; null when no round collects). Pure over bytes and arrays, so the
 * fold worker runs it as it is (`owned`: the frame was moved there, and its values may stay in its buffer).
 * Returns the values to fold or throws a CodedError.
 */
export function checkFrame(frame: Uint8Array, expect: FrameExpectation, base: Float32Array | null, owned = false): Float32Array {
  const decoded = decodeWeights(frame, { owned });
  if (!sameShapes(decoded.shapes, expect.shapes)) {
    throw new CodedError('HUB_ERR_SHAPE_MISMATCH', `update has ${decoded.shapes.length} tensors of the wrong shapes for the ${expect.task} model`);
  }
  const bad = firstNonFinite(decoded.values);
  if (bad >= 0) throw new CodedError('HUB_ERR_NON_FINITE', `update value ${bad} is ${decoded.values[bad]}`);
  const { meta } = decoded;
  // Frames name their round and run; 0 means the sender did not say.
  if ((meta.round !== 0 && meta.round !== expect.round) || (meta.runTag !== 0 && meta.runTag !== expect.runTag)) {
    throw new CodedError('HUB_ERR_BAD_FRAME', `the weight frame belongs to round ${meta.round} of another run or round`);
  }
  if (!base) throw new CodedError('HUB_ERR_ROUND_CLOSED', 'no round is collecting updates');
  // A delta is against the model the clients received (float16-rounded when the run compresses).
  const values = meta.delta ? addWeights(base, decoded.values) : decoded.values;
  if (meta.delta && firstNonFinite(values) >= 0) throw new CodedError('HUB_ERR_NON_FINITE', 'the update overflows when added to the global model');
  return values;
}

/**
 * A client's score of a global model: the model after round `round` of the active run. Accepted from the
 * clients it was sent to: the participants of the next round, or those asked to score the final model.
 */
export function validateEvaluation(state: EngineState, clientId: string, submit: EvalSubmit, alreadyScored: boolean): void {
  const run = state.run;
  const fail = (code: ErrorCode, message: string): never => {
    throw new CodedError(code, message);
  };
  if (!state.clients.get(clientId)) fail('HUB_ERR_NOT_JOINED', 'join with client:join first');
  if (!run) return fail('HUB_ERR_NO_RUN', 'no run is active');
  if (run.id !== submit.runId) fail('HUB_ERR_WRONG_RUN', `run ${submit.runId} is not the active run`);
  const scoring = run.phase === 'evaluating' ? run.round : run.round - 1;
  if (submit.round !== scoring) {
    fail('HUB_ERR_STALE_ROUND', `the model of round ${submit.round} is not being scored; the clients score round ${scoring}'s now`);
  }
  if (!isParticipant(run, clientId)) fail('HUB_ERR_NOT_PARTICIPANT', `this client was not sent the model of round ${submit.round}`);
  if (alreadyScored) fail('HUB_ERR_DUPLICATE_UPDATE', `a score of round ${submit.round}'s model was already accepted from this client`);
}

export function refusalMessage(code: ErrorCode, runId: string, round: number): string {
  switch (code) {
    case 'HUB_ERR_STALE_ROUND':
      return `round ${round} is over; wait for the next round:start`;
    case 'HUB_ERR_DUPLICATE_UPDATE':
      return `an update for round ${round} was already accepted from this client`;
    case 'HUB_ERR_NOT_PARTICIPANT':
      return `this client was not picked for round ${round}`;
    case 'HUB_ERR_WRONG_RUN':
      return `run ${runId} is not the active run`;
    case 'HUB_ERR_NO_RUN':
      return 'no run is active';
    case 'HUB_ERR_ROUND_CLOSED':
      return `round ${round} is not collecting updates`;
    case 'HUB_ERR_NOT_JOINED':
      return 'join with client:join first';
    default:
      return 'update refused';
  }
}
