import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_BUDGET, EventBudget, scaledEventBudget, type EventBudgetConfig } from '../event-budget';

function clock(start = 0) {
  let t = start;
  return { now: () => t, set: (at: number) => void (t = at) };
}

const config: EventBudgetConfig = {
  events: { 'round:progress': { burst: 3, perSecond: 2 }, '*': { burst: 1, perSecond: 1 } },
  flood: { refusals: 4, windowMs: 1000 },
};
const takes = (budget: EventBudget, event: string, n: number) => Array.from({ length: n }, () => budget.take(event));

describe('EventBudget', () => {
  it('allows a burst of an event, then refuses it', () => {
    const budget = new EventBudget(config, clock().now);
    expect(takes(budget, 'round:progress', 4)).toEqual(['allowed', 'allowed', 'allowed', 'refused']);
  });

  it('refills at perSecond and never above the burst', () => {
    const c = clock();
    const budget = new EventBudget(config, c.now);
    takes(budget, 'round:progress', 3);
    c.set(499); // 0.998 tokens: not yet one
    expect(budget.take('round:progress')).toBe('refused');
    c.set(1000); // two tokens in one second; the refusal spent nothing
    expect(takes(budget, 'round:progress', 3)).toEqual(['allowed', 'allowed', 'refused']);
    c.set(60_000);
    expect(takes(budget, 'round:progress', 4)).toEqual(['allowed', 'allowed', 'allowed', 'refused']);
  });

  it('keeps a bucket per event, with `*` shared by unknown events', () => {
    const budget = new EventBudget(config, clock().now);
    expect(takes(budget, 'weights:please', 1)).toEqual(['allowed']);
    expect(takes(budget, 'other', 1)).toEqual(['refused']);
    expect(takes(budget, 'round:progress', 3)).toEqual(['allowed', 'allowed', 'allowed']);
  });

  it('says flooding once the refusals within the window reach the threshold', () => {
    const budget = new EventBudget(config, clock().now);
    takes(budget, 'x', 1);
    expect(takes(budget, 'x', 4)).toEqual(['refused', 'refused', 'refused', 'flooding']);
  });

  it('forgets refusals older than the flood window', () => {
    const c = clock();
    const budget = new EventBudget({ ...config, events: { '*': { burst: 0, perSecond: 0 } } }, c.now);
    expect(takes(budget, 'x', 3)).toEqual(['refused', 'refused', 'refused']);
    c.set(1000);
    expect(takes(budget, 'x', 3)).toEqual(['refused', 'refused', 'refused']);
    expect(budget.take('x')).toBe('flooding');
  });

  it('lets a legitimate client through: 2 progress reports a second and one update per round for ten minutes', () => {
    const c = clock();
    const budget = new EventBudget(DEFAULT_EVENT_BUDGET, c.now);
    const verdicts = new Set<string>([budget.take('client:join')]);
    for (let t = 0; t < 600_000; t += 500) {
      c.set(t);
      verdicts.add(budget.take('round:progress'));
      if (t % 5000 === 0) verdicts.add(budget.take('update:submit'));
    }
    expect([...verdicts]).toEqual(['allowed']);
  });

  it('scales every bucket and the flood threshold', () => {
    const scaled = scaledEventBudget(10, config);
    expect(scaled.events['round:progress']).toEqual({ burst: 30, perSecond: 20 });
    expect(scaled.flood).toEqual({ refusals: 40, windowMs: 1000 });
  });
});
