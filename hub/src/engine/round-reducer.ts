import { Map as PersistentMap } from 'immutable';
import { createRng, scoredByClients, seedFromString, type HubPhase } from '@fl/shared';
import { privacySpent, type PrivacyStep } from '@fl/shared/privacy/index';
import { checkUpdate } from './update-validator';
import type { ClientEntry, Effect, EngineEvent, EngineState, RunState, Transition } from './engine-types';
import { isParticipant } from './participants';

export const initialEngineState: EngineState = { clients: PersistentMap(), run: null };

/** No accepted updates yet. */
const NONE_SUBMITTED: RunState['submitted'] = PersistentMap();

/** A round that fails (too few updates, too few clients) is tried this many times before the run fails. */
export const MAX_ROUND_ATTEMPTS = 2;

/** The final model's scoring waits at most this long (or the round timeout, if shorter). */
export const FINAL_EVALUATION_MAX_SEC = 300;

export function hubPhase(state: EngineState): HubPhase {
  return state.run ? state.run.phase : 'idle';
}

function withClient(state: EngineState, id: string, patch: Partial<ClientEntry>): EngineState {
  const current = state.clients.get(id);
  if (!current) return state;
  return { ...state, clients: state.clients.set(id, { ...current, ...patch }) };
}

/** The same patch for many clients in one batch of changes to the table (withMutations: one new map, not one per client). */
function withClients(state: EngineState, ids: Iterable<string>, patch: (client: ClientEntry) => Partial<ClientEntry> | null): EngineState {
  let changed = false;
  const clients = state.clients.withMutations((table) => {
    for (const id of ids) {
      const current = table.get(id);
      const change = current && patch(current);
      if (!change) continue;
      table.set(id, { ...current, ...change });
      changed = true;
    }
  });
  return changed ? { ...state, clients } : state;
}

function withoutClient(state: EngineState, id: string): EngineState {
  return { ...state, clients: state.clients.delete(id) };
}

function trainingSamples(client: Pick<ClientEntry, 'data'>): number {
  return client.data?.task === 'chest-xray' ? client.data.train.normal + client.data.train.pneumonia : 0;
}

/** Clients that can take part in the run's next round. */
export function eligibleClients(state: EngineState, run: RunState): string[] {
  return [...state.clients.values()]
    .filter((c) => c.connected && c.data?.task === run.settings.task)
    .filter((c) => run.settings.task !== 'chest-xray' || trainingSamples(c) > 0)
    // Ids in code-unit order, not localeCompare: clients that joined in the same millisecond (thousands do) are
    // many ties, and ICU's collation made this sort most of a 1,000-client round start.
    .sort((a, b) => a.joinedAt - b.joinedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => c.id);
}

function pending(run: RunState): string[] {
  const dropped = new Set(run.dropped);
  return run.participants.filter((id) => !run.submitted.has(id) && !dropped.has(id));
}

/**
 * How many participants may still answer, in O(1): every participant is pending, has submitted or was dropped, and
 * no one is both (an update from a dropped client is refused; a dropped client that rejoins leaves `dropped`).
 */
function pendingCount(run: RunState): number {
  return run.participants.length - run.submitted.size - run.dropped.length;
}

/**
 * The round's participants: with `clientsPerRound`, that many drawn uniformly from the eligible clients by a
 * seeded partial Fisher-Yates shuffle (the same seed, round and attempt draw the same clients); otherwise all.
 */
export function sampleParticipants(eligible: string[], run: Pick<RunState, 'settings' | 'round' | 'attempt'>): string[] {
  const k = run.settings.clientsPerRound;
  if (k === null || eligible.length <= k) return eligible;
  const rng = createRng(seedFromString(`${run.settings.seed}:sample:${run.round}:${run.attempt}`));
  const pool = [...eligible];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  // In join order, as without sampling: each participant's batch seed follows from its place.
  const picked = new Set(pool.slice(0, k));
  return eligible.filter((id) => picked.has(id));
}

/** What the next round would spend: its sampling rate and the full noise (dropouts can only lower what is added). */
export function plannedPrivacyStep(run: Pick<RunState, 'settings'>, participants: number, population: number): PrivacyStep | null {
  const dp = run.settings.dp;
  if (!dp) return null;
  return { samplingRate: population > 0 ? participants / population : 1, noiseMultiplier: dp.noiseMultiplier };
}

