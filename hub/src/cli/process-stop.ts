import { networkInterfaces } from 'node:os';

/** This machine's first IPv4 address on a network (what other browsers on the LAN reach), or null. */
export function lanAddress(): string | null {
  return (
    Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? null
  );
}

/**
 * Runs `stop` once on the first SIGINT, SIGTERM or SIGHUP (Ctrl-C reaches a process twice under a launcher: from
 * the terminal and forwarded), then exits 0 after `stopped` is printed; with `timeoutMs`, exits 1 when stopping
 * takes longer, printing `late`.
 */
export function stopOnSignals(stop: () => Promise<void>, messages: { stopping?: string; stopped: string; timeoutMs?: number; late?: string }): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      if (messages.stopping) console.log(messages.stopping);
      if (messages.timeoutMs !== undefined) {
        setTimeout(() => {
          console.error(messages.late ?? `did not stop within ${messages.timeoutMs! / 1000} s; exiting`);
          process.exit(1);
        }, messages.timeoutMs).unref();
      }
      void stop().then(() => {
        console.log(messages.stopped);
        process.exit(0);
      });
    });
  }
}
