import type { LocalMetrics, RoundStart, SecAggMessage } from './contract';
import { CodedError, isErrorResponse, type AckResponse } from './errors';
import { SecAggClient, decodeSetup } from './secagg/index';
import { toBytes } from './validation';

type StageEvent = 'secagg:keyset' | 'secagg:shares-in' | 'secagg:unmask';
type Send = (event: 'secagg:keys' | 'secagg:shares' | 'secagg:reveal' | 'secagg:masked', payload: object) => Promise<AckResponse<unknown>>;

/**
 * The hub's stage messages, kept until the round's flow asks for them: a keyset can arrive before the
 * client has finished sending its keys' ack, and a cancelled round must wake whoever waits.
 */
export class StageMailbox {
  private readonly held = new Map<string, Uint8Array>();
  private readonly waiting = new Map<string, { resolve: (frame: Uint8Array) => void; reject: (error: Error) => void }>();

  deliver(event: StageEvent, message: SecAggMessage): void {
    const key = `${event}:${message.runId}:${message.round}`;
    const frame = toBytes(message.frame);
    const waiter = this.waiting.get(key);
    if (waiter) {
      this.waiting.delete(key);
      waiter.resolve(frame);
    } else {
      this.held.set(key, frame);
    }
  }

  wait(event: StageEvent, runId: string, round: number, timeoutMs: number): Promise<Uint8Array> {
    const key = `${event}:${runId}:${round}`;
    const held = this.held.get(key);
    if (held) {
      this.held.delete(key);
      return Promise.resolve(held);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`no ${event} from the hub within the round`));
      }, Math.max(1000, timeoutMs));
      this.waiting.set(key, {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** A new round or a cancel: every wait of an older round ends, and its held messages go. */
  cancelAll(reason: string): void {
    for (const waiter of this.waiting.values()) waiter.reject(new Error(reason));
    this.waiting.clear();
    this.held.clear();
  }
}

/** The client's side of one secure round, over the tab's or the headless client's socket. */
export class SecureRoundClient {
  private constructor(
    private readonly role: SecAggClient,
    private readonly start: RoundStart,
    private readonly mailbox: StageMailbox,
    private readonly send: Send,
    /** Clients in the round, and the per-coordinate bound of its fixed point (the hub's setup frame says both). */
    readonly participants: number,
    readonly range: number,
  ) {}

  /** Keys out, neighbours' keys in, encrypted shares out, the shares for this client in: ready to train. */
  static async join(start: RoundStart, mailbox: StageMailbox, send: Send): Promise<SecureRoundClient> {
    const { params, index } = decodeSetup(toBytes(start.secagg!));
    if (params.runId !== start.runId || params.round !== start.round) {
      throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', 'the secure setup belongs to another round');
    }
    const role = await SecAggClient.create(params, index);
    const client = new SecureRoundClient(role, start, mailbox, send, params.participants.length, params.clip);
    await client.post('secagg:keys', role.keysMessage());
    const keyset = await client.next('secagg:keyset');
    await client.post('secagg:shares', await role.sharesMessage(keyset));
    await role.receiveShares(await client.next('secagg:shares-in'));
    return client;
  }

  /** Sends the masked change (trained minus received); the hub can only add it to the others'. */
  async submit(delta: Float32Array, metrics: LocalMetrics): Promise<AckResponse<unknown>> {
    const frame = await this.role.maskedInput(delta);
    const { runId, round } = this.start;
    return this.send('secagg:masked', { runId, round, frame, metrics });
  }

  /** Answers the hub's unmask request with the shares it names (refusing one that names a client as both). */
  async unmask(): Promise<void> {
    const request = await this.next('secagg:unmask');
    await this.post('secagg:reveal', this.role.reveal(request));
  }

  private async post(event: 'secagg:keys' | 'secagg:shares' | 'secagg:reveal', frame: Uint8Array): Promise<void> {
    const { runId, round } = this.start;
    const response = await this.send(event, { runId, round, frame });
    if (isErrorResponse(response)) throw new CodedError(response.error.code, `${event}: ${response.error.message}`);
  }

  private next(event: StageEvent): Promise<Uint8Array> {
    return this.mailbox.wait(event, this.start.runId, this.start.round, this.start.deadline - Date.now());
  }
}
