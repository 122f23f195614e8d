/**
 * The hub's answers to client messages, run in arrival order with at most `budgetMs` of them per turn of the event
 * loop. A burst of updates reaches one poll phase together; past the budget the rest wait for the next turn (its
 * timers and I/O first), in order: one socket's messages and its disconnect keep the order they arrived in.
 */
export class Intake {
  private readonly queue: (() => void)[] = [];
  /** When this turn's first task began (ms); -1 before it. */
  private turnStart = -1;
  private scheduled = false;

  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `task` now when nothing waits and this turn's budget is not spent, else after those queued before it. */
  run(task: () => void): void {
    if (!this.queue.length && this.withinBudget()) {
      task();
      return;
    }
    this.queue.push(task);
    this.schedule();
  }

  private withinBudget(): boolean {
    if (this.turnStart < 0) {
      this.turnStart = this.now();
      // The turn ends in this iteration's check phase: a task after it starts a new budget.
      this.schedule();
      return true;
    }
    return this.now() - this.turnStart < this.budgetMs;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    this.turnStart = this.now();
    try {
      while (this.queue.length && this.now() - this.turnStart < this.budgetMs) this.queue.shift()!();
    } finally {
      this.turnStart = -1;
      // Left over (or a task threw): the next turn.
      if (this.queue.length) this.schedule();
    }
  }
}
