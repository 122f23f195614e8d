import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Starts one of the hub's worker threads (`name`: its module beside `base`, without extension). From source (tsx or
 * vitest) its TypeScript is loaded through tsx's API, scoped to that import: a worker does not take on the loader
 * that `node --import tsx` registered for the main thread. No inherited flags: the bench's probe (--import
 * hub-probe.ts) and the like are the main thread's alone.
 */
export function spawnThread(base: string, name: string, workerData?: unknown): Worker {
  const options = { execArgv: [], ...(workerData === undefined ? {} : { workerData }) };
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), options);
  const entry = JSON.stringify(new URL(`./${name}.ts`, base).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((api) => api.tsImport(${entry}, ${entry}))`, { ...options, eval: true });
}

/** Lowers the calling thread's priority (Linux), so that the event loop wins a core it shares with this thread. */
export function niceThisThread(nice: number): void {
  try {
    // /proc/thread-self names this thread's id, and setpriority on a thread id affects that thread alone.
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch {
    // Elsewhere (or not allowed) the thread runs at the hub's priority: it still leaves the event loop free.
  }
}
