import type { ClientView, HubStatus, ParticipationRecord } from '@fl/shared';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from '../../sim/headless-client';
import { status, type TestHub } from './test-hub';
import { waitFor } from './wait-for';

export type HeadlessClient = ReturnType<typeof startHeadlessClient>;

/** Headless MNIST clients of any hub reachable at `url` (an in-process hub or a hub process). */
export function mnistClientsAt(url: string, count: number, prefix: string): HeadlessClient[] {
  const data = mnistProvider(hubMnistLoader(url));
  return Array.from({ length: count }, (_, i) => startHeadlessClient({ hubUrl: url, name: `${prefix}-${i + 1}`, data }));
}

/** The hub's id of a headless client, once its join was acknowledged. */
export async function clientIdOf(client: HeadlessClient): Promise<string> {
  return waitFor(() => client.client.state.clientId, { what: 'the client to be joined' });
}

/** Polls GET /api/status until `predicate` holds, and returns that status. */
export async function waitForStatus(
  hub: TestHub,
  predicate: (s: HubStatus) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<HubStatus> {
  return waitFor(
    async () => {
      const s = await status(hub);
      return predicate(s) ? s : null;
    },
    { timeoutMs, intervalMs: 50, what },
  );
}

/**
 * True when the client is training with at least one batch done and `margin` batches still to go,
 * so that closing it now cannot race with its update.
 */
export function midTraining(s: HubStatus, clientId: string, margin = 3): ClientView | null {
  const c = s.clients.find((x) => x.id === clientId);
  if (!c || c.state !== 'training' || !c.progress) return null;
  const { epoch, epochs, batch, batches } = c.progress;
  const left = (epochs - epoch) * batches + (batches - batch);
  return batch > 0 && left >= margin ? c : null;
}

export async function participation(hub: TestHub, runId: string, round: number): Promise<ParticipationRecord[]> {
  const response = await hub.app.inject({ url: `/api/runs/${runId}/rounds/${round}/clients` });
  if (response.statusCode !== 200) throw new Error(`participation of round ${round} answered ${response.statusCode}`);
  return response.json() as ParticipationRecord[];
}

export function closeAll(clients: HeadlessClient[]): void {
  for (const { client } of clients) client.close();
}
