import { describe, expect, it } from 'vitest';
import { CodedError, SERVER_OPTIMIZER_DEFAULTS, type ServerOptimizerName, type ServerOptimizerSettings } from '@fl/shared';
import { createServerOptimizer, initialOptimizerState, serverNote, type OptimizerState } from '../server-optimizer';
import { decodeOptimizerState, encodeOptimizerState } from '../server-optimizer-state';

const settings = (name: ServerOptimizerName, overrides: Partial<ServerOptimizerSettings> = {}): ServerOptimizerSettings => ({
  ...SERVER_OPTIMIZER_DEFAULTS[name],
  ...overrides,
});

/**
 * Runs rounds as the hub does: each round's combined model is the global model plus that round's change,
 * and the committed step's state is adopted before the next round.
 */
function rounds(s: ServerOptimizerSettings, start: number[], deltas: number[][]) {
  const optimizer = createServerOptimizer(s, start.length);
  let global: Float32Array = Float32Array.from(start);
  const out: { values: number[]; state: OptimizerState | null }[] = [];
  for (const delta of deltas) {
    const combined = Float32Array.from(global, (x, i) => x + delta[i]!);
    const step = optimizer.step(global, combined);
    optimizer.restore(step.state);
    global = step.values;
    out.push({ values: Array.from(step.values), state: step.state });
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]!, `value ${i}`).toBeCloseTo(e, digits));
}

const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

