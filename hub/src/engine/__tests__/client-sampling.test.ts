import { describe, expect, it } from 'vitest';
import { resolveSettings, settingsConflict, type LaunchRequest, type RunSettings } from '@fl/shared';
import { privacySpent } from '@fl/shared/privacy/index';
import type { Effect, EngineEvent, EngineState, Transition } from '../engine-types';
import { initialEngineState, reduce, sampleParticipants } from '../round-reducer';

const RUN = 'run-1';
const ids = (n: number) => Array.from({ length: n }, (_, i) => `c${String(i).padStart(2, '0')}`);

function settings(overrides: Partial<LaunchRequest> = {}): RunSettings {
  return resolveSettings({ task: 'mnist', rounds: 5, minClients: 2, roundTimeoutSec: 60, seed: 7, ...overrides });
}

function apply(state: EngineState, ...events: EngineEvent[]): Transition {
  let t: Transition = { state, effects: [] };
  for (const e of events) t = reduce(t.state, e);
  return t;
}

function joined(clients: string[]): EngineState {
  return apply(
    initialEngineState,
    ...clients.map((id, i): EngineEvent => ({ type: 'client-joined', at: 1000 + i, client: { id, name: id, kind: 'headless', data: { task: 'mnist' }, backend: { name: 'cpu' } } })),
  ).state;
}

const startRound = (t: Transition) => t.effects.find((e): e is Extract<Effect, { type: 'start-round' }> => e.type === 'start-round');

/** Every participant answers and the coordinator commits the round, spending `privacy`. */
function finishRound(state: EngineState, at: number, privacy?: { samplingRate: number; noiseMultiplier: number }): Transition {
  const run = state.run!;
  const answered = apply(
    state,
    ...run.participants.map((clientId): EngineEvent => ({ type: 'update-accepted', at, clientId, runId: run.id, round: run.round, samples: 10, metrics: { loss: 1, accuracy: 0.5 } })),
  );
  expect(answered.state.run?.phase).toBe('aggregating');
  return reduce(answered.state, { type: 'round-completed', at: at + 1, runId: run.id, round: run.round, ...(privacy ? { privacy } : {}) });
}

