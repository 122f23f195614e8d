import { readFileSync } from 'node:fs';

/**
 * CPU time the calling thread has run, in ms (Linux: /proc/thread-self/schedstat), or wall time where that is missing:
 * on a busy machine a thread's wall time counts the time it waited for a core, its CPU time does not.
 */
export function threadCpuMs(): number {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // Not Linux: wall time.
  }
  return performance.now();
}
