import type { ClientView, RunSummary } from '@fl/shared/api';
import { secureStepWords } from '../secure-round';
import { ProgressBar } from './progress-bar';

/** Share of the local training a client has done this round, 0..1. */
export function clientFraction(client: ClientView): number {
  if (client.state === 'done') return 1;
  const p = client.progress;
  if (!p || p.epochs * p.batches === 0) return 0;
  return ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
}

function stepWords(client: ClientView): string {
  if (client.state === 'done') return 'update sent';
  if (client.state === 'lost') return 'lost';
  const p = client.progress;
  if (!p) return 'receiving the model…';
  return `${p.epochs > 1 ? `epoch ${p.epoch}/${p.epochs} · ` : ''}batch ${p.batch}/${p.batches}`;
}

/** The clients picked for the round in flight, each with its own bar; a secure round says each one's protocol stage. */
export function ParticipantList({ participants, secure }: { participants: ClientView[]; secure?: RunSummary['secure'] }) {
  if (participants.length === 0) return null;
  return (
    <ul className="participants" aria-label="Participants of this round">
      {participants.map((c) => {
        const dropped = secure?.dropped.includes(c.id) ?? false;
        return (
          <li
            key={c.id}
            className={`participant state-${c.state}${dropped ? ' dropped' : ''}`}
            data-testid="participant"
            data-client-id={c.id}
            {...(secure ? { 'data-secure-stage': secure.stage, 'data-dropped': String(dropped) } : {})}
          >
            <span className="participant-name" title={c.name}>
              {c.name}
            </span>
            <ProgressBar
              value={Math.round(clientFraction(c) * 100)}
              max={100}
              label={`${c.name} progress`}
              tone={c.state === 'done' ? 'done' : c.state === 'lost' || dropped ? 'muted' : 'accent'}
            />
            <span className="participant-step muted small">{secure ? secureStepWords(c, secure) : stepWords(c)}</span>
          </li>
        );
      })}
    </ul>
  );
}
