import { sameShapes, type FlatWeights, type RunSettings } from '@fl/shared';
import type { EngineStore, Evaluator } from './ports';

/** Where a new run starts: the task's newest global model when it continues (and still fits), otherwise fresh weights drawn from the run's seed. */
export async function initialWeights(
  store: Pick<EngineStore, 'latestCheckpoint'>,
  models: Pick<Evaluator, 'shapes' | 'freshWeights'>,
  settings: Pick<RunSettings, 'task' | 'init' | 'seed'>,
): Promise<{ weights: FlatWeights; from: string }> {
  const latest = settings.init === 'continue' ? await store.latestCheckpoint(settings.task) : null;
  if (latest && sameShapes(latest.shapes, models.shapes(settings.task))) {
    return { weights: { shapes: latest.shapes, values: latest.values }, from: `${latest.runId}#${latest.round}` };
  }
  return { weights: models.freshWeights(settings.task, settings.seed), from: 'fresh' };
}
