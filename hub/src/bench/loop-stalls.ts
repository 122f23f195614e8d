/**
 * An interval-drift probe of this process's event loop: a 10 ms timer that fires late by more than the
 * threshold records a stall (when it ended, how long the loop was held). Unref'd: it never keeps a process up.
 */
import { readFileSync } from 'node:fs';
import type { Stall } from './capacity-figures';

/** A task's CPU time and run-queue wait so far (ms) from a Linux schedstat file; null where it cannot be read. */
function schedstat(path: string): { cpuMs: number; waitMs: number } | null {
  try {
    const [cpu, wait] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(cpu) && Number.isFinite(wait) ? { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6 } : null;
  } catch {
    return null;
  }
}

/**
 * Time this process's main thread has waited in the run queue for a core (Linux /proc/self/schedstat), in ms;
 * null where that is not available. Where it grows, a stall is the machine's other load, not this process's work.
 */
export function runQueueWaitMs(): number | null {
  return schedstat('/proc/self/schedstat')?.waitMs ?? null;
}

/** The calling thread's CPU time and run-queue wait so far (ms, Linux /proc/thread-self/schedstat); null elsewhere. */
export function threadSchedMs(): { cpuMs: number; waitMs: number } | null {
  return schedstat('/proc/thread-self/schedstat');
}

export interface StallWatch {
  /** Stalls since the last reset, oldest first (the first `max` of them). */
  stalls(): Stall[];
  /** The longest lateness seen since the last reset, recorded or not (ms). */
  longestMs(): number;
  reset(): void;
  stop(): void;
}

/**
 * With `breakdown`, each stall also carries what the main thread did in the interval it spans (the ticks before
 * and after it): ran (cpuMs, the loop's own work) and sat runnable without a core (waitMs, the machine's other load).
 */
export function watchStalls(options: { intervalMs?: number; thresholdMs?: number; max?: number; breakdown?: boolean } = {}): StallWatch {
  const intervalMs = options.intervalMs ?? 10;
  const thresholdMs = options.thresholdMs ?? 20;
  const max = options.max ?? 20_000;
  let stalls: Stall[] = [];
  let longest = 0;
  let last = performance.now();
  let sched = options.breakdown ? threadSchedMs() : null;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - intervalMs;
    last = now;
    const before = sched;
    if (before) sched = threadSchedMs();
    if (late > longest) longest = late;
    if (late > thresholdMs && stalls.length < max) {
      const stall: Stall = { at: performance.timeOrigin + now, ms: late };
      if (before && sched) Object.assign(stall, { cpuMs: sched.cpuMs - before.cpuMs, waitMs: sched.waitMs - before.waitMs });
      stalls.push(stall);
    }
  }, intervalMs);
  timer.unref();
  return {
    stalls: () => stalls,
    longestMs: () => longest,
    reset: () => {
      stalls = [];
      longest = 0;
    },
    stop: () => clearInterval(timer),
  };
}
