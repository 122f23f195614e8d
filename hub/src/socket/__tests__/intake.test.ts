import { describe, expect, it } from 'vitest';
import { Intake } from '../intake';

const turn = () => new Promise<void>((done) => setImmediate(done));

/** A clock each task moves on by `costMs`, so the budget is spent by count, not by this machine's speed. */
function costly(costMs: number) {
  let t = 0;
  return { now: () => t, spend: () => (t += costMs) };
}

describe('Intake', () => {
  it('runs a task at once while the turn has budget, and keeps arrival order past it', async () => {
    const clock = costly(4);
    const intake = new Intake(10, clock.now);
    const ran: number[] = [];
    for (let i = 0; i < 6; i++) intake.run(() => (ran.push(i), clock.spend()));
    // 0, 1, 2 fit in the 10 ms of this turn (0, 4, 8 ms at their start); 3 and after wait, in order.
    expect(ran).toEqual([0, 1, 2]);
    intake.run(() => ran.push(6));
    expect(ran).toEqual([0, 1, 2]);
    for (let i = 0; i < 4 && ran.length < 7; i++) await turn();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('lets timers run between the turns it drains', async () => {
    // Real time here: each task holds the thread for 6 ms, so a 1 ms timer is due at every turn after the first.
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const intake = new Intake(10);
    const order: string[] = [];
    for (let i = 0; i < 8; i++) intake.run(() => (order.push(`task ${i}`), busy(6)));
    setTimeout(() => order.push('timer'), 0);
    for (let i = 0; i < 50 && order.length < 9; i++) await new Promise((done) => setTimeout(done, 5));
    expect(order).toHaveLength(9);
    // Two tasks a turn (at 0 and 6 ms of a 10 ms budget): the timer comes before the last of them, not after all.
    expect(order.indexOf('timer')).toBeGreaterThan(1);
    expect(order.indexOf('timer')).toBeLessThan(8);
    expect(order.filter((x) => x !== 'timer')).toEqual(Array.from({ length: 8 }, (_, i) => `task ${i}`));
  });

  it('runs the rest when a queued task throws', async () => {
    const clock = costly(20);
    const intake = new Intake(10, clock.now);
    const ran: number[] = [];
    intake.run(() => clock.spend());
    const uncaught: unknown[] = [];
    const onError = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onError);
    try {
      intake.run(() => {
        throw new Error('boom');
      });
      intake.run(() => ran.push(1));
      for (let i = 0; i < 4 && ran.length < 1; i++) await turn();
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(ran).toEqual([1]);
    expect(uncaught).toHaveLength(1);
  });
});
