/**
 * A bench hub in its own process (forked by secagg-bench.ts) that times its secure rounds' stages from the
 * inside: the protocol's close* and finish calls are wrapped, so nothing in the hub's code changes.
 * IPC: sends { url } once listening; answers 'marks' with every round's stage times and the process's CPU.
 */
import { SecAggHub } from '@fl/shared/secagg/index';
import { SecureRound } from '../engine/secure-round';
import { inProcessHub } from './bench-hub';

/** One secure round as the hub saw it (performance.now of this process, ms). */
export interface HubStageMarks {
  round: number;
  /** The first setup frame encoded: the round's round:start messages go out. */
  setup: number;
  keysClosed: number;
  sharesClosed: number;
  maskedClosed: number;
  finishStart: number;
  finishEnd: number;
}

export interface HubChildReport {
  marks: HubStageMarks[];
  /** process.cpuUsage() of the hub process, user + system, in ms. */
  cpuMs: number;
}

const marks = new Map<SecAggHub, HubStageMarks>();
const markOf = (hub: SecAggHub) => marks.get(hub);

const setupFor = SecureRound.prototype.setupFor;
SecureRound.prototype.setupFor = function (this: SecureRound, clientId: string) {
  if (!marks.has(this.hub)) {
    const now = performance.now();
    marks.set(this.hub, { round: this.params.round, setup: now, keysClosed: NaN, sharesClosed: NaN, maskedClosed: NaN, finishStart: NaN, finishEnd: NaN });
  }
  return setupFor.call(this, clientId);
};

function wrapSync<K extends 'closeKeys' | 'closeShares' | 'closeMasked'>(name: K, field: keyof HubStageMarks): void {
  const original = SecAggHub.prototype[name] as (this: SecAggHub) => unknown;
  (SecAggHub.prototype as unknown as Record<K, () => unknown>)[name] = function (this: SecAggHub) {
    const result = original.call(this);
    const m = markOf(this);
    if (m) m[field] = performance.now();
    return result;
  };
}
wrapSync('closeKeys', 'keysClosed');
wrapSync('closeShares', 'sharesClosed');
wrapSync('closeMasked', 'maskedClosed');

const finish = SecAggHub.prototype.finish;
SecAggHub.prototype.finish = async function (this: SecAggHub) {
  const m = markOf(this);
  if (m) m.finishStart = performance.now();
  const result = await finish.call(this);
  if (m) m.finishEnd = performance.now();
  return result;
};

const hub = await inProcessHub();
process.on('message', (message) => {
  if (message === 'marks') {
    const cpu = process.cpuUsage();
    const report: HubChildReport = { marks: [...marks.values()], cpuMs: (cpu.user + cpu.system) / 1000 };
    process.send?.(report);
  }
});
process.on('SIGTERM', () => void hub.close().then(() => process.exit(0)));
process.send?.({ url: hub.url });
