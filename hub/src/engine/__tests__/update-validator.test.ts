import { describe, expect, it } from 'vitest';
import { Map as PersistentMap } from 'immutable';
import { resolveSettings, type EvalSubmit, type UpdateSubmit } from '@fl/shared';
import type { ClientEntry, EngineState, RunState } from '../engine-types';
import { checkUpdate, validateEvaluation, validateUpdate, type UpdateContext } from '../update-validator';
import { SHAPES, frame, refusal } from './support/fakes';

const RUN = 'run-1';
const BASE = Float32Array.from([1, 1, 1, 1, 1, 1]);
const VALUES = [0.5, -0.5, 1.5, 2, 0, 3];

function client(id: string): ClientEntry {
  return {
    id,
    name: id,
    kind: 'headless',
    data: { task: 'mnist' },
    backend: { name: 'cpu' },
    connected: true,
    state: 'training',
    progress: null,
    samples: 100,
    joinedAt: 0,
    lastSeen: 0,
    lastMetrics: null,
  };
}

function state(run: Partial<RunState> | null = {}): EngineState {
  return {
    clients: PersistentMap({ a: client('a'), b: client('b'), c: client('c') }),
    run:
      run === null
        ? null
        : {
            id: RUN,
            settings: resolveSettings({ task: 'mnist', rounds: 5 }, 1),
            startedAt: 0,
            round: 2,
            phase: 'training',
            deadline: 60_000,
            roundStartedAt: 0,
            participants: ['a', 'b'],
            population: 2,
            privacySpent: [],
            submitted: PersistentMap(),
            dropped: [],
            shardOwners: ['a', 'b'],
            attempt: 1,
            ...run,
          },
  };
}

function context(overrides: Partial<UpdateContext> = {}): UpdateContext {
  return { state: state(), shapes: SHAPES, heldSamples: 100, base: BASE, maxUpdateBytes: 10_000, ...overrides };
}

function update(overrides: Partial<UpdateSubmit> = {}): UpdateSubmit {
  return {
    runId: RUN,
    round: 2,
    samples: 100,
    weights: frame(VALUES, { runId: RUN, round: 2 }),
    metrics: { loss: 0.4, accuracy: 0.9, trainMs: 10 },
    ...overrides,
  };
}

describe('validateUpdate', () => {
  it('returns the frame values of an update that passes every check', () => {
    expect(Array.from(validateUpdate(context(), 'a', update()))).toEqual(VALUES);
  });

  it('accepts a frame that does not name its run and round (0 in the header)', () => {
    expect(Array.from(validateUpdate(context(), 'a', update({ weights: frame(VALUES) })))).toEqual(VALUES);
  });

  it('adds a delta to the base the clients received', () => {
    const values = validateUpdate(context(), 'a', update({ weights: frame(VALUES, { runId: RUN, round: 2, delta: true }) }));
    expect(Array.from(values)).toEqual(VALUES.map((v) => v + 1));
  });

  it('refuses a client that never joined with HUB_ERR_NOT_JOINED', () => {
    expect(refusal(() => validateUpdate(context(), 'stranger', update()))).toBe('HUB_ERR_NOT_JOINED');
  });

  it('refuses any update while no run is active with HUB_ERR_NO_RUN', () => {
    expect(refusal(() => validateUpdate(context({ state: state(null) }), 'a', update()))).toBe('HUB_ERR_NO_RUN');
  });

  it('refuses an update for another run with HUB_ERR_WRONG_RUN', () => {
    expect(refusal(() => validateUpdate(context(), 'a', update({ runId: 'run-0' })))).toBe('HUB_ERR_WRONG_RUN');
  });

  it('refuses an update for an earlier round with HUB_ERR_STALE_ROUND', () => {
    expect(refusal(() => validateUpdate(context(), 'a', update({ round: 1, weights: frame(VALUES, { runId: RUN, round: 1 }) })))).toBe(
      'HUB_ERR_STALE_ROUND',
    );
  });

  it('refuses an update for a later round, or while the round is not training, with HUB_ERR_ROUND_CLOSED', () => {
    expect(refusal(() => validateUpdate(context(), 'a', update({ round: 3 })))).toBe('HUB_ERR_ROUND_CLOSED');
    expect(refusal(() => validateUpdate(context({ state: state({ phase: 'aggregating' }) }), 'a', update()))).toBe('HUB_ERR_ROUND_CLOSED');
    expect(refusal(() => validateUpdate(context({ base: null }), 'a', update()))).toBe('HUB_ERR_ROUND_CLOSED');
  });

  it('refuses a client not picked for the round, or one that left it, with HUB_ERR_NOT_PARTICIPANT', () => {
    expect(refusal(() => validateUpdate(context(), 'c', update()))).toBe('HUB_ERR_NOT_PARTICIPANT');
    expect(refusal(() => validateUpdate(context({ state: state({ dropped: ['a'] }) }), 'a', update()))).toBe('HUB_ERR_NOT_PARTICIPANT');
  });

  it('refuses a second update from the same client with HUB_ERR_DUPLICATE_UPDATE', () => {
    expect(refusal(() => validateUpdate(context({ state: state({ submitted: PersistentMap({ a: 100 }) }) }), 'a', update()))).toBe('HUB_ERR_DUPLICATE_UPDATE');
  });

  it('refuses an update larger than the limit with HUB_ERR_TOO_LARGE', () => {
    const u = update();
    expect(refusal(() => validateUpdate(context({ maxUpdateBytes: u.weights.byteLength - 1 }), 'a', u))).toBe('HUB_ERR_TOO_LARGE');
    expect(() => validateUpdate(context({ maxUpdateBytes: u.weights.byteLength }), 'a', u)).not.toThrow();
  });

  it('refuses a claim of more samples than the client holds with HUB_ERR_INVALID_PAYLOAD', () => {
    expect(refusal(() => validateUpdate(context({ heldSamples: 99 }), 'a', update()))).toBe('HUB_ERR_INVALID_PAYLOAD');
  });

  it('refuses tensors of other shapes, even with the same number of values, with HUB_ERR_SHAPE_MISMATCH', () => {
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: frame(VALUES, { shapes: [[4], [2]] }) })))).toBe(
      'HUB_ERR_SHAPE_MISMATCH',
    );
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: frame([1, 2, 3, 4], { shapes: [[2, 2]] }) })))).toBe(
      'HUB_ERR_SHAPE_MISMATCH',
    );
  });

  it('refuses NaN, infinities and a delta that overflows the base with HUB_ERR_NON_FINITE', () => {
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: frame([Number.NaN, 0, 0, 0, 0, 0]) })))).toBe('HUB_ERR_NON_FINITE');
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: frame([0, 0, 0, 0, 0, Infinity]) })))).toBe('HUB_ERR_NON_FINITE');
    const big = Float32Array.from([3e38, 0, 0, 0, 0, 0]);
    const overflow = update({ weights: frame([3e38, 0, 0, 0, 0, 0], { delta: true }) });
    expect(refusal(() => validateUpdate(context({ base: big }), 'a', overflow))).toBe('HUB_ERR_NON_FINITE');
  });

  it('refuses a frame of another round or run, and bytes that are no frame, with HUB_ERR_BAD_FRAME', () => {
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: frame(VALUES, { runId: RUN, round: 1 }) })))).toBe('HUB_ERR_BAD_FRAME');
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: frame(VALUES, { runId: 'run-0', round: 2 }) })))).toBe('HUB_ERR_BAD_FRAME');
    expect(refusal(() => validateUpdate(context(), 'a', update({ weights: new Uint8Array(64) })))).toBe('HUB_ERR_BAD_FRAME');
  });
});

