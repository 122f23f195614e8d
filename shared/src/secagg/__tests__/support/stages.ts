import { SecAggClient } from '../../client-role';
import { planSecAgg } from '../../graph';
import { SecAggHub } from '../../hub-role';
import type { SecAggParams } from '../../params';

export interface Parties {
  params: SecAggParams;
  hub: SecAggHub;
  clients: SecAggClient[];
}

export async function parties(n: number, length = 8): Promise<Parties> {
  const participants = Array.from({ length: n }, (_, i) => `c${i}`);
  const params = planSecAgg({ runId: 'r', round: 1, participants, weights: participants.map(() => 1), length, clip: 1, seed: 3 });
  const clients = await Promise.all(participants.map((_, i) => SecAggClient.create(params, i)));
  return { params, hub: new SecAggHub(params), clients };
}

/** Keys from everyone, then the key stage closed. */
export async function atShares(n: number, length = 8): Promise<Parties> {
  const p = await parties(n, length);
  p.clients.forEach((c, i) => p.hub.addKeys(i, c.keysMessage()));
  p.hub.closeKeys();
  return p;
}

/** Shares from everyone and delivered; the hub waits for masked inputs. */
export async function atMasked(n: number, length = 8): Promise<Parties> {
  const p = await atShares(n, length);
  for (const [i, c] of p.clients.entries()) p.hub.addShares(i, await c.sharesMessage(p.hub.keysetFor(i)));
  p.hub.closeShares();
  for (const [i, c] of p.clients.entries()) await c.receiveShares(p.hub.sharesFor(i));
  return p;
}

/** Masked inputs from everyone; the hub is unmasking. */
export async function atUnmask(n: number, length = 8): Promise<Parties> {
  const p = await atMasked(n, length);
  for (const [i, c] of p.clients.entries()) p.hub.addMasked(i, await c.maskedInput(new Float32Array(length).fill(0.25)));
  p.hub.closeMasked();
  return p;
}
