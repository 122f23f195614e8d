/**
 * Measuring from inside the bench's hub process, loaded with `--import` ahead of src/server.ts by childHub
 * and active only with FL_HUB_PROBE=1: the event loop's stalls, garbage collection, CPU and memory, and each
 * round's commit (HubStore.completeRound is wrapped, so no line of the hub changes). Answers over IPC.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { HubStore } from '../store/store';
import { runQueueWaitMs, watchStalls } from './loop-stalls';
import type { FromHubProbe, HubFigures, ToHubProbe } from './load-protocol';

if (process.env.FL_HUB_PROBE === '1' && process.send) startProbe();

function startProbe(): void {
  const watch = watchStalls({ breakdown: true });
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  let cpuAtReset = cpuMs();
  const waitMs = () => runQueueWaitMs() ?? NaN;
  let waitAtReset = waitMs();
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
  let resetUs = monotonicUs();
  let commits: HubFigures['commits'] = [];
  let evaluations: HubFigures['evaluations'] = [];
  let gc = { count: 0, totalMs: 0, longestMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.longestMs = Math.max(gc.longestMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });

  const completeRound = HubStore.prototype.completeRound;
  HubStore.prototype.completeRound = function (this: HubStore, r) {
    const commitStart = performance.timeOrigin + performance.now();
    const checkpoint = completeRound.call(this, r);
    commits.push({ round: r.round, durationMs: r.durationMs, commitStart, commitEnd: performance.timeOrigin + performance.now(), cpuMs: cpuMs() - cpuAtReset, waitMs: waitMs() - waitAtReset });
    return checkpoint;
  };
  // The hub's held-out evaluation of a round's model runs after its commit, beside the next round: its end is marked.
  for (const name of ['setRoundEvaluation', 'failRoundEvaluation'] as const) {
    const original = HubStore.prototype[name] as (this: HubStore, ...args: unknown[]) => void;
    (HubStore.prototype as unknown as Record<typeof name, (...args: unknown[]) => void>)[name] = function (this: HubStore, ...args: unknown[]) {
      original.apply(this, args);
      evaluations.push({ round: args[1] as number, at: performance.timeOrigin + performance.now() });
    };
  }

  const reply = (message: FromHubProbe) => process.send?.(message);
  process.on('message', (message: ToHubProbe) => {
    if (message.type === 'probe:reset') {
      watch.reset();
      cpuAtReset = cpuMs();
      waitAtReset = waitMs();
      resetUs = monotonicUs();
      commits = [];
      evaluations = [];
      gc = { count: 0, totalMs: 0, longestMs: 0 };
      reply({ type: 'probe:done', id: message.id });
      return;
    }
    if (message.gc) (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    reply({
      type: 'probe:figures',
      id: message.id,
      figures: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        externalBytes: memory.external,
        cpuMs: cpuMs() - cpuAtReset,
        runQueueWaitMs: waitMs() - waitAtReset,
        span: { fromUs: resetUs, toUs: monotonicUs() },
        stalls: watch.stalls(),
        longestStallMs: watch.longestMs(),
        commits,
        evaluations,
        gc,
      },
    });
  });
  // The channel must not keep the hub up once the server closes; a bench that is gone takes its hub with it.
  process.on('disconnect', () => process.exit(1));
  process.channel?.unref();
}
