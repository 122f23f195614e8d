import { createRng, toBytes, type AckResponse, type RoundStart, type SecAggMessage } from '@fl/shared';
import { SecAggClient, decodeSetup, type SecAggParams } from '@fl/shared/secagg/index';
import { StageMailbox } from '@fl/shared/secure-round-client';
import { emitAck, joinRaw, LOCAL_METRICS, outcome, type RawClient } from './raw-client';

/** Where a scripted client vanishes (its socket disconnects); null: it runs the whole protocol. */
export type KillPoint = 'after-keys' | 'after-shares' | 'after-masked' | 'during-unmask' | null;

/** Test hooks at the points of the protocol where a client can misbehave; each runs before the step it names. */
export interface SecureHooks {
  beforeKeys?(client: ScriptedSecureClient, start: RoundStart): Promise<void>;
  afterKeys?(client: ScriptedSecureClient, start: RoundStart): Promise<void>;
  beforeMasked?(client: ScriptedSecureClient, start: RoundStart): Promise<void>;
}

export interface ScriptedSecureClient {
  raw: RawClient;
  /** The change it sends instead of training: uniform in [-0.01, 0.01], seeded, made once the length is known. */
  delta: Float32Array | null;
  /** Decoded setup of the latest round:start. */
  params: SecAggParams | null;
  /** Every setup it received (a retried round sends a new one). */
  setups: SecAggParams[];
  index: number;
  /** Every secagg frame it sent, by event (to look for them in logs and storage). */
  sent: { event: string; frame: Uint8Array }[];
  /** Every ack code it got, by event ('accepted' or the error code). */
  acks: { event: string; code: string }[];
  /** Settles when the protocol of the latest round ended for this client: 'revealed', 'reveal <code>', 'killed', or an error message. */
  done: Promise<string>;
  /** Its own weight in the latest round. */
  weight(): number;
}

/** A change of `length` values, uniform in [-0.01, 0.01], from `seed`. */
export function seededDelta(seed: number, length: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length }, () => (rng() * 2 - 1) * 0.01);
}

/**
 * A raw MNIST client that answers each round:start with the secure protocol (SecAggClient) and a fixed seeded
 * delta in place of training, so the hub's result can be checked exactly; `kill` disconnects it at one stage.
 */
export async function joinSecure(url: string, name: string, seed: number, kill: KillPoint = null, hooks: SecureHooks = {}): Promise<ScriptedSecureClient> {
  const raw = await joinRaw(url, name);
  const mailbox = new StageMailbox();
  let settle: (outcome: string) => void = () => {};
  const client: ScriptedSecureClient = {
    raw,
    delta: null,
    params: null,
    setups: [],
    index: -1,
    sent: [],
    acks: [],
    done: new Promise((resolve) => (settle = resolve)),
    weight: () => client.params!.weights[client.index]!,
  };
  for (const event of ['secagg:keyset', 'secagg:shares-in', 'secagg:unmask'] as const) {
    raw.socket.on(event, (message: SecAggMessage) => mailbox.deliver(event, message));
  }
  const send = async (start: RoundStart, event: string, frame: Uint8Array, extra: object = {}): Promise<AckResponse<unknown>> => {
    client.sent.push({ event, frame });
    const response = await emitAck(raw.socket, event, { runId: start.runId, round: start.round, frame, ...extra });
    client.acks.push({ event, code: outcome(response) });
    if ('error' in response) throw new Error(`${event} refused: ${response.error.code} ${response.error.message}`);
    return response;
  };
  const die = (): string => {
    raw.socket.disconnect();
    return 'killed';
  };
  const play = async (start: RoundStart): Promise<string> => {
    const { params, index } = decodeSetup(toBytes(start.secagg!));
    client.params = params;
    client.setups.push(params);
    client.index = index;
    client.delta ??= seededDelta(seed, params.length);
    const wait = (event: 'secagg:keyset' | 'secagg:shares-in' | 'secagg:unmask') => mailbox.wait(event, start.runId, start.round, 30_000);
    const role = await SecAggClient.create(params, index);
    await hooks.beforeKeys?.(client, start);
    await send(start, 'secagg:keys', role.keysMessage());
    await hooks.afterKeys?.(client, start);
    if (kill === 'after-keys') return die();
    await send(start, 'secagg:shares', await role.sharesMessage(await wait('secagg:keyset')));
    if (kill === 'after-shares') return die();
    await role.receiveShares(await wait('secagg:shares-in'));
    await hooks.beforeMasked?.(client, start);
    await send(start, 'secagg:masked', await role.maskedInput(client.delta), { metrics: LOCAL_METRICS });
    if (kill === 'after-masked') return die();
    const request = await wait('secagg:unmask');
    if (kill === 'during-unmask') return die();
    const frame = role.reveal(request);
    client.sent.push({ event: 'secagg:reveal', frame });
    const response = await emitAck(raw.socket, 'secagg:reveal', { runId: start.runId, round: start.round, frame });
    client.acks.push({ event: 'secagg:reveal', code: outcome(response) });
    // The hub unmasks as soon as it holds t shares of each secret; a reveal after that is refused as late.
    return outcome(response) === 'accepted' ? 'revealed' : `reveal ${outcome(response)}`;
  };
  raw.socket.on('round:start', (start: RoundStart) => {
    mailbox.cancelAll('a new round started');
    if (!start.secagg) return settle('no secure setup in round:start');
    play(start).then(settle, (error: unknown) => settle(error instanceof Error ? error.message : String(error)));
  });
  return client;
}

/** new global = base + sum(w_i * delta_i) / sum(w_i) over `survivors`, in float64. */
export function expectedModel(base: Float32Array, survivors: readonly ScriptedSecureClient[]): Float64Array {
  const total = survivors.reduce((sum, c) => sum + c.weight(), 0);
  const out = Float64Array.from(base);
  for (const c of survivors) {
    const w = c.weight() / total;
    const delta = c.delta!;
    for (let k = 0; k < out.length; k++) out[k]! += w * delta[k]!;
  }
  return out;
}

/** Largest |a_k - b_k|. */
export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
  return worst;
}