describe('checkUpdate', () => {
  it('answers null for a participant that has not submitted in the training round', () => {
    expect(checkUpdate(state(), 'b', RUN, 2)).toBeNull();
  });
});

describe('validateEvaluation', () => {
  const score = (round: number, runId = RUN): EvalSubmit => ({ runId, round, metrics: { samples: 10, accuracy: 0.7 } });
  const xray = (run: Partial<RunState>) => state({ settings: resolveSettings({ task: 'chest-xray', rounds: 5 }, 1), ...run });

  it("accepts a participant's score of the model it was sent: round - 1 while training, the final round while evaluating", () => {
    expect(() => validateEvaluation(xray({}), 'a', score(1), false)).not.toThrow();
    expect(() => validateEvaluation(xray({ round: 1 }), 'a', score(0), false)).not.toThrow();
    expect(() => validateEvaluation(xray({ phase: 'evaluating', round: 5 }), 'a', score(5), false)).not.toThrow();
  });

  it('refuses a score of another round with HUB_ERR_STALE_ROUND', () => {
    expect(refusal(() => validateEvaluation(xray({}), 'a', score(2), false))).toBe('HUB_ERR_STALE_ROUND');
    expect(refusal(() => validateEvaluation(xray({ phase: 'evaluating', round: 5 }), 'a', score(4), false))).toBe('HUB_ERR_STALE_ROUND');
  });

  it('refuses a second score from the same client with HUB_ERR_DUPLICATE_UPDATE', () => {
    expect(refusal(() => validateEvaluation(xray({}), 'a', score(1), true))).toBe('HUB_ERR_DUPLICATE_UPDATE');
  });

  it('refuses a client that was not sent the model with HUB_ERR_NOT_PARTICIPANT', () => {
    expect(refusal(() => validateEvaluation(xray({}), 'c', score(1), false))).toBe('HUB_ERR_NOT_PARTICIPANT');
  });

  it('refuses strangers, no run and another run with their codes', () => {
    expect(refusal(() => validateEvaluation(xray({}), 'stranger', score(1), false))).toBe('HUB_ERR_NOT_JOINED');
    expect(refusal(() => validateEvaluation(state(null), 'a', score(1), false))).toBe('HUB_ERR_NO_RUN');
    expect(refusal(() => validateEvaluation(xray({}), 'a', score(1, 'run-0'), false))).toBe('HUB_ERR_WRONG_RUN');
  });
});
