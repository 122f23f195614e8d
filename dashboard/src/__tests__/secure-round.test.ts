import { describe, expect, it } from 'vitest';
import type { ClientView, HubStatus, RunSummary } from '@fl/shared/api';
import { resolveSettings } from '@fl/shared/settings';
import { clientCounts, clientView } from './support/client-view';
import { runSummary } from './support/run-fixtures';
import { roundParticipants, secureStageLine, secureStepWords } from '../secure-round';
import { settingsLine } from '../format';

const client = clientView;

function hub(clients: ClientView[], secure: RunSummary['secure'] | undefined, participants = clients.map((c) => c.id)): HubStatus {
  const settings = resolveSettings({ task: 'mnist', rounds: 1, minClients: 3, secureAggregation: secure !== undefined });
  return {
    status: 'training',
    run: runSummary({ round: 1, rounds: 1, settings, participants, ...(secure ? { secure } : {}) }),
    clients,
    ...clientCounts(clients),
    now: 0,
  };
}

describe('roundParticipants', () => {
  it('keeps a participant the secure protocol excluded (the hub set it idle), so it can be shown as dropped', () => {
    const clients = [client('a'), client('b', { state: 'idle' }), client('c', { state: 'done' }), client('d', { state: 'idle' })];
    const secure = hub(clients, { stage: 'training', dropped: ['b'] }, ['a', 'b', 'c']);
    expect(roundParticipants(secure).map((c) => c.id)).toEqual(['a', 'b', 'c']);
  });

  it('lists only the busy clients of a plain round, as before', () => {
    const clients = [client('a'), client('b', { state: 'idle' }), client('c', { state: 'done' })];
    expect(roundParticipants(hub(clients, undefined)).map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('lists nobody while the hub waits for clients', () => {
    expect(roundParticipants({ ...hub([client('a')], { stage: 'keys', dropped: [] }), status: 'waiting' })).toEqual([]);
  });
});

describe('secureStepWords', () => {
  it('names each stage of the protocol, and the training progress during training', () => {
    const c = client('a');
    expect(secureStepWords(c, { stage: 'keys', dropped: [] })).toBe('keys: sending its public keys');
    expect(secureStepWords(c, { stage: 'shares', dropped: [] })).toBe('shares: sending encrypted shares');
    expect(secureStepWords(client('a', { progress: { epoch: 1, epochs: 1, batch: 4, batches: 9 } }), { stage: 'training', dropped: [] })).toBe('training · batch 4/9');
    expect(secureStepWords(client('a', { state: 'done' }), { stage: 'training', dropped: [] })).toBe('masked update sent');
    expect(secureStepWords(client('a', { state: 'done' }), { stage: 'unmask', dropped: [] })).toBe('unmasking: revealing shares');
  });

  it('marks a client that dropped out of the protocol, whatever the stage', () => {
    for (const stage of ['shares', 'training', 'unmask', 'done'] as const) {
      expect(secureStepWords(client('b', { state: 'idle' }), { stage, dropped: ['b'] })).toBe('dropped out of the protocol');
    }
  });
});

describe('secureStageLine', () => {
  it('says the stage and names who dropped', () => {
    const names = new Map([['b', 'tab-b']]);
    expect(secureStageLine({ stage: 'unmask', dropped: ['b'] }, names)).toBe(
      'Secure round · stage: unmasking — the survivors reveal the shares that remove the masks; dropped: tab-b',
    );
    expect(secureStageLine({ stage: 'keys', dropped: [] }, names)).toBe('Secure round · stage: keys — the participants exchange public keys');
  });
});

describe('settingsLine', () => {
  it('says a run is secure, with its clip', () => {
    const settings = resolveSettings({ task: 'mnist', rounds: 1, minClients: 3, secureAggregation: true, secAggClip: 0.5 });
    expect(settingsLine(settings)).toMatch(/ · secure aggregation \(clip ±0\.5\)$/);
    expect(settingsLine({ ...settings, secureAggregation: false })).not.toMatch(/secure/);
  });
});