describe('server optimisers', () => {
  it('fedavg at lr 1 returns exactly the combined model, even where global + (combined - global) would round it away', () => {
    const optimizer = createServerOptimizer(settings('fedavg'), 4);
    const global = Float32Array.from([1e30, -3e38, 0.7, 0]);
    const combined = Float32Array.from([1e-30, 3e38, -0.1, 1e-45]);
    const { values, state } = optimizer.step(global, combined);
    expect(bits(values)).toEqual(bits(combined));
    expect(values).not.toBe(combined);
    expect(state).toBeNull();
    expect(optimizer.plain).toBe(true);
    expect(serverNote(optimizer.settings)).toBeNull();
  });

  it('fedavg at lr 0.5 moves half way along the change and keeps no state', () => {
    // Round 1: x = [1, 2] + 0.5 * [2, -2] = [2, 1]. Round 2: x = [2, 1] + 0.5 * [0, 4] = [2, 3].
    const out = rounds(settings('fedavg', { learningRate: 0.5 }), [1, 2], [[2, -2], [0, 4]]);
    expect(out.map((r) => r.values)).toEqual([[2, 1], [2, 3]]);
    expect(out.every((r) => r.state === null)).toBe(true);
    expect(serverNote(settings('fedavg', { learningRate: 0.5 }))).toBe('server fedavg lr 0.5');
  });

  it('fedavgm carries the momentum buffer over rounds, on after the change stops', () => {
    // momentum 0.5, lr 0.5, x0 = [0, 1]:
    // round 1: delta [1, 0]: m = [1, 0],                      x = [0, 1] + 0.5 * m = [0.5, 1]
    // round 2: delta [0, 2]: m = 0.5 * [1, 0] + [0, 2] = [0.5, 2], x = [0.5, 1] + [0.25, 1] = [0.75, 2]
    // round 3: delta [0, 0]: m = [0.25, 1],                   x = [0.75, 2] + [0.125, 0.5] = [0.875, 2.5]
    const out = rounds(settings('fedavgm', { momentum: 0.5, learningRate: 0.5 }), [0, 1], [[1, 0], [0, 2], [0, 0]]);
    expect(out.map((r) => r.values)).toEqual([[0.5, 1], [0.75, 2], [0.875, 2.5]]);
    expect(Array.from(out[2]!.state!.m)).toEqual([0.25, 1]);
    expect(out[2]!.state).toMatchObject({ name: 'fedavgm', step: 3, v: null });
  });

  it('fedadagrad sums squared changes from v = tau^2', () => {
    // beta1 0 (plain Adagrad), lr 1, tau 3, so v starts at 9; x0 = [0, 0]:
    // round 1: delta [4, 0]:  m = [4, 0],  v = [9 + 16, 9] = [25, 9],        x = [4 / (5 + 3), 0] = [0.5, 0]
    // round 2: delta [12, 4]: m = [12, 4], v = [25 + 144, 9 + 16] = [169, 25], x = [0.5 + 12 / (13 + 3), 4 / (5 + 3)] = [1.25, 0.5]
    const out = rounds(settings('fedadagrad', { beta1: 0, learningRate: 1, tau: 3 }), [0, 0], [[4, 0], [12, 4]]);
    expect(out.map((r) => r.values)).toEqual([[0.5, 0], [1.25, 0.5]]);
    expect(Array.from(out[1]!.state!.v!)).toEqual([169, 25]);
    expect(Array.from(out[1]!.state!.m)).toEqual([12, 4]);
  });

  it('fedadagrad with beta1 keeps a decayed first moment', () => {
    // beta1 0.5, lr 1, tau 3; one coordinate from 0: round 1: delta 4: m = 2, v = 25, x = 2 / 8 = 0.25;
    // round 2: delta 0: m = 1, v = 25, x = 0.25 + 1 / 8 = 0.375.
    const out = rounds(settings('fedadagrad', { beta1: 0.5, learningRate: 1, tau: 3 }), [0], [[4], [0]]);
    expect(out.map((r) => r.values)).toEqual([[0.25], [0.375]]);
  });

  it('fedadam decays both moments, without bias correction', () => {
    // beta1 0.5, beta2 0.75, lr 1, tau 2, so v starts at 4; x0 = [0, 0]:
    // a: delta 2, 2, -2: m = 1, 1.5, -0.25; v = 0.75 * 4 + 0.25 * 4 = 4 each round; x = 0.25, 0.625, 0.5625
    // b: delta 0, 4, 0:  m = 0, 2, 1;       v = 3, 2.25 + 4 = 6.25, 4.6875;
    //    x = 0, 2 / (2.5 + 2) = 0.444444, 0.444444 + 1 / (sqrt(4.6875) + 2) = 0.444444 + 0.240092 = 0.684537
    const out = rounds(settings('fedadam', { beta1: 0.5, beta2: 0.75, learningRate: 1, tau: 2 }), [0, 0], [[2, 0], [2, 4], [-2, 0]]);
    expectClose(out[0]!.values, [0.25, 0]);
    expectClose(out[1]!.values, [0.625, 0.444444]);
    expectClose(out[2]!.values, [0.5625, 0.684537]);
    expectClose(out[2]!.state!.m, [-0.25, 1], 12);
    expectClose(out[2]!.state!.v!, [4, 4.6875], 12);
  });

  it('fedyogi moves v towards delta^2 by (1 - beta2) delta^2, leaves it where delta^2 equals it, and never decays it without a change', () => {
    // beta1 0.5, beta2 0.75, lr 1, tau 3, so v starts at 9; x0 = [0, 0, 0]:
    // a: delta 8, 0, 24: 64 > 9: v = 9 + 16 = 25; 0 < 25: v = 25 - 0 = 25; 576 > 25: v = 25 + 144 = 169;
    //    m = 4, 2, 13; x = 4 / 8 = 0.5, 0.5 + 2 / 8 = 0.75, 0.75 + 13 / 16 = 1.5625
    // b: delta 3, 0, 0: 9 = 9: v stays 9 (sign 0), then 9; m = 1.5, 0.75, 0.375; x = 0.25, 0.375, 0.4375
    // c: delta 2, 0, 0: 4 < 9: v = 9 - 1 = 8, then 8; m = 1, 0.5, 0.25; x = k, 1.5k, 1.75k with k = 1 / (sqrt 8 + 3) = 3 - 2 sqrt 2
    const k = 3 - 2 * Math.SQRT2;
    const out = rounds(settings('fedyogi', { beta1: 0.5, beta2: 0.75, learningRate: 1, tau: 3 }), [0, 0, 0], [[8, 3, 2], [0, 0, 0], [24, 0, 0]]);
    expectClose(out[0]!.values, [0.5, 0.25, k]);
    expectClose(out[1]!.values, [0.75, 0.375, 1.5 * k]);
    expectClose(out[2]!.values, [1.5625, 0.4375, 1.75 * k]);
    expectClose(out[2]!.state!.v!, [169, 9, 8], 12);
    // Adam on the same changes would have decayed b's v to 0.75 * 9 after round 2.
    expect(out[2]!.state).toMatchObject({ name: 'fedyogi', step: 3 });
  });

  it('starts from m = 0 and v = tau^2, and fedavg from no state', () => {
    const adam = initialOptimizerState(settings('fedadam', { tau: 0.01 }), 3)!;
    expect(Array.from(adam.m)).toEqual([0, 0, 0]);
    expect(Array.from(adam.v!)).toEqual([0.01 * 0.01, 0.01 * 0.01, 0.01 * 0.01]);
    expect(initialOptimizerState(settings('fedavgm'), 3)!.v).toBeNull();
    expect(initialOptimizerState(settings('fedavg'), 3)).toBeNull();
  });

  it('changes nothing on step: only restore adopts the new state', () => {
    const optimizer = createServerOptimizer(settings('fedavgm', { momentum: 0.5 }), 1);
    const first = optimizer.step(Float32Array.from([0]), Float32Array.from([1]));
    expect(Array.from(optimizer.state()!.m)).toEqual([0]);
    // A round that failed to commit: the same step again gives the same model.
    expect(bits(optimizer.step(Float32Array.from([0]), Float32Array.from([1])).values)).toEqual(bits(first.values));
    optimizer.restore(first.state);
    expect(Array.from(optimizer.state()!.m)).toEqual([1]);
  });

  it('notes every optimiser but plain fedavg in the round record', () => {
    expect(serverNote(settings('fedadam'))).toBe('server fedadam lr 0.03');
    expect(serverNote(settings('fedavgm'))).toBe('server fedavgm lr 1');
  });

  it('fails the step with HUB_ERR_INTERNAL instead of committing a non-finite weight', () => {
    const optimizer = createServerOptimizer(settings('fedavg', { learningRate: 100 }), 1);
    expect(() => optimizer.step(Float32Array.from([0]), Float32Array.from([3e38]))).toThrow(CodedError);
  });
});

