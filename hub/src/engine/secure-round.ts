import { CodedError } from '@fl/shared';
import { SecAggHub, encodeSetup, type SecAggParams } from '@fl/shared/secagg/index';
import type { Clock, Logger, Transport } from './ports';

export type SecureStage = 'keys' | 'shares' | 'training' | 'unmask' | 'done' | 'failed';

export interface SecureRoundDeps {
  transport: Transport;
  clock: Clock;
  log: Logger;
  /** Takes a participant out of the rest of the round (it missed a stage). */
  exclude(clientId: string): void;
  /** The round cannot be secured any more (too few clients left): fail it, to be retried. */
  fail(reason: string): void;
  /** The stage changed (for the dashboard). */
  changed(): void;
}

/**
 * The hub's side of one secure round: relays the protocol's stages between the participants through
 * SecAggHub (shared/src/secagg), moves on when everyone still in has answered or a stage's time is up,
 * and unmasks the sum. It never holds an unmasked update: only the keys, ciphertexts and masked inputs.
 */
export class SecureRound {
  readonly hub: SecAggHub;
  private stageName: SecureStage = 'keys';
  private readonly index = new Map<string, number>();
  private readonly gone = new Set<number>();
  private readonly answered = new Set<number>();
  private timer: unknown = null;
  private revealed: (() => void) | null = null;
  readonly dropped: string[] = [];

  constructor(
    private readonly deps: SecureRoundDeps,
    readonly params: SecAggParams,
    /** How long the key and share stages, and the unmasking, wait for clients that have not answered. */
    private readonly stageMs: number,
  ) {
    this.hub = new SecAggHub(params);
    params.participants.forEach((id, i) => this.index.set(id, i));
    this.arm();
  }

  get stage(): SecureStage {
    return this.stageName;
  }

  /** The setup frame that goes with this participant's round:start. */
  setupFor(clientId: string): Uint8Array {
    return encodeSetup(this.params, this.indexOf(clientId));
  }

  keys(clientId: string, frame: Uint8Array): void {
    this.expect('keys');
    const i = this.indexOf(clientId);
    this.hub.addKeys(i, frame);
    this.answered.add(i);
    this.advanceIfComplete();
  }

  shares(clientId: string, frame: Uint8Array): void {
    this.expect('shares');
    const i = this.indexOf(clientId);
    this.hub.addShares(i, frame);
    this.answered.add(i);
    this.advanceIfComplete();
  }

  /** A masked input; the caller has checked the round and the participant. */
  masked(clientId: string, frame: Uint8Array): void {
    this.expect('training');
    this.hub.addMasked(this.indexOf(clientId), frame);
  }

  /** A masked input a relaying node keeps in its sum of masked inputs; the caller has checked the round and the participant. */
  maskedElsewhere(clientId: string): void {
    this.expect('training');
    this.hub.acceptMaskedElsewhere(this.indexOf(clientId));
  }

  /** A relaying node's sum of its clients' masked inputs (each accepted with maskedElsewhere). */
  addMaskedSum(clientIds: readonly string[], words: Uint32Array): void {
    this.expect('training');
    this.hub.addMaskedSum(clientIds.map((id) => this.indexOf(id)), words);
  }

  /** The node that kept these clients' masked inputs is gone: they count as dropped after their shares. */
  forgetMasked(clientIds: readonly string[]): void {
    if (this.stageName !== 'training') return;
    this.hub.forgetMaskedElsewhere(clientIds.flatMap((id) => this.index.get(id) ?? []));
  }

  reveal(clientId: string, frame: Uint8Array): void {
    this.expect('unmask');
    this.hub.addReveal(this.indexOf(clientId), frame);
    if (this.hub.canFinish()) this.revealed?.();
  }

