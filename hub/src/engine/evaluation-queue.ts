import type { FlatWeights, TaskId } from '@fl/shared';
import type { EngineStore, Evaluator, Logger } from './ports';

export interface EvaluationJob {
  runId: string;
  task: TaskId;
  round: number;
  /** The round's global model; read from its checkpoint when absent (a round left pending by a restart). */
  weights?: FlatWeights;
}

/**
 * Held-out evaluations of committed rounds, one at a time, off the round's critical path. A round's
 * state stays 'pending' in the store until its result is stored, so a hub that stops first evaluates it
 * at the next start. After `close()` nothing is stored: a result still computing is dropped.
 */
export class EvaluationQueue {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;

  constructor(
    private readonly deps: { store: EngineStore; evaluator: Evaluator; log: Logger; onStored: (runId: string) => void },
  ) {}

  get size(): number {
    return this.queued;
  }

  enqueue(job: EvaluationJob): void {
    if (this.closed) return;
    this.queued += 1;
    // A store error on one round is logged and leaves it pending (evaluated at the next start); later rounds still run.
    this.tail = this.tail
      .then(() => this.run(job))
      .catch((error: unknown) => this.deps.log.error({ err: error, runId: job.runId, round: job.round }, 'evaluation not stored'))
      .finally(() => {
        this.queued -= 1;
      });
  }

  /** Resolves when every queued evaluation is stored (or dropped by close). */
  async idle(): Promise<void> {
    while (this.queued > 0 && !this.closed) await this.tail;
  }

  close(): void {
    this.closed = true;
  }

  private async run(job: EvaluationJob): Promise<void> {
    if (this.closed) return;
    const { store, evaluator, log, onStored } = this.deps;
    const weights = job.weights ?? (await store.checkpoint(job.runId, job.round));
    if (!weights) {
      log.warn({ runId: job.runId, round: job.round }, 'evaluation skipped: the round checkpoint is gone');
      await store.failRoundEvaluation(job.runId, job.round);
      safely(log, () => onStored(job.runId));
      return;
    }
    try {
      const result = await evaluator.evaluate(job.task, weights);
      if (this.closed) return;
      if (result) {
        await store.setRoundEvaluation(job.runId, job.round, result.accuracy, result.loss);
        log.info({ runId: job.runId, round: job.round, accuracy: result.accuracy }, 'round evaluated');
      } else {
        await store.failRoundEvaluation(job.runId, job.round);
      }
    } catch (error) {
      if (this.closed) return;
      log.error({ err: error, runId: job.runId, round: job.round }, 'evaluation failed');
      await store.failRoundEvaluation(job.runId, job.round);
    }
    safely(log, () => onStored(job.runId));
  }
}

/** Runs a notification; its failure is logged and never reaches the caller (a committed round stays committed). */
export function safely(log: Logger, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    log.error({ err: error }, 'a listener failed');
  }
}
