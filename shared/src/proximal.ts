import * as tf from '@tensorflow/tfjs';
import { CodedError } from './errors';

/**
 * FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"): the local objective gains
 * (mu / 2) * ||w - w_global||^2, so each step's gradient gains mu * (w - w_global).
 */
export interface ProximalTerm {
  /** The proximal weight; > 0 (0 means plain local training and never reaches this module). */
  mu: number;
  /** The global model the round started from, flat in `model.weights` order (as readWeights gives it). */
  anchor: Float32Array;
}

/**
 * One training step of a compiled single-output model with the proximal gradient added, under the model's own
 * optimizer (exact FedProx under Adam too, unlike a decoupled pull after the step). Mirrors trainOnBatch:
 * the same loss, regularisers and metrics, evaluated with `training: true`, and the same returned numbers
 * (the loss without the proximal term, then each metric), so progress reads alike with and without it.
 */
export class ProximalStep {
  private constructor(
    private readonly model: tf.LayersModel,
    private readonly mu: number,
    private readonly variables: tf.Variable[],
    private readonly anchors: tf.Tensor[],
  ) {}

  /** Holds the anchor of each trainable weight as a tensor until `dispose`. */
  static create(model: tf.LayersModel, term: ProximalTerm): ProximalStep {
    if (!(Number.isFinite(term.mu) && term.mu > 0)) throw new CodedError('HUB_ERR_INVALID_SETTINGS', `proximal mu must be > 0, got ${term.mu}`);
    if (model.outputs.length !== 1) throw new CodedError('HUB_ERR_INVALID_SETTINGS', 'the proximal step trains single-output models only');
    const offsets = new Map<tf.LayerVariable, number>();
    let total = 0;
    for (const weight of model.weights) {
      offsets.set(weight, total);
      total += weight.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    }
    if (total !== term.anchor.length) {
      throw new CodedError('HUB_ERR_SHAPE_MISMATCH', `the proximal anchor holds ${term.anchor.length} values, the model ${total}`);
    }
    const trainable = model.trainableWeights;
    const anchors = trainable.map((weight) => {
      const shape = weight.shape.map((d) => d ?? 1);
      const at = offsets.get(weight)!;
      return tf.tensor(term.anchor.subarray(at, at + shape.reduce((a, b) => a * b, 1)), shape, 'float32');
    });
    // LayerVariable.read() is typed as a Tensor but is the tf.Variable the optimizer updates.
    const variables = trainable.map((weight) => weight.read() as tf.Variable);
    return new ProximalStep(model, term.mu, variables, anchors);
  }

  /** Trains on one batch; the caller keeps and disposes `xs` and `ys`. Returns [loss, ...metrics] as trainOnBatch does. */
  async run(xs: tf.Tensor, ys: tf.Tensor): Promise<number[]> {
    const { model, variables, anchors, mu } = this;
    const optimizer = model.optimizer;
    const lossFn = lossOf(model);
    const metrics: tf.Tensor[] = [];
    const { value, grads } = optimizer.computeGradients(() => {
      const out = model.apply(xs, { training: true }) as tf.Tensor;
      let loss = tf.mean(lossFn(ys, out));
      for (const [metric] of model.metricsTensors) metrics.push(tf.keep(tf.mean(metric(ys, out))));
      for (const penalty of model.calculateLosses()) loss = tf.add(loss, penalty);
      return loss as tf.Scalar;
    }, variables);
    const adjusted = tf.tidy(() => {
      const out: tf.NamedTensorMap = {};
      variables.forEach((v, i) => (out[v.name] = tf.add(grads[v.name]!, tf.mul(tf.sub(v, anchors[i]!), mu))));
      return out;
    });
    tf.dispose(grads);
    optimizer.applyGradients(adjusted);
    tf.dispose(adjusted);
    const numbers: number[] = [];
    for (const t of [value, ...metrics]) numbers.push((await t.data())[0]!);
    tf.dispose([value, ...metrics]);
    return numbers;
  }

  dispose(): void {
    tf.dispose(this.anchors);
  }
}

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The compiled loss: a LayersModel keeps it in lossFunctions, a Sequential only on its private inner model, so by name. */
function lossOf(model: tf.LayersModel): LossFn {
  const compiled = (model.lossFunctions as LossFn[] | undefined)?.[0];
  if (compiled) return compiled;
  if (typeof model.loss === 'function') return model.loss;
  if (model.loss === 'categoricalCrossentropy') return tf.metrics.categoricalCrossentropy;
  throw new CodedError('HUB_ERR_INVALID_SETTINGS', `the proximal step does not know the loss ${JSON.stringify(model.loss)}`);
}
