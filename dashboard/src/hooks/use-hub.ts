import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { DASHBOARD_NAMESPACE, type DashboardToHubEvents, type HubToDashboardEvents } from '@fl/shared/contract';
import type { HubStatus, RunDetail } from '@fl/shared/api';
import { api } from '../api';

export type Connection = 'connecting' | 'live' | 'offline';

export interface HubFeed {
  status: HubStatus | null;
  connection: Connection;
}

export interface HubListeners {
  /** A run's stored record changed: a round completed or the run ended. */
  onRunUpdate(run: RunDetail): void;
  /** The socket (re)connected; pushes may have been missed while it was down. */
  onConnect(): void;
}

/** Live hub status from the read-only `/dashboard` namespace; the hub pushes, nothing polls. */
export function useHub(listeners: HubListeners): HubFeed {
  const [status, setStatus] = useState<HubStatus | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  // Listeners change every render; the socket is opened once and reads the latest through the ref.
  const latest = useRef(listeners);
  latest.current = listeners;

  useEffect(() => {
    let pushed = false;
    // WebSocket only, as every hub socket: behind a load balancer of several hub nodes no sticky sessions are needed.
    const socket: Socket<HubToDashboardEvents, DashboardToHubEvents> = io(DASHBOARD_NAMESPACE, {
      transports: ['websocket'],
      reconnectionDelayMax: 3000,
    });
    socket.on('connect', () => {
      setConnection('live');
      latest.current.onConnect();
    });
    // Any loss the page did not ask for means the hub is out of reach until a reconnect succeeds.
    socket.on('disconnect', (reason) => setConnection(reason === 'io client disconnect' ? 'connecting' : 'offline'));
    socket.on('connect_error', () => setConnection('offline'));
    socket.on('hub:status', (next) => {
      pushed = true;
      setStatus(next);
    });
    socket.on('run:update', (run) => latest.current.onRunUpdate(run));
    // A first paint that does not wait for the websocket; a push always wins over this answer.
    api
      .status()
      .then((first) => {
        if (!pushed) setStatus(first);
      })
      .catch(() => undefined);
    return () => {
      socket.close();
    };
  }, []);

  return { status, connection };
}
