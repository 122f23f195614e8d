/**
 * One load-worker process of the capacity bench (forked by load-fleet.ts): it holds its share of the
 * lightweight clients, so that no client shares the hub's process or the bench's, and reports their round
 * timings in epoch ms over IPC. It runs at a lower priority, so where it and the hub want the same core the
 * hub gets it: the bench measures the hub, not its load generator.
 */
import { setPriority } from 'node:os';
import { startLightweightClients, type LightweightPool, type RoundTimings } from './lightweight-clients';
import type { EpochRoundTimings } from './capacity-figures';
import { runQueueWaitMs, watchStalls } from './loop-stalls';
import type { FromLoadWorker, ToLoadWorker } from './load-protocol';

const WORKER_NICE = 10;

if (!process.send) throw new Error('load-worker.ts runs as a forked child of the capacity bench');
try {
  setPriority(WORKER_NICE);
} catch {
  // Not allowed here: the worker runs at the hub's priority, which only makes the figure more pessimistic.
}
const send = (message: FromLoadWorker) => process.send?.(message);
// A bench that is gone (killed, or past a timeout) takes its workers with it.
process.on('disconnect', () => process.exit(0));
const watch = watchStalls({ thresholdMs: 50 });
let pool: LightweightPool | null = null;
const cpuMs = () => {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
};
let cpuAtJoin = 0;
let waitAtJoin = 0;
const disconnects: Record<string, number> = {};

process.on('message', (message: ToLoadWorker) => {
  switch (message.type) {
    case 'start':
      startLightweightClients(message.hubUrl, message.count, message.delayMs, { firstIndex: message.from }).then(
        (started) => {
          pool = started;
          for (const socket of started.sockets) socket.on('disconnect', (reason) => void (disconnects[reason] = (disconnects[reason] ?? 0) + 1));
          // The worker's own stalls from here on: while the hub runs rounds, not while the clients join.
          watch.reset();
          cpuAtJoin = cpuMs();
          waitAtJoin = runQueueWaitMs() ?? NaN;
          send({ type: 'joined', count: started.sockets.length });
        },
        (error: unknown) => send({ type: 'failed', error: String(error) }),
      );
      return;
    case 'report': {
      // performance.now of this process to epoch ms, comparable with the other workers' and the hub's.
      const epoch = (t: number) => performance.timeOrigin + t;
      const rounds = [...(pool?.timings() ?? new Map<number, RoundTimings>())].map(([round, t]): [number, EpochRoundTimings] => [
        round,
        { firstReceived: epoch(t.firstReceived), lastReceived: epoch(t.lastReceived), lastEmitted: epoch(t.lastEmitted), lastAcked: epoch(t.lastAcked) },
      ]);
      send({
        type: 'report',
        rounds,
        refused: pool?.refused() ?? 0,
        cpuMs: cpuMs() - cpuAtJoin,
        rssBytes: process.memoryUsage().rss,
        runQueueWaitMs: (runQueueWaitMs() ?? NaN) - waitAtJoin,
        disconnects,
        longestStallMs: watch.longestMs(),
      });
      return;
    }
    case 'close':
      pool?.close();
      setTimeout(() => process.exit(0), 100);
      return;
    default: {
      const _exhaustive: never = message;
      throw new Error(`unknown message ${JSON.stringify(_exhaustive)}`);
    }
  }
});
