import { beforeAll, describe, expect, it } from 'vitest';
import type { TaskId } from '../tasks';
import { createModel, readWeights } from '../models';
import { initWasmBackend } from '../tfjs/wasm-backend';

/** The initial weights of a fresh model of `task`, built and disposed. */
function fresh(task: TaskId, seed?: number): Float32Array {
  const model = createModel(task, seed === undefined ? {} : { seed });
  try {
    return readWeights(model).values;
  } finally {
    model.dispose();
  }
}

describe('createModel: initial weights', () => {
  beforeAll(async () => {
    await initWasmBackend();
  });

  it.each(['mnist', 'chest-xray'] as const)('%s: the same seed gives the same weights, another seed or none other ones', (task) => {
    const a = fresh(task, 7);
    expect(Array.from(fresh(task, 7))).toEqual(Array.from(a));
    expect(Array.from(fresh(task, 8))).not.toEqual(Array.from(a));
    expect(Array.from(fresh(task))).not.toEqual(Array.from(fresh(task)));
    // Seeded or not, the kernels are drawn (not zero) with a spread of the same order.
    const spread = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(spread(a)).toBeGreaterThan(0);
    expect(spread(a) / spread(fresh(task))).toBeGreaterThan(0.5);
    expect(spread(a) / spread(fresh(task))).toBeLessThan(2);
  });
});
