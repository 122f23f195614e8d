import type { FlatWeights, TaskId } from '@fl/shared';
import { createModel, writeWeights } from '@fl/shared/models';
import { evaluateModel } from '@fl/shared/training';
import { createMnistDataset } from '@fl/shared/data/mnist-dataset';

/** Held-out accuracy and loss of a global model on the hub's MNIST test digits (TF.js must be ready). */
export async function heldOutScore(task: TaskId, weights: FlatWeights, test: { images: Uint8Array; labels: Uint8Array }): Promise<{ accuracy: number; loss: number }> {
  const model = createModel(task);
  try {
    writeWeights(model, weights);
    const result = await evaluateModel(model, createMnistDataset(test.images, test.labels), 500);
    return { accuracy: result.accuracy, loss: result.loss };
  } finally {
    model.dispose();
  }
}
