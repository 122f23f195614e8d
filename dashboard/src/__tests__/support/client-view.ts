import type { ClientView } from '@fl/shared/api';

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
