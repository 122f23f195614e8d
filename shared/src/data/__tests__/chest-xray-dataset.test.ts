import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../random';
import { balancedEpochOrder, createChestXrayDataset } from '../chest-xray-dataset';

function countLabels(order: number[], labels: Uint8Array): [number, number] {
  let ones = 0;
  for (const p of order) ones += labels[p]!;
  return [order.length - ones, ones];
}

describe('balancedEpochOrder', () => {
  it('draws both classes equally from a 1:3 imbalanced split, as many samples as it holds', () => {
    const labels = Uint8Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 0 : 1));
    const order = balancedEpochOrder(labels, createRng(7));
    expect(order).toHaveLength(400);
    expect(countLabels(order, labels)).toEqual([200, 200]);
  });

  it('uses every minority image before repeating any, and no majority image twice', () => {
    const labels = Uint8Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 0 : 1));
    const order = balancedEpochOrder(labels, createRng(11));
    const uses = new Map<number, number>();
    for (const p of order) uses.set(p, (uses.get(p) ?? 0) + 1);
    const minority = [...uses].filter(([p]) => labels[p] === 0).map(([, n]) => n);
    expect(minority).toHaveLength(100);
    expect(minority.every((n) => n === 2)).toBe(true);
    expect([...uses].filter(([p]) => labels[p] === 1).every(([, n]) => n === 1)).toBe(true);
  });

  it('mixes the classes instead of sending one class per batch', () => {
    const labels = Uint8Array.from({ length: 200 }, (_, i) => (i < 50 ? 0 : 1));
    const firstBatch = balancedEpochOrder(labels, createRng(3)).slice(0, 32);
    const [normal, pneumonia] = countLabels(firstBatch, labels);
    expect(normal).toBeGreaterThan(4);
    expect(pneumonia).toBeGreaterThan(4);
  });

  it('falls back to a plain shuffle when a class is absent', () => {
    const labels = new Uint8Array(10).fill(1);
    expect([...balancedEpochOrder(labels, createRng(1))].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });
});

describe('createChestXrayDataset', () => {
  const size = 4;
  const labels = Uint8Array.from([0, 1, 1]);
  const pixels = Uint8Array.from({ length: 3 * size * size }, (_, i) => Math.floor(i / (size * size)) * 100);

  it('builds [n, size, size, 1] batches scaled to 0..1 with one-hot labels, class 1 = PNEUMONIA', async () => {
    const dataset = createChestXrayDataset({ pixels, labels, imageSize: size }, { balanced: false });
    const { xs, ys } = dataset.batch([2, 0]);
    expect(xs.shape).toEqual([2, size, size, 1]);
    const x = await xs.data();
    expect(x[0]).toBeCloseTo(200 / 255);
    expect(x[size * size]).toBe(0);
    expect(Array.from(await ys.data())).toEqual([0, 1, 1, 0]);
    tf.dispose([xs, ys]);
  });

  it('balances only the training set; the test split keeps its natural order', () => {
    expect(createChestXrayDataset({ pixels, labels, imageSize: size }, { balanced: false }).epochOrder).toBeUndefined();
    expect(createChestXrayDataset({ pixels, labels, imageSize: size }, { balanced: true }).epochOrder).toBeTypeOf('function');
  });

  it('refuses pixel buffers that do not match the labels', () => {
    expect(() => createChestXrayDataset({ pixels: new Uint8Array(5), labels, imageSize: size }, { balanced: true })).toThrow(/expected 3 x 16/);
  });

  it('leaves no tensors behind once a batch is disposed', () => {
    const dataset = createChestXrayDataset({ pixels, labels, imageSize: size }, { balanced: true });
    const before = tf.memory().numTensors;
    const { xs, ys } = dataset.batch([0, 1, 2]);
    tf.dispose([xs, ys]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