/** Why the run must end before this round (its epsilon would pass the target), or null. */
function privacyBudgetExceeded(run: RunState, participants: number, population: number): string | null {
  const dp = run.settings.dp;
  const step = plannedPrivacyStep(run, participants, population);
  if (!dp || dp.targetEpsilon === null || !step) return null;
  const now = privacySpent(run.privacySpent, dp.delta).epsilon;
  const next = privacySpent([...run.privacySpent, step], dp.delta).epsilon;
  if (next <= dp.targetEpsilon) return null;
  return `privacy budget reached: round ${run.round} would raise epsilon from ${now.toFixed(3)} to ${next.toFixed(3)}, over the target ${dp.targetEpsilon} (delta ${dp.delta})`;
}

/** Starts the run's current round if enough clients hold data, otherwise waits for them. */
function tryStartRound(state: EngineState, run: RunState, at: number): Transition {
  const eligible = eligibleClients(state, run);
  if (eligible.length < run.settings.minClients) {
    const deadline = run.phase === 'waiting' && run.deadline > at ? run.deadline : at + run.settings.roundTimeoutSec * 1000;
    const waiting: RunState = { ...run, phase: 'waiting', deadline, participants: [], submitted: NONE_SUBMITTED, dropped: [] };
    const effects: Effect[] = [{ type: 'status-changed' }];
    if (deadline !== run.deadline || run.phase !== 'waiting') {
      effects.unshift({ type: 'set-timer', runId: run.id, round: run.round, phase: 'waiting', at: deadline });
    }
    return { state: { ...state, run: waiting }, effects };
  }
  // MNIST shards follow the participants: a late joiner gets a share from its first round on.
  // Same clients in any order keep their shards (after a hub restart they come back in any order).
  const owners = run.shardOwners;
  const ownerSet = owners === null ? null : new Set(owners);
  const sameOwners = ownerSet !== null && ownerSet.size === eligible.length && eligible.every((id) => ownerSet.has(id));
  const assignShards = run.settings.task === 'mnist' && !sameOwners ? eligible : null;
  const participants = sampleParticipants(eligible, run);
  const overBudget = privacyBudgetExceeded(run, participants.length, eligible.length);
  if (overBudget) return endRun(state, run, 'completed', overBudget);
  const deadline = at + run.settings.roundTimeoutSec * 1000;
  const started: RunState = {
    ...run,
    phase: 'training',
    deadline,
    roundStartedAt: at,
    participants,
    population: eligible.length,
    submitted: NONE_SUBMITTED,
    dropped: [],
    shardOwners: assignShards ?? run.shardOwners,
  };
  let next: EngineState = { ...state, run: started };
  next = withClients(next, participants, () => ({ state: 'training', progress: null }));
  return {
    state: next,
    // The deadline is armed before anything that can fail, so a round that could not be sent still closes.
    effects: [
      { type: 'set-timer', runId: run.id, round: run.round, phase: 'training', at: deadline },
      { type: 'start-round', runId: run.id, round: run.round, participants, population: eligible.length, deadline, assignShards },
      { type: 'status-changed' },
    ],
  };
}

/** Lost clients that were kept visible during a round go once nothing refers to them. */
function forgetLostClients(state: EngineState): EngineState {
  const clients = state.clients.filter((client) => client.connected);
  return clients.size === state.clients.size ? state : { ...state, clients };
}

function endRun(state: EngineState, run: RunState, status: 'completed' | 'failed' | 'stopped', reason: string | null): Transition {
  const next = withClients({ ...state, run: null }, state.clients.keys(), (c) => (c.connected ? { state: 'idle', progress: null } : null));
  return {
    state: forgetLostClients(next),
    effects: [{ type: 'run-finished', runId: run.id, status, reason }, { type: 'status-changed' }],
  };
}

