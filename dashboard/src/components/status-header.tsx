import type { HubStatus } from '@fl/shared/api';
import type { Connection } from '../hooks/use-hub';
import { phaseWords } from '../format';

const CONNECTION_WORDS: Record<Connection, string> = {
  connecting: 'connecting…',
  live: 'live',
  offline: 'hub unreachable, retrying',
};

/** The page title and the hub's phase in words, always in view. */
export function StatusHeader({ status, connection, readOnly }: { status: HubStatus | null; connection: Connection; readOnly: boolean }) {
  return (
    <header className="top-bar">
      <div className="brand">
        <span className="logo" aria-hidden="true" />
        <h1>Federated Learning</h1>
        {readOnly && <span className="badge badge-readonly">read-only</span>}
      </div>
      <div className="top-status">
        <span className={`phase phase-${status?.status ?? 'unknown'}`} data-testid="hub-status" data-phase={status?.status ?? ''}>
          {status ? phaseWords(status) : 'Connecting to the hub…'}
        </span>
        <span className={`connection connection-${connection}`} title="Socket.IO link to the hub">
          <span className="dot" aria-hidden="true" />
          {CONNECTION_WORDS[connection]}
        </span>
      </div>
    </header>
  );
}
