import { describe, expect, it } from 'vitest';
import { statusIntervalMs } from '../coordinator';
import { StatusThrottle } from '../status-throttle';
import { FakeClock } from './support/fakes';

function throttle() {
  const clock = new FakeClock();
  let value = 0;
  const pushes: number[] = [];
  const t = new StatusThrottle(clock, 200, () => value);
  return {
    clock,
    t,
    pushes,
    set: (v: number) => {
      value = v;
      t.changed();
    },
    listen: () => t.subscribe((v) => pushes.push(v)),
  };
}

describe('StatusThrottle', () => {
  it('pushes many changes within one interval once, with the state as it is when the interval ends', () => {
    const { clock, pushes, set, listen } = throttle();
    listen();
    set(1);
    set(2);
    set(3);
    expect(clock.live).toBe(1);
    clock.advance(199);
    expect(pushes).toEqual([]);
    clock.advance(1);
    expect(pushes).toEqual([3]);
    set(4);
    clock.advance(200);
    expect(pushes).toEqual([3, 4]);
  });

  it('arms no timer while nobody listens, nor after the last listener left', () => {
    const { clock, set, listen } = throttle();
    set(1);
    expect(clock.live).toBe(0);
    const unsubscribe = listen();
    unsubscribe();
    set(2);
    expect(clock.live).toBe(0);
  });

  it('a listener that throws is reported and the others still get the push', () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const pushes: number[] = [];
    const t = new StatusThrottle(clock, 200, () => 7, (error) => errors.push(error));
    t.subscribe(() => {
      throw new Error('socket closed');
    });
    t.subscribe((v) => pushes.push(v));
    t.changed();
    expect(() => clock.advance(200)).not.toThrow();
    expect(pushes).toEqual([7]);
    expect(errors).toHaveLength(1);
  });

  it('after close() clears its timer, pushes nothing and arms nothing', () => {
    const { clock, t, pushes, set, listen } = throttle();
    listen();
    set(1);
    t.close();
    expect(clock.live).toBe(0);
    set(2);
    expect(clock.live).toBe(0);
    clock.advance(1000);
    expect(pushes).toEqual([]);
  });

  it('reads a changing interval before each push: a larger client table is pushed less often', () => {
    const clock = new FakeClock();
    let clients = 100;
    const pushes: number[] = [];
    const t = new StatusThrottle(clock, () => statusIntervalMs(clients), () => clients);
    t.subscribe((v) => pushes.push(v));
    t.changed();
    clock.advance(200);
    expect(pushes).toEqual([100]);
    clients = 10_000;
    t.changed();
    clock.advance(999);
    expect(pushes).toEqual([100]);
    clock.advance(1);
    expect(pushes).toEqual([100, 10_000]);
    expect([statusIntervalMs(0), statusIntervalMs(2000), statusIntervalMs(5000), statusIntervalMs(100_000)]).toEqual([200, 200, 500, 1000]);
  });
});
