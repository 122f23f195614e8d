import type { ClientSnapshot } from '@fl/shared/federated-client';

export interface ThrottleClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  later(fn: () => void, ms: number): () => void;
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  later: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** Whether two snapshots differ in anything but the batch progress. */
function beyondProgress(a: ClientSnapshot, b: ClientSnapshot): boolean {
  for (const key of Object.keys(b) as Array<keyof ClientSnapshot>) {
    if (key !== 'progress' && a[key] !== b[key]) return true;
  }
  return false;
}

/**
 * Hands snapshots on to the page: a change of phase, round, score or error at once (tests and people must
 * see every state), batch progress at most once per `intervalMs`, the latest one last.
 * FederatedClient builds each snapshot by spreading the last, so unchanged fields keep their identity.
 */
export class SnapshotThrottle {
  private last: ClientSnapshot | null = null;
  private lastAt = -Infinity;
  private pending: ClientSnapshot | null = null;
  private cancel: (() => void) | null = null;

  constructor(
    private readonly post: (snapshot: ClientSnapshot) => void,
    private readonly intervalMs = 100,
    private readonly clock: ThrottleClock = realClock,
  ) {}

  push(snapshot: ClientSnapshot): void {
    const now = this.clock.now();
    if (!this.last || beyondProgress(this.last, snapshot) || now - this.lastAt >= this.intervalMs) {
      this.send(snapshot, now);
      return;
    }
    this.pending = snapshot;
    this.cancel ??= this.clock.later(() => {
      this.cancel = null;
      if (this.pending) this.send(this.pending, this.clock.now());
    }, this.intervalMs - (now - this.lastAt));
  }

  private send(snapshot: ClientSnapshot, now: number): void {
    this.cancel?.();
    this.cancel = null;
    this.pending = null;
    this.last = snapshot;
    this.lastAt = now;
    this.post(snapshot);
  }
}
