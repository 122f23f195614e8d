import { describe, expect, it } from 'vitest';
import { threadSchedMs, watchStalls } from '../loop-stalls';

describe('watchStalls with a breakdown', () => {
  it("records a stall the loop's own work caused, with the main thread's CPU inside it", async () => {
    const watch = watchStalls({ breakdown: true });
    try {
      await new Promise((done) => setTimeout(done, 30));
      const end = performance.now() + 120;
      while (performance.now() < end); // holds the loop, on the CPU
      await new Promise((done) => setTimeout(done, 30));
      const stall = [...watch.stalls()].sort((a, b) => b.ms - a.ms)[0]!;
      expect(stall.ms).toBeGreaterThanOrEqual(100);
      expect(threadSchedMs()).not.toBeNull(); // Linux's /proc/thread-self/schedstat, as on every machine the tests run on
      // What it ran and what it waited for a core make up the stall's interval (its length plus one tick at most).
      expect(stall.cpuMs! + stall.waitMs!).toBeGreaterThan(stall.ms * 0.9);
      expect(stall.cpuMs! + stall.waitMs!).toBeLessThanOrEqual(stall.ms + 10 + 5);
      expect(stall.cpuMs!).toBeGreaterThan(0);
    } finally {
      watch.stop();
    }
  });
});
