import { describe, expect, it } from 'vitest';
import { WindowCounter } from '../window-counter';

function clock(start = 0) {
  let t = start;
  return {
    now: () => t,
    set: (at: number) => {
      t = at;
    },
  };
}

const hits = (counter: WindowCounter, key: string, n: number) => Array.from({ length: n }, () => counter.hit(key));

describe('WindowCounter', () => {
  it('allows `limit` hits per key within a window and refuses the rest', () => {
    const c = clock(1000);
    const counter = new WindowCounter(3, 60_000, c.now);
    expect(hits(counter, 'a', 5)).toEqual([true, true, true, false, false]);
  });

  it('keeps refusing until windowMs after the window began, then starts a new window', () => {
    const c = clock(1000);
    const counter = new WindowCounter(2, 60_000, c.now);
    expect(hits(counter, 'a', 3)).toEqual([true, true, false]);
    c.set(1000 + 59_999);
    expect(counter.hit('a')).toBe(false);
    c.set(1000 + 60_000);
    expect(hits(counter, 'a', 3)).toEqual([true, true, false]);
  });

  it('starts a window at its first hit, not at a fixed boundary', () => {
    const c = clock(0);
    const counter = new WindowCounter(1, 1000, c.now);
    expect(counter.hit('a')).toBe(true);
    c.set(1500); // new window from 1500 to 2500
    expect(counter.hit('a')).toBe(true);
    c.set(2400);
    expect(counter.hit('a')).toBe(false);
    c.set(2500);
    expect(counter.hit('a')).toBe(true);
  });

  it('counts refused hits too (a key hammering the limit does not get extra hits)', () => {
    const c = clock(0);
    const counter = new WindowCounter(2, 1000, c.now);
    hits(counter, 'a', 10);
    c.set(999);
    expect(counter.hit('a')).toBe(false);
  });

  it('keeps keys independent', () => {
    const c = clock(0);
    const counter = new WindowCounter(2, 1000, c.now);
    expect(hits(counter, 'a', 3)).toEqual([true, true, false]);
    expect(hits(counter, 'b', 2)).toEqual([true, true]);
    c.set(500);
    expect(counter.hit('b')).toBe(false);
    expect(counter.hit('c')).toBe(true);
    c.set(1000); // a and b get new windows; c's began at 500
    expect(counter.hit('a')).toBe(true);
    expect(counter.hit('b')).toBe(true);
    expect(hits(counter, 'c', 2)).toEqual([true, false]);
  });

  it('refuses everything with a limit of 0', () => {
    const counter = new WindowCounter(0, 1000, clock().now);
    expect(hits(counter, 'a', 2)).toEqual([false, false]);
  });

  it('forgets expired windows once it tracks more than 10,000 keys, and still counts the live ones', () => {
    const c = clock(0);
    const counter = new WindowCounter(1, 1000, c.now);
    for (let i = 0; i < 10_000; i++) counter.hit(`old-${i}`);
    c.set(500);
    expect(counter.hit('live')).toBe(true);
    c.set(1200); // the old windows have expired, live's has not
    counter.hit('new'); // the 10,002nd key: prunes
    const size = (counter as unknown as { windows: Map<string, unknown> }).windows.size;
    expect(size).toBe(2);
    expect(counter.hit('live')).toBe(false);
    expect(counter.hit('new')).toBe(false);
    expect(counter.hit('old-0')).toBe(true);
  });
});
