import { afterAll, describe, expect, it } from 'vitest';
import { CodedError, createRng, encodeWeights, seedFromString, type DpSettings } from '@fl/shared';
import { FoldWorker } from '../fold-worker';
import { createRoundAggregator, localSum, type RoundTotal, type SumSpec } from '../round-sum';
import type { FrameExpectation } from '../update-validator';
import { RecordingLogger } from './support/fakes';

const RUN = 'run-1';
const SHAPES = [[3, 4], [4]];
const SIZE = 16;
const expect2 = (over: Partial<FrameExpectation> = {}): FrameExpectation => ({ shapes: SHAPES, task: 'chest-xray', round: 2, runTag: seedFromString(RUN), ...over });
const fedavg = (over: Partial<SumSpec['aggregation']> = {}): SumSpec => ({ aggregation: { strategy: 'fedavg', trimFraction: 0.2, byzantine: 1, clipNorm: null, ...over }, dp: null, participants: 3 });

function frameOf(values: ArrayLike<number>, meta: { round?: number; runId?: string; delta?: boolean; shapes?: number[][] } = {}): Uint8Array {
  return encodeWeights(
    { shapes: meta.shapes ?? SHAPES, values: Float32Array.from(values) },
    { round: meta.round ?? 2, runTag: seedFromString(meta.runId ?? RUN), ...(meta.delta ? { delta: true } : {}) },
  );
}

// One worker for the file (each start loads its TypeScript through tsx); the close test starts its own.
const shared = new FoldWorker(new RecordingLogger());
const foldWorker = () => shared;
afterAll(() => shared.close());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CodedError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal, the check passed');
}

/** The same updates folded on this thread, the reference the worker must match bit for bit. */
function onThisThread(spec: SumSpec, global: Float32Array, updates: { values: Float32Array; weight: number }[]): RoundTotal {
  const sum = localSum(createRoundAggregator(spec, global, global));
  for (const u of updates) sum.add(u.values, u.weight);
  return sum.finish();
}

