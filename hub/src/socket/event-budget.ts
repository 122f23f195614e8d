/** A token bucket: `burst` events at once, refilled at `perSecond`. */
export interface BucketSpec {
  burst: number;
  perSecond: number;
}

export interface EventBudgetConfig {
  /** One bucket per event name; `*` covers any other (unknown) event. */
  events: Record<string, BucketSpec>;
  /** A connection refused this many times within `windowMs` is disconnected. */
  flood: { refusals: number; windowMs: number };
}

/**
 * Sized for legitimate clients with headroom: progress is throttled to 2/s by the clients, a join
 * happens at connect and on rename, data changes on a folder load, one update per round.
 */
export const DEFAULT_EVENT_BUDGET: EventBudgetConfig = {
  events: {
    'client:join': { burst: 10, perSecond: 0.5 },
    'client:data': { burst: 10, perSecond: 1 },
    'round:progress': { burst: 20, perSecond: 5 },
    'update:submit': { burst: 20, perSecond: 5 },
    'eval:submit': { burst: 20, perSecond: 5 },
    // One of each per secure round.
    'secagg:keys': { burst: 10, perSecond: 2 },
    'secagg:shares': { burst: 10, perSecond: 2 },
    'secagg:masked': { burst: 10, perSecond: 2 },
    'secagg:reveal': { burst: 10, perSecond: 2 },
    '*': { burst: 10, perSecond: 1 },
  },
  flood: { refusals: 50, windowMs: 10_000 },
};

/** The default budget with every bucket and the flood threshold multiplied (tests that flood on purpose). */
export function scaledEventBudget(factor: number, base: EventBudgetConfig = DEFAULT_EVENT_BUDGET): EventBudgetConfig {
  const events = Object.fromEntries(
    Object.entries(base.events).map(([event, b]) => [event, { burst: b.burst * factor, perSecond: b.perSecond * factor }]),
  );
  return { events, flood: { refusals: base.flood.refusals * factor, windowMs: base.flood.windowMs } };
}

export type BudgetVerdict = 'allowed' | 'refused' | 'flooding';

/** One connection's budget: pure, the clock is passed in. */
export class EventBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private refusals: number[] = [];

  constructor(
    private readonly config: EventBudgetConfig,
    private readonly now: () => number,
  ) {}

  /** Spends one token of the event's bucket; 'flooding' once refusals pass the flood threshold. */
  take(event: string): BudgetVerdict {
    const key = event in this.config.events ? event : '*';
    const spec = this.config.events[key] ?? { burst: 0, perSecond: 0 };
    const at = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: spec.burst, at };
    bucket.tokens = Math.min(spec.burst, bucket.tokens + ((at - bucket.at) / 1000) * spec.perSecond);
    bucket.at = at;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'allowed';
    }
    const { refusals, windowMs } = this.config.flood;
    this.refusals = this.refusals.filter((t) => at - t < windowMs);
    this.refusals.push(at);
    return this.refusals.length >= refusals ? 'flooding' : 'refused';
  }
}
