import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWasmBackend } from '../wasm-backend.js';
import { registerWasmConv2DBackpropFilter } from '../wasm-conv2d-backprop-filter.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/** Deterministic N(0,1)-ish data so both backends see identical inputs. */
function randomData(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    // xorshift32, then a cheap sum-of-uniforms approximation of a normal.
    let acc = 0;
    for (let k = 0; k < 3; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      acc += (s >>> 0) / 0xffffffff;
    }
    out[i] = (acc - 1.5) * 2;
  }
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface GradCase {
  xShape: Shape4;
  filterShape: Shape4;
  strides: number;
  pad: Pad;
}

/** dW of sum(conv2d(x, w) * dy) w.r.t. w, computed on `backend` via tf.grad. */
async function filterGrad(
  backend: string,
  c: GradCase,
  xData: Float32Array,
  wData: Float32Array,
  dyData: Float32Array,
  dyShape: Shape4,
): Promise<{ dW: Float32Array; leaked: number }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(xData, c.xShape);
  const w = tf.tensor4d(wData, c.filterShape);
  const dy = tf.tensor4d(dyData, dyShape);
  const g = tf.grad((ww: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, c.strides, c.pad), dy)),
  )(w);
  const dW = (await g.data()) as Float32Array;
  tf.dispose([x, w, dy, g]);
  return { dW, leaked: tf.memory().numTensors - before };
}

function conv2dOutShape(c: GradCase): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad);
  return info.outShape as Shape4;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let maxDiff = 0;
  let maxMag = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    maxMag = Math.max(maxMag, Math.abs(a[i]!));
  }
  return maxDiff / Math.max(1, maxMag);
}

const cases: GradCase[] = [];
for (const strides of [1, 2]) {
  for (const pad of ['same', 'valid'] as const) {
    cases.push({ xShape: [2, 7, 9, 1], filterShape: [3, 3, 1, 4], strides, pad });
    cases.push({ xShape: [2, 7, 9, 3], filterShape: [5, 5, 3, 4], strides, pad });
    cases.push({ xShape: [2, 8, 8, 3], filterShape: [3, 3, 3, 4], strides, pad });
  }
}
// Odd extras: stride 3 with leftover rows, non-square filter/stride, numeric
// and explicit padding.
cases.push({ xShape: [2, 7, 9, 3], filterShape: [3, 3, 3, 4], strides: 3, pad: 'valid' });
cases.push({ xShape: [2, 9, 7, 2], filterShape: [2, 4, 2, 4], strides: 2, pad: 'same' });
cases.push({ xShape: [2, 7, 9, 3], filterShape: [3, 3, 3, 4], strides: 2, pad: 1 });
cases.push({
  xShape: [2, 7, 9, 3],
  filterShape: [3, 3, 3, 4],
  strides: 2,
  pad: [
    [0, 0],
    [2, 0],
    [1, 3],
    [0, 0],
  ],
});

describe('wasm Conv2DBackpropFilter', () => {
  let prevBackend: string;

  beforeAll(async () => {
    prevBackend = tf.getBackend();
    await initWasmBackend();
    expect(tf.getBackend()).toBe('wasm');
  });

  afterAll(async () => {
    if (prevBackend && prevBackend !== 'wasm') await tf.setBackend(prevBackend);
  });

  it('registers idempotently', () => {
    const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    expect(kernel).toBeDefined();
    registerWasmConv2DBackpropFilter();
    registerWasmConv2DBackpropFilter();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(kernel);
  });

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))(
    'matches the cpu gradient for %s',
    async (_name, c) => {
      const dyShape = conv2dOutShape(c);
      const xData = randomData(size(c.xShape), 1);
      const wData = randomData(size(c.filterShape), 2);
      const dyData = randomData(size(dyShape), 3);

      const cpu = await filterGrad('cpu', c, xData, wData, dyData, dyShape);
      const wasm = await filterGrad('wasm', c, xData, wData, dyData, dyShape);

      expect(wasm.dW.length).toBe(size(c.filterShape));
      expect(maxRelDiff(cpu.dW, wasm.dW)).toBeLessThan(1e-4);
      expect(wasm.leaked).toBe(0);
      expect(cpu.leaked).toBe(0);
    },
  );

  it('matches the cpu kernel for NCHW data format (direct kernel call)', async () => {
    const xShape: Shape4 = [2, 3, 7, 9];
    const filterShape: Shape4 = [3, 3, 3, 4];
    const dyShape: Shape4 = [2, 4, 4, 5]; // stride 2, 'same'
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape };
    const run = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor4d(randomData(size(xShape), 4), xShape);
      const dy = tf.tensor4d(randomData(size(dyShape), 5), dyShape);
      const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
      expect(dW.shape).toEqual(filterShape);
      const data = (await dW.data()) as Float32Array;
      tf.dispose([x, dy, dW]);
      expect(tf.memory().numTensors).toBe(before);
      return data;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(maxRelDiff(cpu, wasm)).toBeLessThan(1e-4);
  });

  it('trains a tiny conv model on wasm with decreasing loss and no leaks', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [10, 10, 1],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });

    const n = 16;
    const xs = tf.tensor4d(randomData(n * 100, 7), [n, 10, 10, 1]);
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);

    const losses: number[] = [];
    let tensorsAfterFirst = -1;
    for (let step = 0; step < 15; step++) {
      const loss = await model.trainOnBatch(xs, ys);
      losses.push(Array.isArray(loss) ? loss[0]! : loss);
      if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.9);

    tf.dispose([xs, ys]);
    model.dispose();
  });
});