describe('client sampling', () => {
  it('draws clientsPerRound of the eligible clients, the same ones for the same seed, round and attempt, in join order', () => {
    const eligible = ids(10);
    const a = sampleParticipants(eligible, { settings: settings({ clientsPerRound: 5 }), round: 1, attempt: 1 });
    const b = sampleParticipants(eligible, { settings: settings({ clientsPerRound: 5 }), round: 1, attempt: 1 });
    expect(a).toHaveLength(5);
    expect(new Set(a).size).toBe(5);
    expect(a).toEqual(b);
    expect(a).toEqual(eligible.filter((id) => a.includes(id)));
    // Another round, attempt or seed draws another set (for these seeds).
    expect(sampleParticipants(eligible, { settings: settings({ clientsPerRound: 5 }), round: 2, attempt: 1 })).not.toEqual(a);
    expect(sampleParticipants(eligible, { settings: settings({ clientsPerRound: 5 }), round: 1, attempt: 2 })).not.toEqual(a);
    expect(sampleParticipants(eligible, { settings: settings({ clientsPerRound: 5, seed: 8 }), round: 1, attempt: 1 })).not.toEqual(a);
  });

  it('takes everyone when there are no more eligible clients than clientsPerRound, or no clientsPerRound', () => {
    expect(sampleParticipants(ids(4), { settings: settings({ clientsPerRound: 5 }), round: 1, attempt: 1 })).toEqual(ids(4));
    expect(sampleParticipants(ids(12), { settings: settings(), round: 1, attempt: 1 })).toEqual(ids(12));
  });

  it('is uniform: over 2,000 rounds each of 10 clients is drawn about half the time', () => {
    const counts = new Map<string, number>();
    const s = settings({ clientsPerRound: 5 });
    for (let round = 1; round <= 2000; round++) {
      for (const id of sampleParticipants(ids(10), { settings: s, round, attempt: 1 })) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // Binomial(2000, 0.5): sd 22.4; 6 sd either side.
    for (const id of ids(10)) expect(Math.abs(counts.get(id)! - 1000)).toBeLessThan(135);
  });

  it('starts a round with the drawn participants only; the rest stay idle; every client keeps an MNIST shard', () => {
    const t = reduce(joined(ids(10)), { type: 'run-launched', at: 5000, runId: RUN, settings: settings({ clientsPerRound: 5 }) });
    const start = startRound(t)!;
    expect(start.participants).toHaveLength(5);
    expect(start.population).toBe(10);
    expect(start.assignShards).toEqual(ids(10));
    for (const id of ids(10)) expect(t.state.clients.get(id)!.state).toBe(start.participants.includes(id) ? 'training' : 'idle');
    expect(t.state.run!.population).toBe(10);
  });

  it('refuses clientsPerRound below minClients (no round could close)', () => {
    expect(settingsConflict(settings({ clientsPerRound: 2, minClients: 3 }))).toMatch(/clientsPerRound \(2\) is below minClients \(3\)/);
    expect(settingsConflict(settings({ clientsPerRound: 3, minClients: 3 }))).toBeNull();
  });
});

describe('privacy budget', () => {
  const dp = { noiseMultiplier: 0.8, clipNorm: 1, delta: 1e-5 };

  it('keeps what each committed round spent, and ends the run before a round that would pass targetEpsilon', () => {
    const step = { samplingRate: 0.5, noiseMultiplier: 0.8 };
    // The target lets exactly two rounds through.
    const two = privacySpent([step, step], dp.delta).epsilon;
    const three = privacySpent([step, step, step], dp.delta).epsilon;
    const target = (two + three) / 2;
    let t = reduce(joined(ids(10)), { type: 'run-launched', at: 5000, runId: RUN, settings: settings({ clientsPerRound: 5, dp: { ...dp, targetEpsilon: target } }) });
    expect(t.state.run!.phase).toBe('training');
    t = finishRound(t.state, 6000, step);
    expect(t.state.run!.round).toBe(2);
    expect(t.state.run!.privacySpent).toEqual([step]);
    t = finishRound(t.state, 7000, step);
    expect(t.state.run).toBeNull();
    const finished = t.effects.find((e): e is Extract<Effect, { type: 'run-finished' }> => e.type === 'run-finished')!;
    expect(finished.status).toBe('completed');
    expect(finished.reason).toMatch(/^privacy budget reached: round 3 would raise epsilon from \d+\.\d{3} to \d+\.\d{3}, over the target/);
    expect(startRound(t)).toBeUndefined();
  });

  it('does not start round 1 when even one round would pass the target', () => {
    const t = reduce(joined(ids(10)), { type: 'run-launched', at: 5000, runId: RUN, settings: settings({ clientsPerRound: 5, dp: { ...dp, targetEpsilon: 0.01 } }) });
    expect(t.state.run).toBeNull();
    expect(t.effects.some((e) => e.type === 'run-finished' && /round 1 would raise epsilon from 0\.000/.test(e.reason ?? ''))).toBe(true);
  });

  it('a resumed run starts from the spend of its committed rounds', () => {
    const step = { samplingRate: 0.5, noiseMultiplier: 0.8 };
    const one = privacySpent([step], dp.delta).epsilon;
    const two = privacySpent([step, step], dp.delta).epsilon;
    const resumed: EngineEvent = {
      type: 'run-resumed',
      at: 5000,
      runId: RUN,
      settings: settings({ clientsPerRound: 5, dp: { ...dp, targetEpsilon: (one + two) / 2 } }),
      round: 2,
      startedAt: 100,
      shardOwners: null,
      privacySpent: [step],
    };
    // Round 2 would spend a second step, past the target: the run ends without starting it.
    const t = reduce(joined(ids(10)), resumed);
    expect(t.state.run).toBeNull();
    expect(t.effects.some((e) => e.type === 'run-finished' && /round 2 would raise epsilon/.test(e.reason ?? ''))).toBe(true);
  });
});

describe('settings conflicts under differential privacy', () => {
  const dp = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5 };
  it('refuses strategies that use single updates, the top-level clip, and distributed noise without secure aggregation', () => {
    expect(settingsConflict(settings({ dp, strategy: 'krum' }))).toMatch(/strategy "krum"/);
    expect(settingsConflict(settings({ dp, strategy: 'median' }))).toMatch(/strategy "median"/);
    expect(settingsConflict(settings({ dp, clipNorm: 2 }))).toMatch(/dp.clipNorm/);
    expect(settingsConflict(settings({ dp: { ...dp, noise: 'distributed' } }))).toMatch(/secureAggregation/);
    expect(settingsConflict(settings({ dp: { ...dp, noise: 'distributed' }, secureAggregation: true, minClients: 3 }))).toBeNull();
    expect(settingsConflict(settings({ dp }))).toBeNull();
  });
});
