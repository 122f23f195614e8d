import type { ClientView, HubStatus, RunSummary } from '@fl/shared/api';

export type SecureStage = NonNullable<RunSummary['secure']>['stage'];

/** The stage as the dashboard names it. */
export const SECURE_STAGE_WORDS: Record<SecureStage, string> = {
  keys: 'keys',
  shares: 'shares',
  training: 'training',
  unmask: 'unmasking',
  done: 'unmasked',
  failed: 'failed',
};

const STAGE_MEANING: Record<SecureStage, string> = {
  keys: 'the participants exchange public keys',
  shares: 'each sends encrypted shares of its mask secrets to its neighbours',
  training: 'the participants train and send masked updates',
  unmask: 'the survivors reveal the shares that remove the masks',
  done: 'the hub holds the sum of the updates, never one alone',
  failed: 'too few participants are left to unmask; the round is retried',
};

/** "Secure round · stage: keys — the participants exchange public keys; dropped: tab-2". */
export function secureStageLine(secure: NonNullable<RunSummary['secure']>, names: ReadonlyMap<string, string>): string {
  const dropped = secure.dropped.map((id) => names.get(id) ?? id.slice(0, 8));
  const tail = dropped.length ? `; dropped: ${dropped.join(', ')}` : '';
  return `Secure round · stage: ${SECURE_STAGE_WORDS[secure.stage]} — ${STAGE_MEANING[secure.stage]}${tail}`;
}

/** What one participant of a secure round is doing, in the participant list's words. */
export function secureStepWords(client: ClientView, secure: NonNullable<RunSummary['secure']>): string {
  if (secure.dropped.includes(client.id)) return 'dropped out of the protocol';
  if (client.state === 'lost') return 'lost';
  switch (secure.stage) {
    case 'keys':
      return 'keys: sending its public keys';
    case 'shares':
      return 'shares: sending encrypted shares';
    case 'training': {
      if (client.state === 'done') return 'masked update sent';
      const p = client.progress;
      return p ? `training · ${p.epochs > 1 ? `epoch ${p.epoch}/${p.epochs} · ` : ''}batch ${p.batch}/${p.batches}` : 'training: starting';
    }
    case 'unmask':
      return 'unmasking: revealing shares';
    case 'done':
      return 'unmasked (sum only)';
    case 'failed':
      return 'round failed';
    default: {
      const _exhaustive: never = secure.stage;
      return String(_exhaustive);
    }
  }
}

/**
 * The round's participants as the list shows them: a secure round lists every participant it started with,
 * so one the protocol excluded (the hub sets it idle) stays visible, marked as dropped.
 */
export function roundParticipants(status: HubStatus): ClientView[] {
  const run = status.run;
  if (!run || status.status === 'waiting') return [];
  if (!run.secure) return status.clients.filter((c) => c.state !== 'idle');
  return run.participants.flatMap((id) => status.clients.filter((c) => c.id === id));
}
