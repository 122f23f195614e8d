import { describe, expect, it } from 'vitest';
import { createAggregator, type AggregationSettings } from '../aggregator';
import { fedAvg } from '../fedavg';
import { clipToNorm, coordinateMedian, multiKrum, trimmedMean } from '../robust';

const f32 = (...values: number[]) => Float32Array.from(values);

const base: AggregationSettings = { strategy: 'fedavg', trimFraction: 0.2, byzantine: 1, clipNorm: null };
const settings = (overrides: Partial<AggregationSettings>): AggregationSettings => ({ ...base, ...overrides });

const global = f32(1, 1, 1);

// Four honest updates near 1.0; the third one of the five is an attacker: an honest update scaled x1000.
const honest = [f32(1.0, 1.02, 0.97), f32(0.98, 1.0, 1.03), f32(1.01, 0.99, 1.0), f32(0.99, 1.01, 0.98)];
const attacker = { values: honest[0]!.map((v) => v * 1000), samples: 500 };
const updates = [
  { values: honest[0]!, samples: 100 },
  { values: honest[1]!, samples: 200 },
  attacker,
  { values: honest[2]!, samples: 300 },
  { values: honest[3]!, samples: 400 },
];

function aggregate(s: AggregationSettings, items = updates, model = global) {
  const aggregator = createAggregator(s, model);
  for (const u of items) aggregator.add(u.values, u.samples);
  expect(aggregator.count).toBe(items.length);
  return aggregator.finish();
}

const maxDistanceFromOne = (values: Float32Array) => Math.max(...Array.from(values, (v) => Math.abs(v - 1)));

describe('createAggregator: routing', () => {
  it('fedavg equals the batch fedAvg() of the same updates, with no note', () => {
    const result = aggregate(settings({ strategy: 'fedavg' }));
    expect(Array.from(result.values)).toEqual(Array.from(fedAvg(updates)));
    expect(result.note).toBeNull();
  });

  it('median is the coordinate-wise median of the updates (unweighted)', () => {
    const result = aggregate(settings({ strategy: 'median' }));
    expect(Array.from(result.values)).toEqual(Array.from(coordinateMedian(updates.map((u) => u.values))));
    expect(result.note).toBeNull();
  });

  it('trimmed-mean is trimmedMean() with the run\'s trim fraction', () => {
    for (const trimFraction of [0, 0.2, 0.4]) {
      const result = aggregate(settings({ strategy: 'trimmed-mean', trimFraction }));
      expect(Array.from(result.values)).toEqual(Array.from(trimmedMean(updates.map((u) => u.values), trimFraction)));
      expect(result.note).toBeNull();
    }
  });

  it('krum is multi-krum selecting one update', () => {
    const result = aggregate(settings({ strategy: 'krum', byzantine: 1 }));
    expect(Array.from(result.values)).toEqual(Array.from(multiKrum(updates, 1, 1).values));
  });

  it('multi-krum selects n - byzantine updates', () => {
    for (const byzantine of [1, 2]) {
      const result = aggregate(settings({ strategy: 'multi-krum', byzantine }));
      expect(Array.from(result.values)).toEqual(Array.from(multiKrum(updates, byzantine, updates.length - byzantine).values));
    }
  });

  it('the strategies really differ on this data (so the routing checks above can tell them apart)', () => {
    const results = (['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum'] as const).map((strategy) =>
      Array.from(aggregate(settings({ strategy })).values).join(','),
    );
    expect(new Set(results).size).toBe(results.length);
  });
});

describe('createAggregator: one update scaled x1000', () => {
  it('throws fedavg far off', () => {
    expect(maxDistanceFromOne(aggregate(settings({ strategy: 'fedavg' })).values)).toBeGreaterThan(100);
  });

  it.each(['median', 'trimmed-mean', 'multi-krum', 'krum'] as const)('leaves %s within 0.1 of the honest updates', (strategy) => {
    expect(maxDistanceFromOne(aggregate(settings({ strategy })).values)).toBeLessThan(0.1);
  });
});

describe('createAggregator: notes', () => {
  it('names the updates krum kept, 1-based, out of how many', () => {
    const { note } = aggregate(settings({ strategy: 'krum' }));
    const kept = multiKrum(updates, 1, 1).selected[0]!;
    expect(kept).not.toBe(2); // not the attacker
    expect(note).toBe(`krum kept updates ${kept + 1} of 5`);
  });

  it('names the updates multi-krum kept, leaving out the attacker (update 3)', () => {
    expect(aggregate(settings({ strategy: 'multi-krum', byzantine: 1 })).note).toBe('multi-krum kept updates 1, 2, 4, 5 of 5');
  });
});

describe('createAggregator: clipNorm', () => {
  it('clips only the updates whose change exceeds the norm, and the note says how many', () => {
    const result = aggregate(settings({ strategy: 'fedavg', clipNorm: 0.5 }));
    expect(result.note).toBe('1 update(s) clipped to norm 0.5');
    const clipped = updates.map((u) => ({ values: clipToNorm(u.values, global, 0.5).values, samples: u.samples }));
    expect(Array.from(result.values)).toEqual(Array.from(fedAvg(clipped)));
    // Clipping alone already tames the attacker's pull.
    expect(maxDistanceFromOne(result.values)).toBeLessThan(0.5);
  });

  it('counts every clipped update', () => {
    const result = aggregate(settings({ strategy: 'median', clipNorm: 0.01 }));
    expect(result.note).toBe('5 update(s) clipped to norm 0.01');
  });

  it('adds no note when nothing needed clipping', () => {
    expect(aggregate(settings({ strategy: 'fedavg', clipNorm: 1e6 })).note).toBeNull();
    expect(aggregate(settings({ strategy: 'median', clipNorm: 1e6 })).note).toBeNull();
  });

  it('clips before a robust strategy, and joins both notes', () => {
    const result = aggregate(settings({ strategy: 'multi-krum', byzantine: 1, clipNorm: 0.5 }));
    expect(result.note).toBe('1 update(s) clipped to norm 0.5; multi-krum kept updates 1, 2, 4, 5 of 5');
    const clipped = updates.map((u) => ({ values: clipToNorm(u.values, global, 0.5).values, samples: u.samples }));
    expect(Array.from(result.values)).toEqual(Array.from(multiKrum(clipped, 1, 4).values));
  });
});

describe('createAggregator: checks', () => {
  it.each(['fedavg', 'median', 'krum'] as const)('%s rejects an update of the wrong length', (strategy) => {
    const aggregator = createAggregator(settings({ strategy }), global);
    expect(() => aggregator.add(f32(1, 2), 10)).toThrow(/2 values, the model 3/);
    expect(aggregator.count).toBe(0);
  });

  it.each(['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum'] as const)('%s throws when finished without updates', (strategy) => {
    expect(() => createAggregator(settings({ strategy }), global).finish()).toThrow(/no updates/);
  });
});
