import { useState } from 'react';
import type { HubStatus, RunDetail } from '@fl/shared/api';
import { TASK_LABELS } from '@fl/shared/tasks';
import { api, ApiError } from '../api';
import { duration, percent, settingsLine } from '../format';
import { departureLine, roundDepartures } from '../round-departures';
import { clientFraction, ParticipantList } from './participant-list';
import { ProgressBar } from './progress-bar';
import { RunStatusBadge } from './run-status-badge';
import { SecureBadge } from './secure-badge';
import { DpBadge } from './dp-badge';
import { PrivacyMeter } from './privacy-meter';
import { roundParticipants, secureStageLine } from '../secure-round';
import { drawnLine, privacySpentOf, weakenedNoiseLine } from '../run-privacy';

interface RunPanelProps {
  status: HubStatus;
  /** The active run, or else the newest stored one. */
  run: RunDetail | null;
  label: string;
  token: string | null;
  onStopped(run: RunDetail): void;
  onUnauthorized(): void;
}

function lastAccuracy(run: RunDetail): number | null {
  const done = run.rounds.filter((r) => r.status === 'completed' && r.accuracy !== null);
  return done.at(-1)?.accuracy ?? null;
}

/** The run in flight (round r of N, each participant, Stop), or how the last one ended. */
export function RunPanel({ status, run, label, token, onStopped, onUnauthorized }: RunPanelProps) {
  const [stopping, setStopping] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const active = status.run;
  const shown = active ? (run?.id === active.id ? run : null) : run;

  async function stop() {
    if (!active || !token) return;
    setStopping(true);
    try {
      onStopped(await api.stop(token, active.id));
      setProblem(null);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) onUnauthorized();
      else setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setStopping(false);
    }
  }

  if (!active && !shown) {
    return <p className="muted">No run yet. {token ? 'Launch one with the form.' : 'An operator with the admin token launches runs.'}</p>;
  }

  const rounds = active?.rounds ?? shown!.settings.rounds;
  const completed = active ? active.round - 1 : shown!.rounds.filter((r) => r.status === 'completed').length;
  const participants = roundParticipants(status);
  const partial = participants.length ? participants.reduce((sum, c) => sum + clientFraction(c), 0) / participants.length : 0;
  const settings = active?.settings ?? shown!.settings;
  const accuracy = shown ? lastAccuracy(shown) : null;
  // What the aggregation strategy did last (clipping, Krum's pick); older hubs send no note.
  const lastNote = shown?.rounds.filter((r) => r.note).at(-1) ?? null;
  const departures = roundDepartures(status);
  const departed = active ? departureLine(departures, active.round) : null;
  const spent = privacySpentOf(active, shown);
  const drawn = active && status.status !== 'waiting' ? drawnLine(active) : null;
  const weakened = shown ? weakenedNoiseLine(shown) : null;

  return (
    <div className="run-panel">
      <div className="run-title">
        <h3>
          {label} · {TASK_LABELS[settings.task]}
        </h3>
        <span className="run-badges">
          {settings.dp && <DpBadge />}
          {settings.secureAggregation && <SecureBadge />}
          {!active && shown && <RunStatusBadge run={shown} />}
          {active && token && (
            <button type="button" className="danger" data-testid="stop" onClick={() => void stop()} disabled={stopping}>
              {stopping ? 'Stopping…' : 'Stop run'}
            </button>
          )}
        </span>
      </div>
      <p className="settings-line muted small" data-testid="run-settings">
        {settingsLine(settings)}
      </p>
      <div className="round-line">
        <span className="round-words">
          {active ? `Round ${active.round} of ${rounds}` : `${completed} of ${rounds} rounds completed`}
        </span>
        <span className="muted small">
          {accuracy !== null && `global accuracy ${percent(accuracy)}`}
          {!active && shown?.endedAt && ` · took ${duration(shown.endedAt - shown.createdAt)}`}
        </span>
      </div>
      <ProgressBar
        value={completed}
        max={rounds}
        fill={(completed + (status.status === 'training' ? partial : 0)) / rounds}
        label={`Round progress: ${completed} of ${rounds} rounds completed`}
        testId="round-progress"
        size="thick"
        tone={active ? 'accent' : shown?.status === 'completed' ? 'done' : 'muted'}
        data={{ 'data-round': active?.round ?? completed, 'data-rounds': rounds, 'data-completed': completed }}
      />
      {status.status === 'waiting' && active && (
        <p className="muted small">
          Waiting for {settings.minClients} client{settings.minClients === 1 ? '' : 's'} with {TASK_LABELS[settings.task]} data; the
          run fails if they do not arrive within {settings.roundTimeoutSec} s.
        </p>
      )}
      {spent && <PrivacyMeter spent={spent} />}
      {drawn && (
        <p className="drawn-line muted small" data-testid="drawn-line" data-drawn={active?.participants.length} data-population={active?.population}>
          {drawn}
        </p>
      )}
      {active?.secure && status.status !== 'waiting' && (
        <p className="secure-stage small" data-testid="secure-stage" data-stage={active.secure.stage} data-dropped={active.secure.dropped.length} role="status">
          {secureStageLine(active.secure, new Map(status.clients.map((c) => [c.id, c.name])))}
        </p>
      )}
      <ParticipantList participants={participants} {...(active?.secure ? { secure: active.secure } : {})} />
      {departed && (
        <p className="departure small" data-testid="participant-left" data-count={departures.length} role="status">
          {departed}
        </p>
      )}
      {lastNote && (
        <p className="muted small" data-testid="round-note">
          Round {lastNote.round}: {lastNote.note}
        </p>
      )}
      {weakened && (
        <p className="departure small" data-testid="dp-weakened">
          {weakened}
        </p>
      )}
      {!active && shown?.reason && (
        <p className="muted small" data-testid="run-reason">
          Reason: {shown.reason}
        </p>
      )}
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
