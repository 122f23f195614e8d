import type { Clock } from './ports';

/** Coalesces status pushes: at most one per `intervalMs` (a number, or read anew before each push), however many changes arrive. */
export class StatusThrottle<T> {
  private timer: unknown = null;
  private closed = false;
  private readonly listeners = new Set<(value: T) => void>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number | (() => number),
    private readonly read: () => T,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Something changed: push the state as it is when the interval ends. */
  changed(): void {
    if (this.closed || this.timer !== null || this.listeners.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      const value = this.read();
      // A listener that throws must neither escape the timer (an uncaught exception) nor skip the others.
      for (const listener of this.listeners) {
        try {
          listener(value);
        } catch (error) {
          this.onError(error);
        }
      }
    }, typeof this.intervalMs === 'number' ? this.intervalMs : this.intervalMs());
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
