/**
 * An interval-drift probe of this process's event loop: a 10 ms timer that fires late by more than the
 * threshold records a stall (when it ended, how long the loop was held). Unref'd: it never keeps a process up.
 */
import { readFileSync } from 'node:fs';
import type { Stall } from './capacity-figures';

/**
 * Time this process's main thread has waited in the run queue for a core (Linux /proc/self/schedstat), in ms;
 * null where that is not available. Where it grows, a stall is the machine's other load, not this process's work.
 */
export function runQueueWaitMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/);
    const ns = Number(fields[1]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}

export interface StallWatch {
  /** Stalls since the last reset, oldest first (the first `max` of them). */
  stalls(): Stall[];
  /** The longest lateness seen since the last reset, recorded or not (ms). */
  longestMs(): number;
  reset(): void;
  stop(): void;
}

export function watchStalls(options: { intervalMs?: number; thresholdMs?: number; max?: number } = {}): StallWatch {
  const intervalMs = options.intervalMs ?? 10;
  const thresholdMs = options.thresholdMs ?? 20;
  const max = options.max ?? 20_000;
  let stalls: Stall[] = [];
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - intervalMs;
    last = now;
    if (late > longest) longest = late;
    if (late > thresholdMs && stalls.length < max) stalls.push({ at: performance.timeOrigin + now, ms: late });
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
