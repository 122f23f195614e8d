import * as tf from '@tensorflow/tfjs';
import { scoredByClients, type FlatWeights, type TaskId } from '@fl/shared';
import { CHEST_XRAY_DEFAULT_SIZE, createModel, readWeights, writeWeights } from '@fl/shared/models';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { loadMnistSplit } from '../data/mnist-files';
import { EvaluationWorker } from './evaluation-worker';
import { heldOutScore } from './held-out';

export interface CentralEvaluation {
  accuracy: number;
  loss: number;
}

/** TF.js layers artifacts of a task's global model, served as model.json + weights.bin. */
export interface ExportedModel {
  modelJson: Record<string, unknown>;
  weightsBin: Uint8Array;
}

const modelOptions = (task: TaskId) => (task === 'chest-xray' ? { imageSize: CHEST_XRAY_DEFAULT_SIZE } : {});

/**
 * The hub's TF.js side (wasm backend in Node): fresh weights, shapes, central evaluation on the
 * 2,000 held-out MNIST digits, and export in TF.js layers format.
 */
export class ModelService {
  private readonly shapesByTask = new Map<TaskId, number[][]>();

  private constructor(
    private readonly mnistTest: { images: Uint8Array; labels: Uint8Array },
    private readonly initialWeights: ((task: TaskId) => FlatWeights) | undefined,
    /** Where held-out evaluations run: a thread of their own (default), or this thread when null. */
    private readonly thread: EvaluationWorker | null,
  ) {}

  static async create(mnistDir: string, initialWeights?: (task: TaskId) => FlatWeights, options: { evaluationThread?: boolean } = {}): Promise<ModelService> {
    await initWasmBackend();
    const test = await loadMnistSplit(mnistDir, 'test');
    return new ModelService(test, initialWeights, options.evaluationThread === false ? null : new EvaluationWorker(mnistDir));
  }

  /** Starts the evaluation thread now (see EvaluationWorker.warm). */
  warm(): void {
    this.thread?.warm();
  }

  /** Stops the evaluation thread; an evaluation still running there fails. */
  async close(): Promise<void> {
    await this.thread?.close();
  }

  shapes(task: TaskId): number[][] {
    let shapes = this.shapesByTask.get(task);
    if (!shapes) {
      shapes = this.freshWeights(task).shapes;
      this.shapesByTask.set(task, shapes);
    }
    return shapes;
  }

  freshWeights(task: TaskId, seed?: number): FlatWeights {
    if (this.initialWeights) return this.initialWeights(task);
    const model = createModel(task, { ...modelOptions(task), ...(seed !== undefined ? { seed } : {}) });
    try {
      return readWeights(model);
    } finally {
      model.dispose();
    }
  }

  /** The hub holds test data for MNIST only; chest X-ray models are scored by the clients. */
  evaluates(task: TaskId): boolean {
    return !scoredByClients(task);
  }

  /** Held-out accuracy and loss of a global model; null for tasks evaluated by their clients. */
  async evaluate(task: TaskId, weights: FlatWeights): Promise<CentralEvaluation | null> {
    if (!this.evaluates(task)) return null;
    if (this.thread) return this.thread.evaluate(task, weights);
    return heldOutScore(task, weights, this.mnistTest);
  }

  async export(task: TaskId, weights: FlatWeights): Promise<ExportedModel> {
    const model = createModel(task, modelOptions(task));
    try {
      writeWeights(model, weights);
      let artifacts: tf.io.ModelArtifacts | null = null;
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          artifacts = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      const saved = artifacts as tf.io.ModelArtifacts | null;
      if (!saved?.weightData || !saved.weightSpecs) throw new Error('TF.js produced no weights to export');
      const data = saved.weightData;
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(tf.io.concatenateArrayBuffers(data));
      return {
        modelJson: {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: saved.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
        },
        weightsBin: bytes,
      };
    } finally {
      model.dispose();
    }
  }
}
