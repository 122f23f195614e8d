import type { ClientView, HubStatus } from '@fl/shared/api';

/** A connected MNIST browser tab as the hub's status lists it, training unless patched. */
export function clientView(id: string, patch: Partial<ClientView> = {}): ClientView {
  return {
    id,
    name: `tab-${id}`,
    kind: 'browser',
    task: 'mnist',
    samples: 0,
    data: { task: 'mnist' },
    backend: { name: 'wasm' },
    state: 'training',
    progress: null,
    lastSeen: 0,
    lastMetrics: null,
    ...patch,
  };
}

/** The counts a hub status carries for these rows (every client is a row in these tests). */
export function clientCounts(clients: readonly ClientView[]): Pick<HubStatus, 'clientCount' | 'clientStates'> {
  const clientStates: HubStatus['clientStates'] = { idle: 0, training: 0, done: 0, evaluating: 0, lost: 0 };
  for (const c of clients) clientStates[c.state] += 1;
  return { clientCount: clients.length, clientStates };
}