/** Retries the round once more, or ends the run failed with the reason. */
function failRound(state: EngineState, run: RunState, reason: string, at: number, retry = true): Transition {
  const cancel: Effect[] = pending(run).length
    ? [{ type: 'cancel-round', runId: run.id, round: run.round, clients: pending(run), reason }]
    : [];
  if (retry && run.attempt < MAX_ROUND_ATTEMPTS) {
    const next = withClients(state, run.participants, (c) => (c.connected ? { state: 'idle', progress: null } : null));
    const retried = tryStartRound(forgetLostClients(next), { ...run, attempt: run.attempt + 1, phase: 'waiting', deadline: 0, previousFailure: reason }, at);
    return {
      state: retried.state,
      effects: [...cancel, { type: 'round-retry', runId: run.id, round: run.round, attempt: run.attempt + 1, reason }, ...retried.effects],
    };
  }
  const full = run.previousFailure && run.previousFailure !== reason ? `${reason} (attempt ${run.attempt - 1}: ${run.previousFailure})` : reason;
  const ended = endRun(state, run, 'failed', `round ${run.round}: ${full}`);
  return {
    state: ended.state,
    effects: [
      ...cancel,
      { type: 'round-failed', runId: run.id, round: run.round, reason: full, roundStartedAt: run.roundStartedAt },
      ...ended.effects,
    ],
  };
}

/** Closes the round with the updates that arrived, or fails it when they are fewer than minClients. */
function closeRound(state: EngineState, run: RunState, why: string, at: number): Transition {
  const contributors = [...run.submitted.keys()];
  if (contributors.length < run.settings.minClients) {
    return failRound(
      state,
      run,
      `${why}: ${contributors.length} of the ${run.settings.minClients} required updates arrived`,
      at,
    );
  }
  const late = pending(run);
  const effects: Effect[] = [];
  if (late.length) effects.push({ type: 'cancel-round', runId: run.id, round: run.round, clients: late, reason: why });
  // Late participants count as dropped, so nothing cancels them twice.
  let next: EngineState = { ...state, run: { ...run, phase: 'aggregating', dropped: [...run.dropped, ...late] } };
  next = withClients(next, late, () => ({ state: 'idle', progress: null }));
  effects.push(
    { type: 'aggregate', runId: run.id, round: run.round, contributors, roundStartedAt: run.roundStartedAt },
    { type: 'status-changed' },
  );
  return { state: next, effects };
}

/** After an update or a departure: aggregate when nobody is pending, fail early when minClients is out of reach. */
function settleRound(state: EngineState, run: RunState, at: number): Transition {
  const submitted = run.submitted.size;
  const waitingFor = pendingCount(run);
  if (submitted + waitingFor < run.settings.minClients) {
    return failRound(state, run, `too many participants left: ${submitted + waitingFor} can still answer, ${run.settings.minClients} required`, at);
  }
  if (waitingFor === 0) return closeRound(state, run, 'every participant answered', at);
  return { state: { ...state, run }, effects: [{ type: 'status-changed' }] };
}

/**
 * After the last round of a task that only clients can score, its contributors score the final model,
 * so the run's last point is the model it produced; the run ends when they answered or at a deadline.
 */
function finalEvaluation(state: EngineState, run: RunState, at: number): Transition {
  const clients = [...run.submitted.keys()].filter((id) => state.clients.get(id)?.connected);
  if (!scoredByClients(run.settings.task) || clients.length === 0) return endRun(state, run, 'completed', null);
  const deadline = at + Math.min(run.settings.roundTimeoutSec, FINAL_EVALUATION_MAX_SEC) * 1000;
  let next: EngineState = { ...state, run: { ...run, phase: 'evaluating', deadline, participants: clients, submitted: NONE_SUBMITTED, dropped: [] } };
  next = withClients(next, clients, () => ({ state: 'evaluating', progress: null }));
  return {
    state: next,
    effects: [
      { type: 'set-timer', runId: run.id, round: run.round, phase: 'evaluating', at: deadline },
      { type: 'request-evaluation', runId: run.id, round: run.round, clients },
      { type: 'status-changed' },
    ],
  };
}

function settleEvaluation(state: EngineState, run: RunState): Transition {
  // Exact here (once per run): a client may score the final model after it was counted as dropped.
  if (pending(run).length === 0) return endRun(state, run, 'completed', null);
  return { state: { ...state, run }, effects: [{ type: 'status-changed' }] };
}

const none = (state: EngineState): Transition => ({ state, effects: [] });