describe('FoldWorker', () => {
  const rng = createRng(13);
  const global = Float32Array.from({ length: SIZE }, () => rng() - 0.5);
  const updates = Array.from({ length: 5 }, (_, i) => ({ values: Float32Array.from({ length: SIZE }, () => rng() * 2 - 1), weight: 100 + 37 * i }));

  it("adds a relaying node's float64 partial sum in order with the updates folded here: the model one node folding all five gives", async () => {
    // Updates 3..5 were folded on another node: its partial is their weighted sum, in float64.
    const partial = new Float64Array(SIZE);
    for (const u of updates.slice(2)) u.values.forEach((v, i) => (partial[i] = partial[i]! + v * u.weight));
    const weight = updates.slice(2).reduce((w, u) => w + u.weight, 0);
    const sum = foldWorker().open(fedavg(), global, global, expect2());
    for (const u of updates.slice(0, 2)) (await sum.check(frameOf(u.values), u.weight)).fold();
    sum.merge(partial, weight, 3);
    const total = await sum.finish();
    const reference = onThisThread(fedavg(), global, updates);
    const worst = Array.from(total.values).reduce((m, v, i) => Math.max(m, Math.abs(v - reference.values[i]!)), 0);
    expect(worst).toBeLessThan(1e-7);
    // Strategies that need every update take no partial sums: the sum breaks and its finish says why.
    const median = foldWorker().open(fedavg({ strategy: 'median' }), global, global, expect2());
    median.merge(new Float64Array(SIZE), 1, 1);
    await expect(median.finish()).rejects.toThrow(/median needs every update/);
  });

  it.each([
    ['fedavg', fedavg()],
    ['fedavg with clipNorm', fedavg({ clipNorm: 0.5 })],
    ['median', fedavg({ strategy: 'median' })],
    ['trimmed-mean', fedavg({ strategy: 'trimmed-mean' })],
    ['DP-FedAvg (no hub noise)', { ...fedavg(), dp: { noiseMultiplier: 0, clipNorm: 0.3, delta: 1e-5, targetEpsilon: null, noise: 'central' } satisfies DpSettings }],
  ] as const)('gives the model the event loop would, bit for bit: %s', async (_name, spec) => {
    const sum = foldWorker().open(spec, global, global, expect2());
    for (const u of updates) (await sum.check(frameOf(u.values), u.weight)).fold();
    const total = await sum.finish();
    const reference = onThisThread(spec, global, updates);
    expect(Array.from(total.values)).toEqual(Array.from(reference.values));
    expect(total.note).toBe(reference.note);
    expect(total.clipped).toBe(reference.clipped);
  });

  it('loses no low bits: 300 clients weighted by thousands of samples sum as the float64 reference does', async () => {
    // 300 clients of 1.0 at 10,000 samples and one of 1 + 2^-10 at 10^7: float32 sums would lose the small update's bits.
    const spec = fedavg({});
    const one = new Float32Array(SIZE).fill(1);
    const big = new Float32Array(SIZE).fill(1 + 2 ** -10);
    const sum = foldWorker().open(spec, one, one, expect2());
    for (let i = 0; i < 300; i++) (await sum.check(frameOf(one), 10_000)).fold();
    (await sum.check(frameOf(big), 10_000_000)).fold();
    const total = await sum.finish();
    const exact = (300 * 10_000 + 10_000_000 * (1 + 2 ** -10)) / (300 * 10_000 + 10_000_000);
    expect(Array.from(total.values)).toEqual(Array.from({ length: SIZE }, () => Math.fround(exact)));
  });

  it('refuses frames with the validator codes, and a refused or dropped update is never folded', async () => {
    const sum = foldWorker().open(fedavg(), global, global, expect2());
    const nan = Float32Array.from(updates[0]!.values);
    nan[3] = Number.NaN;
    expect(await codeOf(sum.check(frameOf(nan), 10))).toBe('HUB_ERR_NON_FINITE');
    expect(await codeOf(sum.check(frameOf(updates[0]!.values, { shapes: [[4, 4]] }), 10))).toBe('HUB_ERR_SHAPE_MISMATCH');
    expect(await codeOf(sum.check(frameOf(updates[0]!.values, { round: 1 }), 10))).toBe('HUB_ERR_BAD_FRAME');
    expect(await codeOf(sum.check(frameOf(updates[0]!.values, { runId: 'run-0' }), 10))).toBe('HUB_ERR_BAD_FRAME');
    expect(await codeOf(sum.check(new Uint8Array(64), 10))).toBe('HUB_ERR_BAD_FRAME');
    const overflow = new Float32Array(SIZE).fill(3e38);
    const huge = foldWorker().open(fedavg(), overflow, overflow, expect2());
    expect(await codeOf(huge.check(frameOf(overflow, { delta: true }), 10))).toBe('HUB_ERR_NON_FINITE');
    huge.discard();

    (await sum.check(frameOf(updates[1]!.values), 5000)).drop();
    (await sum.check(frameOf(updates[0]!.values), 7)).fold();
    const total = await sum.finish();
    expect(Array.from(total.values)).toEqual(Array.from(onThisThread(fedavg(), global, [{ values: updates[0]!.values, weight: 7 }]).values));
  });

  it('adds a delta to the model the clients received', async () => {
    const base = Float32Array.from(global, (v) => v + 1);
    const sum = foldWorker().open(fedavg(), global, base, expect2());
    (await sum.check(frameOf(updates[0]!.values, { delta: true }), 10)).fold();
    const total = await sum.finish();
    expect(Array.from(total.values)).toEqual(Array.from(updates[0]!.values, (d, i) => Math.fround(base[i]! + d)));
  });

  it('moves a large frame that fills its buffer (the caller keeps a detached view) and copies a small one or a view on a larger buffer', async () => {
    const folds = foldWorker();
    const before = { ...folds.transfers };
    const shapes = [[128, 128]];
    const model = new Float32Array(128 * 128).fill(0.5);
    const sum = folds.open(fedavg(), model, model, expect2({ shapes }));
    const large = frameOf(model, { shapes });
    const checked = sum.check(large, 10);
    expect(large.byteLength).toBe(0);
    (await checked).fold();
    const again = frameOf(model, { shapes });
    // A Node Buffer at an offset in a larger buffer, as ws hands over a message in a socket's read chunk (its slice() is a view).
    const larger = new Uint8Array(again.length + 64);
    larger.set(again, 16);
    const view = Buffer.from(larger.buffer, 16, again.length);
    (await sum.check(view, 10)).fold();
    expect(view.byteLength).toBe(again.length);
    expect(larger.byteLength).toBe(again.length + 64);
    expect(folds.transfers).toEqual({ moved: before.moved + 1, copied: before.copied + 1 });
    expect(Array.from((await sum.finish()).values)).toEqual(Array.from(model));

    const small = frameOf(updates[0]!.values);
    const smallSum = folds.open(fedavg(), global, global, expect2());
    (await smallSum.check(small, 10)).fold();
    expect(small.byteLength).toBeGreaterThan(0);
    expect(folds.transfers).toEqual({ moved: before.moved + 1, copied: before.copied + 2 });
    smallSum.discard();
  });

  it('fails what it still holds when it is closed, and opens nothing after', async () => {
    const folds = new FoldWorker(new RecordingLogger());
    const sum = folds.open(fedavg(), global, global, expect2());
    const pending = expect(sum.check(frameOf(updates[0]!.values), 10)).rejects.toThrow(/shutting down/);
    await folds.close();
    await pending;
    await expect(sum.finish()).rejects.toThrow(/stopped/);
    expect(() => folds.open(fedavg(), global, global, expect2())).toThrow(CodedError);
  });
});
