/**
 * Updates the fold worker is still checking, by client, and what waits for them: the round's deadline and a
 * client's departure wait for the checks in flight when they came, so that an update that arrived in time is
 * judged as if it had been folded at once.
 */
export class PendingChecks {
  private readonly byClient = new Map<string, Set<Promise<unknown>>>();
  /** Deferred work (a deadline, a departure) that runs once the checks it waits for have settled. */
  private readonly deferred = new Set<Promise<void>>();

  /** Tracks a check until it settles; returns it. */
  track<T>(clientId: string, check: Promise<T>): Promise<T> {
    const checks = this.byClient.get(clientId) ?? new Set();
    this.byClient.set(clientId, checks);
    checks.add(check);
    const clear = () => {
      checks.delete(check);
      if (!checks.size && this.byClient.get(clientId) === checks) this.byClient.delete(clientId);
    };
    check.then(clear, clear);
    return check;
  }

  has(clientId: string): boolean {
    return this.byClient.has(clientId);
  }

  get size(): number {
    return this.byClient.size;
  }

  /** Runs `then` once the checks in flight now (the client's, or everyone's) have settled; later ones are not waited for, so a flood cannot hold it off. */
  afterThose(clientId: string | null, then: () => void): void {
    const checks = clientId === null ? [...this.byClient.values()].flatMap((s) => [...s]) : [...(this.byClient.get(clientId) ?? [])];
    const done: Promise<void> = Promise.allSettled(checks).then(() => {
      this.deferred.delete(done);
      then();
    });
    this.deferred.add(done);
  }

  /** Resolves once no check and no deferred work is left (tests and idle()). */
  async drained(): Promise<void> {
    while (this.byClient.size || this.deferred.size) {
      await Promise.allSettled([...[...this.byClient.values()].flatMap((s) => [...s]), ...this.deferred]);
    }
  }
}
