import * as tf from '@tensorflow/tfjs';
import type { TaskId } from './tasks';
import type { RunSettings } from './settings';
import type { FlatWeights } from './weight-codec';
import { MNIST_CLASSES, MNIST_IMAGE_SIZE } from './data/mnist-format';

/** Chest X-Ray images are resized to this square input unless a model is built for another size. */
export const CHEST_XRAY_DEFAULT_SIZE = 64;
export const CHEST_XRAY_CLASSES = ['NORMAL', 'PNEUMONIA'] as const;

export interface ModelOptions {
  /** Side of the square grayscale input (chest-xray only). */
  imageSize?: number;
  /** Draws the initial weights from this seed (the run's), so every hub starts a run with the same model; unseeded: random. */
  seed?: number;
}

/** The kernel initialiser of a model's `layer`-th weighted layer: `name`'s distribution, seeded per layer when `seed` is given. */
function kernel(name: 'varianceScaling' | 'glorotNormal', seed: number | undefined, layer: number) {
  if (seed === undefined) return { kernelInitializer: name };
  const layerSeed = (Math.imul(seed >>> 0, 2654435761) + layer * 40503) >>> 0;
  return { kernelInitializer: name === 'varianceScaling' ? tf.initializers.varianceScaling({ seed: layerSeed }) : tf.initializers.glorotNormal({ seed: layerSeed }) };
}

/** The small CNN of the TF.js MNIST example (~6k parameters). */
export function createMnistModel(seed?: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE, 1],
      kernelSize: 5,
      filters: 8,
      activation: 'relu',
      ...kernel('varianceScaling', seed, 0),
    }),
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.conv2d({ kernelSize: 5, filters: 16, activation: 'relu', ...kernel('varianceScaling', seed, 1) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: MNIST_CLASSES, activation: 'softmax', ...kernel('varianceScaling', seed, 2) }));
  return model;
}

/** A four-block CNN for grayscale chest X-rays; the input side is configurable. */
export function createChestXrayModel(imageSize = CHEST_XRAY_DEFAULT_SIZE, seed?: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [imageSize, imageSize, 1], kernelSize: 3, filters: 16, padding: 'same', activation: 'relu', ...kernel('glorotNormal', seed, 0) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.conv2d({ kernelSize: 3, filters: 32, padding: 'same', activation: 'relu', ...kernel('glorotNormal', seed, 1) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.conv2d({ kernelSize: 3, filters: 32, padding: 'same', activation: 'relu', ...kernel('glorotNormal', seed, 2) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.conv2d({ kernelSize: 3, filters: 64, padding: 'same', activation: 'relu', ...kernel('glorotNormal', seed, 3) }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: CHEST_XRAY_CLASSES.length, activation: 'softmax', ...kernel('glorotNormal', seed, 4) }));
  return model;
}

/** A fresh, uncompiled model for a task. Never a shared singleton. */
export function createModel(task: TaskId, options: ModelOptions = {}): tf.LayersModel {
  switch (task) {
    case 'mnist':
      return createMnistModel(options.seed);
    case 'chest-xray':
      return createChestXrayModel(options.imageSize, options.seed);
    default: {
      const _exhaustive: never = task;
      throw new Error(`unknown task ${String(_exhaustive)}`);
    }
  }
}

/** Compiles for local training with the run's optimizer and learning rate. */
export function compileForTraining(model: tf.LayersModel, settings: Pick<RunSettings, 'optimizer' | 'learningRate'>): void {
  const optimizer =
    settings.optimizer === 'sgd' ? tf.train.sgd(settings.learningRate) : tf.train.adam(settings.learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}

/** The weights of a model, flattened in model order. */
export function readWeights(model: tf.LayersModel): FlatWeights {
  const tensors = model.getWeights();
  const shapes = tensors.map((t) => [...t.shape]);
  const total = tensors.reduce((n, t) => n + t.size, 0);
  const values = new Float32Array(total);
  let offset = 0;
  for (const t of tensors) {
    values.set(t.dataSync() as Float32Array, offset);
    offset += t.size;
  }
  return { shapes, values };
}

/** Loads flat weights into a model; throws if the shapes are not the model's. */
export function writeWeights(model: tf.LayersModel, weights: FlatWeights): void {
  const current = model.weights;
  if (current.length !== weights.shapes.length) {
    throw new Error(`model has ${current.length} weight tensors, got ${weights.shapes.length}`);
  }
  tf.tidy(() => {
    let offset = 0;
    const tensors = weights.shapes.map((shape, i) => {
      const expected = current[i]!.shape;
      if (expected.length !== shape.length || expected.some((d, j) => d !== shape[j])) {
        throw new Error(`weight ${i} has shape [${shape}], the model expects [${expected}]`);
      }
      const size = shape.reduce((a, b) => a * b, 1);
      const t = tf.tensor(weights.values.subarray(offset, offset + size), shape, 'float32');
      offset += size;
      return t;
    });
    model.setWeights(tensors);
  });
}

/** The weight shapes of a task's model, built once and thrown away. */
export function modelShapes(task: TaskId, options: ModelOptions = {}): number[][] {
  const model = createModel(task, options);
  const shapes = model.weights.map((w) => w.shape.map((d) => d ?? 0));
  model.dispose();
  return shapes;
}