describe('server optimiser state', () => {
  for (const name of ['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'] as const) {
    it(`round-trips ${name}'s state bit for bit, and a restored optimiser steps like the original`, () => {
      const s = settings(name);
      const deltas = [[0.3, -0.2, 1e-7], [-0.1, 0.4, 0], [0.05, 0.05, -3]];
      const original = createServerOptimizer(s, 3);
      let global: Float32Array = Float32Array.from([0.1, 0.2, 0.3]);
      for (const delta of deltas) {
        const step = original.step(global, Float32Array.from(global, (x, i) => x + delta[i]!));
        original.restore(step.state);
        global = step.values;
      }
      const bytes = encodeOptimizerState(original.state()!);
      expect(bytes.byteLength).toBe(16 + 3 * 8 * (name === 'fedavgm' ? 1 : 2));
      const decoded = decodeOptimizerState(bytes);
      expect(decoded.name).toBe(name);
      expect(decoded.step).toBe(3);
      expect(Array.from(decoded.m)).toEqual(Array.from(original.state()!.m));
      expect(decoded.v && Array.from(decoded.v)).toEqual(original.state()!.v && Array.from(original.state()!.v!));

      const restored = createServerOptimizer(s, 3);
      restored.restore(decoded);
      const fresh = createServerOptimizer(s, 3);
      const combined = Float32Array.from(global, (x) => x + 0.01);
      expect(bits(restored.step(global, combined).values)).toEqual(bits(original.step(global, combined).values));
      // A state lost in a restart shows: the same round from a fresh state gives another model.
      expect(bits(fresh.step(global, combined).values)).not.toEqual(bits(original.step(global, combined).values));
    });
  }

  it('decodes a state from inside a larger buffer (as SQLite hands back a Buffer)', () => {
    const state: OptimizerState = { name: 'fedadam', step: 7, m: Float64Array.from([1.5, -2]), v: Float64Array.from([0.25, 4]) };
    const bytes = encodeOptimizerState(state);
    const padded = new Uint8Array(bytes.byteLength + 3);
    padded.set(bytes, 3);
    expect(decodeOptimizerState(padded.subarray(3))).toEqual(state);
  });

  it('refuses truncated or foreign bytes with HUB_ERR_INTERNAL', () => {
    const bytes = encodeOptimizerState({ name: 'fedyogi', step: 1, m: Float64Array.from([1, 2]), v: Float64Array.from([3, 4]) });
    const code = (b: Uint8Array) => {
      try {
        decodeOptimizerState(b);
      } catch (error) {
        return (error as CodedError).code;
      }
      return 'decoded';
    };
    expect(code(bytes)).toBe('decoded');
    expect(code(bytes.subarray(0, bytes.byteLength - 8))).toBe('HUB_ERR_INTERNAL');
    expect(code(Uint8Array.from([...bytes.subarray(0, 4).reverse(), ...bytes.subarray(4)]))).toBe('HUB_ERR_INTERNAL');
    const otherVersion = Uint8Array.from(bytes);
    otherVersion[4] = 2;
    expect(code(otherVersion)).toBe('HUB_ERR_INTERNAL');
  });

  it('refuses to restore a state of another optimiser or another model', () => {
    const adam = createServerOptimizer(settings('fedadam'), 2);
    const yogiState = initialOptimizerState(settings('fedyogi'), 2);
    expect(() => adam.restore(yogiState)).toThrow(/fedyogi's, the run uses fedadam/);
    expect(() => adam.restore(initialOptimizerState(settings('fedadam'), 3))).toThrow(/3 values, the model 2/);
    expect(() => adam.restore(null)).toThrow(/needs its state/);
    expect(() => createServerOptimizer(settings('fedavg'), 2).restore(yogiState)).toThrow(/keeps no state/);
  });
});
