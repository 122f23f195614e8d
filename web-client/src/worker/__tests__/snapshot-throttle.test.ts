import { describe, expect, it } from 'vitest';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { SnapshotThrottle, type ThrottleClock } from '../snapshot-throttle';

/** A clock the test moves by hand; timers fire when it passes them. */
function manualClock() {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  const clock: ThrottleClock = {
    now: () => now,
    later(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => (timers = timers.filter((t) => t !== timer));
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.filter((t) => t.at <= now)) {
      timers = timers.filter((t) => t !== timer);
      timer.fn();
    }
  };
  return { clock, advance, pending: () => timers.length };
}

const idle: ClientSnapshot = {
  connection: 'connected',
  clientId: 'c1',
  phase: 'idle',
  round: null,
  progress: null,
  lastRound: null,
  lastScore: null,
  lastError: null,
  roundsDone: 0,
  cancelled: null,
};

const progress = (batch: number) => ({ epoch: 1, epochs: 1, batch, batches: 100, loss: 1, accuracy: 0.5 });

describe('SnapshotThrottle', () => {
  it('passes on every change beyond progress at once, so no phase is ever skipped', () => {
    const { clock } = manualClock();
    const posted: ClientSnapshot[] = [];
    const throttle = new SnapshotThrottle((s) => posted.push(s), 100, clock);
    const training = { ...idle, phase: 'training' as const };
    const submitting = { ...training, phase: 'submitting' as const };
    const done = { ...submitting, phase: 'idle' as const, roundsDone: 1 };
    for (const s of [idle, training, submitting, done]) throttle.push(s);
    expect(posted.map((s) => s.phase)).toEqual(['idle', 'training', 'submitting', 'idle']);
  });

  it('sends batch progress at most once per interval, and the latest one after it', () => {
    const { clock, advance, pending } = manualClock();
    const posted: ClientSnapshot[] = [];
    const throttle = new SnapshotThrottle((s) => posted.push(s), 100, clock);
    let snapshot: ClientSnapshot = { ...idle, phase: 'training' };
    throttle.push(snapshot);
    for (let batch = 1; batch <= 10; batch++) {
      snapshot = { ...snapshot, progress: progress(batch) };
      throttle.push(snapshot);
      advance(15);
    }
    // 150 ms of 15 ms batches: the first state, then one progress at 100 ms.
    expect(posted.map((s) => s.progress?.batch ?? null)).toEqual([null, 7]);
    advance(100);
    expect(posted.map((s) => s.progress?.batch ?? null)).toEqual([null, 7, 10]);
    expect(pending()).toBe(0);
  });

  it('drops a waiting progress once a newer state went out', () => {
    const { clock, advance } = manualClock();
    const posted: ClientSnapshot[] = [];
    const throttle = new SnapshotThrottle((s) => posted.push(s), 100, clock);
    const training: ClientSnapshot = { ...idle, phase: 'training', progress: progress(1) };
    throttle.push(training);
    throttle.push({ ...training, progress: progress(2) });
    throttle.push({ ...training, phase: 'submitting', progress: progress(2) });
    advance(200);
    expect(posted.map((s) => `${s.phase}:${s.progress?.batch}`)).toEqual(['training:1', 'submitting:2']);
  });
});