  /**
   * Before a departure is counted: with fewer than t clients left that can still answer (reveal), the round cannot
   * be unmasked, so it fails now with its own code rather than later, or under a generic minClients reason.
   */
  leaving(clientId: string): void {
    const i = this.index.get(clientId);
    if (i === undefined || this.gone.has(i) || !['keys', 'shares', 'training'].includes(this.stageName)) return;
    const able = this.params.participants.filter((_, j) => j !== i && this.inRound(j) && !this.gone.has(j)).length;
    if (able >= this.params.threshold) return;
    this.clearTimer();
    this.stageName = 'failed';
    this.deps.fail(`HUB_ERR_SECAGG_TOO_FEW: ${able} participants left that can answer, threshold ${this.params.threshold}`);
  }

  /** A participant disconnected: the stage it held up need not wait for it. */
  left(clientId: string): void {
    const i = this.index.get(clientId);
    if (i === undefined) return;
    this.gone.add(i);
    if (this.stageName === 'keys' || this.stageName === 'shares') this.advanceIfComplete();
  }

  /** Asks the survivors for their shares and returns the decoded weighted sum of their changes. */
  async unmask(): Promise<{ sum: Float64Array; weight: number }> {
    this.expect('training');
    this.clearTimer();
    const { survivors, dropped } = this.hub.closeMasked();
    this.dropped.push(...dropped.map((i) => this.params.participants[i]!));
    this.setStage('unmask');
    const { runId, round } = this.params;
    const done = new Promise<void>((resolve) => {
      this.revealed = resolve;
      this.timer = this.deps.clock.setTimeout(resolve, this.stageMs);
    });
    for (const i of survivors) {
      this.deps.transport.send(this.params.participants[i]!, 'secagg:unmask', { runId, round, frame: this.hub.unmaskRequestFor(i) });
    }
    if (!this.hub.canFinish()) await done;
    this.clearTimer();
    this.revealed = null;
    const result = await this.hub.finish();
    this.setStage('done');
    return result;
  }

  close(): void {
    this.clearTimer();
    this.revealed?.();
    this.revealed = null;
  }

  private indexOf(clientId: string): number {
    const i = this.index.get(clientId);
    if (i === undefined) throw new CodedError('HUB_ERR_NOT_PARTICIPANT', 'this client is not in the secure round');
    return i;
  }

  private expect(stage: SecureStage): void {
    if (this.stageName !== stage) {
      throw new CodedError('HUB_ERR_SECAGG_STAGE', `the secure round is at stage "${this.stageName}", not "${stage}"`);
    }
  }

  private setStage(stage: SecureStage): void {
    this.stageName = stage;
    this.deps.changed();
  }

  private arm(): void {
    this.clearTimer();
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      this.advance();
    }, this.stageMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private advanceIfComplete(): void {
    const waiting = this.params.participants.some((_, i) => this.inRound(i) && !this.answered.has(i) && !this.gone.has(i));
    if (!waiting) this.advance();
  }

  private inRound(i: number): boolean {
    return !this.dropped.includes(this.params.participants[i]!);
  }

  /** Closes the key or share stage: those that did not answer are out; the others get the next stage's frames. */
  private advance(): void {
    const { runId, round, participants } = this.params;
    try {
      const closing = this.stageName;
      if (closing !== 'keys' && closing !== 'shares') return;
      const { out } = closing === 'keys' ? this.hub.closeKeys() : this.hub.closeShares();
      for (const i of out) {
        const id = participants[i]!;
        if (!this.dropped.includes(id)) this.dropped.push(id);
        this.deps.exclude(id);
      }
      this.answered.clear();
      const event = closing === 'keys' ? 'secagg:keyset' : 'secagg:shares-in';
      this.setStage(closing === 'keys' ? 'shares' : 'training');
      for (const [i, id] of participants.entries()) {
        if (!this.inRound(i) || this.gone.has(i)) continue;
        const frame = closing === 'keys' ? this.hub.keysetFor(i) : this.hub.sharesFor(i);
        this.deps.transport.send(id, event, { runId, round, frame });
      }
      if (this.stageName === 'shares') this.arm();
      else this.clearTimer();
    } catch (error) {
      this.clearTimer();
      this.stageName = 'failed';
      this.deps.log.warn({ runId, round, err: error }, 'secure round cannot go on');
      this.deps.fail(error instanceof CodedError ? `${error.code}: ${error.message}` : String(error));
    }
  }
}
