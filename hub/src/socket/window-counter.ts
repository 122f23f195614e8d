/** Counts events per key in fixed windows; `hit` says whether the key is still under its limit. */
export class WindowCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  hit(key: string): boolean {
    const at = this.now();
    let w = this.windows.get(key);
    if (!w || at - w.start >= this.windowMs) {
      w = { start: at, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.prune(at);
    }
    w.count += 1;
    return w.count <= this.limit;
  }

  private prune(at: number): void {
    for (const [key, w] of this.windows) if (at - w.start >= this.windowMs) this.windows.delete(key);
  }
}