/** The round engine: a pure function of the state and one event. */
export function reduce(state: EngineState, event: EngineEvent): Transition {
  switch (event.type) {
    case 'client-joined': {
      const existing = state.clients.get(event.client.id);
      const entry: ClientEntry = {
        ...event.client,
        connected: true,
        state: 'idle',
        progress: null,
        samples: existing?.data?.task === 'mnist' ? existing.samples : trainingSamples(event.client),
        joinedAt: existing?.joinedAt ?? event.at,
        lastSeen: event.at,
        lastMetrics: existing?.lastMetrics ?? null,
      };
      let next: EngineState = { ...state, clients: state.clients.set(entry.id, entry) };
      const run = next.run;
      if (run?.phase === 'waiting') return tryStartRound(next, run, event.at);
      if (run && isParticipant(run, entry.id)) {
        if (run.submitted.has(entry.id)) return { state: withClient(next, entry.id, { state: 'done' }), effects: [{ type: 'status-changed' }] };
        if (run.phase === 'training' && !run.dropped.includes(entry.id)) {
          // Same client on a new connection before the old one was seen to close: still training, but the
          // round:start may have gone to the old connection, so it gets the round again (a client ignores a repeat).
          return {
            state: withClient(next, entry.id, { state: 'training' }),
            effects: [
              { type: 'resend-round', runId: run.id, round: run.round, clientId: entry.id, deadline: run.deadline },
              { type: 'status-changed' },
            ],
          };
        }
        if (run.phase === 'training' && run.dropped.includes(entry.id)) {
          // A participant back within its round may still deliver: it gets the round again.
          next = { ...next, run: { ...run, dropped: run.dropped.filter((id) => id !== entry.id) } };
          return {
            state: withClient(next, entry.id, { state: 'training' }),
            effects: [
              { type: 'resend-round', runId: run.id, round: run.round, clientId: entry.id, deadline: run.deadline },
              { type: 'status-changed' },
            ],
          };
        }
      }
      return { state: next, effects: [{ type: 'status-changed' }] };
    }
    case 'client-data': {
      const client = state.clients.get(event.clientId);
      if (!client) return none(state);
      // MNIST shards are handed out per run: a tab switching to MNIST holds none until its next round.
      const samples = event.data?.task === 'chest-xray' ? trainingSamples({ data: event.data }) : 0;
      const next = withClient(state, client.id, {
        data: event.data,
        samples,
        lastSeen: event.at,
        ...(event.backend ? { backend: event.backend } : {}),
      });
      if (next.run?.phase === 'waiting') return tryStartRound(next, next.run, event.at);
      return { state: next, effects: [{ type: 'status-changed' }] };
    }
    case 'client-progress': {
      const run = state.run;
      if (!state.clients.has(event.clientId) || run?.phase !== 'training' || !isParticipant(run, event.clientId)) {
        return none(state);
      }
      return { state: withClient(state, event.clientId, { progress: event.progress, lastSeen: event.at }), effects: [{ type: 'status-changed' }] };
    }
    case 'client-left': {
      const client = state.clients.get(event.clientId);
      if (!client) return none(state);
      const run = state.run;
      const involved = run !== null && run.phase !== 'waiting' && isParticipant(run, client.id);
      if (!involved) return { state: withoutClient(state, client.id), effects: [{ type: 'status-changed' }] };
      const next = withClient(state, client.id, { connected: false, state: 'lost', progress: null, lastSeen: event.at });
      if (run.phase === 'evaluating') return settleEvaluation(next, { ...run, dropped: [...run.dropped, client.id] });
      if (run.phase !== 'training' || run.submitted.has(client.id)) return { state: next, effects: [{ type: 'status-changed' }] };
      return settleRound(next, { ...run, dropped: [...run.dropped, client.id] }, event.at);
    }
    case 'run-launched':
    case 'run-resumed': {
      if (state.run) return none(state);
      const run: RunState = {
        id: event.runId,
        settings: event.settings,
        startedAt: event.type === 'run-resumed' ? event.startedAt : event.at,
        round: event.type === 'run-resumed' ? event.round : 1,
        attempt: 1,
        phase: 'waiting',
        deadline: 0,
        roundStartedAt: event.at,
        participants: [],
        population: 0,
        privacySpent: event.type === 'run-resumed' ? event.privacySpent : [],
        submitted: NONE_SUBMITTED,
        dropped: [],
        shardOwners: event.type === 'run-resumed' ? event.shardOwners : null,
      };
      return tryStartRound(state, run, event.at);
    }
    case 'shards-assigned': {
      if (state.run?.id !== event.runId) return none(state);
      const next = withClients(state, Object.keys(event.sizes), (c) => ({ samples: event.sizes[c.id]! }));
      return { state: next, effects: [{ type: 'status-changed' }] };
    }
    case 'update-accepted': {
      const run = state.run;
      if (checkUpdate(state, event.clientId, event.runId, event.round) !== null || !run) return none(state);
      const previous = state.clients.get(event.clientId)?.lastMetrics?.test;
      const next = withClient(state, event.clientId, {
        state: 'done',
        lastSeen: event.at,
        lastMetrics: { ...event.metrics, ...(previous ? { test: previous } : {}) },
      });
      return settleRound(next, { ...run, submitted: run.submitted.set(event.clientId, event.samples) }, event.at);
    }
    case 'updates-lost': {
      const run = state.run;
      if (!run || run.id !== event.runId || run.round !== event.round || run.phase !== 'training') return none(state);
      const lost = event.clients.filter((id) => run.submitted.has(id));
      if (!lost.length) return none(state);
      const submitted = lost.reduce((map, id) => map.delete(id), run.submitted);
      const next = withClients(state, lost, (c) => (c.connected ? { state: 'training' } : null));
      return { state: { ...next, run: { ...run, submitted } }, effects: [{ type: 'status-changed' }] };
    }
    case 'timer': {
      const run = state.run;
      if (!run || run.id !== event.runId || run.round !== event.round || run.phase !== event.phase || event.at < run.deadline) {
        return none(state);
      }
      if (run.phase === 'evaluating') return endRun(state, run, 'completed', null);
      if (run.phase === 'waiting') {
        const have = eligibleClients(state, run).length;
        return failRound(
          state,
          run,
          `only ${have} of the ${run.settings.minClients} required clients with ${run.settings.task} data connected within ${run.settings.roundTimeoutSec}s`,
          event.at,
        );
      }
      return closeRound(state, run, `deadline of ${run.settings.roundTimeoutSec}s reached`, event.at);
    }
    case 'round-completed': {
      const run = state.run;
      if (!run || run.id !== event.runId || run.round !== event.round || run.phase !== 'aggregating') return none(state);
      const spent = event.privacy ? { ...run, privacySpent: [...run.privacySpent, event.privacy] } : run;
      if (spent.round >= spent.settings.rounds) return finalEvaluation(state, spent, event.at);
      let next = forgetLostClients(state);
      next = withClients(next, run.participants, () => ({ state: 'idle', progress: null }));
      const { previousFailure: _previous, ...fresh } = spent;
      return tryStartRound(next, { ...fresh, round: run.round + 1, attempt: 1, participants: [], submitted: NONE_SUBMITTED, dropped: [] }, event.at);
    }
    case 'round-aborted': {
      const run = state.run;
      if (!run || run.id !== event.runId || run.round !== event.round) return none(state);
      // An aggregation error is a fault of the hub, not of the clients: retrying would repeat it.
      return failRound(state, run, event.reason, event.at, event.retry ?? false);
    }
    case 'client-excluded': {
      const run = state.run;
      if (!run || run.id !== event.runId || run.round !== event.round || run.phase !== 'training') return none(state);
      if (!isParticipant(run, event.clientId) || run.submitted.has(event.clientId) || run.dropped.includes(event.clientId)) return none(state);
      const next = withClient(state, event.clientId, { state: 'idle', progress: null });
      return settleRound(next, { ...run, dropped: [...run.dropped, event.clientId] }, event.at);
    }
    case 'evaluation-accepted': {
      const run = state.run;
      const client = state.clients.get(event.clientId);
      if (!run || !client || run.id !== event.runId) return none(state);
      const next = withClient(state, client.id, {
        lastSeen: event.at,
        lastMetrics: { loss: client.lastMetrics?.loss ?? 0, accuracy: client.lastMetrics?.accuracy ?? 0, ...client.lastMetrics, test: event.metrics },
      });
      if (run.phase !== 'evaluating' || event.round !== run.round) return { state: next, effects: [{ type: 'status-changed' }] };
      return settleEvaluation(next, { ...run, submitted: run.submitted.set(client.id, event.metrics.samples) });
    }
    case 'stop': {
      const run = state.run;
      if (!run || run.id !== event.runId) return none(state);
      const ended = endRun(state, run, 'stopped', 'stopped by the operator');
      const cancel: Effect[] =
        run.phase === 'training' && pending(run).length
          ? [{ type: 'cancel-round', runId: run.id, round: run.round, clients: pending(run), reason: 'run stopped' }]
          : [];
      return { state: ended.state, effects: [...cancel, ...ended.effects] };
    }
    default: {
      const _exhaustive: never = event;
      throw new Error(`unhandled engine event ${JSON.stringify(_exhaustive)}`);
    }
  }
}
