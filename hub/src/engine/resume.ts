import { sameShapes, type FlatWeights, type RunSettings } from '@fl/shared';
import type { PrivacyStep } from '@fl/shared/privacy/index';
import { stateMismatch, type OptimizerState } from '../aggregation/server-optimizer';
import { decodeOptimizerState } from '../aggregation/server-optimizer-state';
import type { RoundCheckpoint } from '../store/store';
import type { EngineStore, Evaluator } from './ports';

export interface ResumePlan {
  /** Runs that cannot continue, to be ended with their reason. */
  end: { runId: string; status: 'completed' | 'failed'; reason: string | null }[];
  /** The run to continue from its last completed round, with that round's weights. */
  resume: {
    runId: string;
    settings: RunSettings;
    round: number;
    startedAt: number;
    weights: FlatWeights;
    sha256: string;
    shardOwners: string[] | null;
    /** What the committed rounds spent under differential privacy. */
    privacySpent: PrivacyStep[];
    /** The server optimiser's state after the last completed round; null: start from its initial state. */
    optimizerState: OptimizerState | null;
    /** Why a stateful optimiser's stored state could not be used (it restarts from its initial state), or null. */
    optimizerLost: string | null;
  } | null;
}

/** The server optimiser's state a resumed run continues from: none for fedavg or before round 1, else the checkpoint's. */
function resumedOptimizer(settings: RunSettings, checkpoint: RoundCheckpoint, length: number): { optimizerState: OptimizerState | null; optimizerLost: string | null } {
  const optimizer = settings.serverOptimizer;
  if (optimizer.name === 'fedavg' || checkpoint.round === 0) return { optimizerState: null, optimizerLost: null };
  const lost = (why: string) => ({ optimizerState: null, optimizerLost: `${optimizer.name} state after round ${checkpoint.round} ${why}` });
  if (!checkpoint.optimizerState) return lost('was not stored');
  let state: OptimizerState;
  try {
    state = decodeOptimizerState(checkpoint.optimizerState);
  } catch (error) {
    return lost(`cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const mismatch = stateMismatch(optimizer, length, state);
  return mismatch ? lost(`cannot be used: ${mismatch}`) : { optimizerState: state, optimizerLost: null };
}

/**
 * What a starting hub does with runs that were active when it stopped (a crash, a SIGKILL): the newest
 * continues from its last completed round, older ones and unusable ones end with a reason.
 */
export async function planResume(store: EngineStore, models: Pick<Evaluator, 'shapes'>): Promise<ResumePlan> {
  const interrupted = await store.runsWithStatus('running');
  const end: ResumePlan['end'] = interrupted.slice(0, -1).map((runId) => ({
    runId,
    status: 'failed' as const,
    reason: 'the hub stopped while this run was active, and a later run was active too',
  }));
  const runId = interrupted.at(-1);
  if (!runId) return { end, resume: null };
  const run = (await store.run(runId))!;
  const completed = run.rounds.filter((r) => r.status === 'completed').map((r) => r.round);
  const last = completed.length ? Math.max(...completed) : 0;
  const checkpoint = await store.checkpoint(runId, last);
  if (!checkpoint || !sameShapes(checkpoint.shapes, models.shapes(run.task))) {
    end.push({ runId, status: 'failed', reason: 'the hub stopped during this run and its last checkpoint cannot be used' });
    return { end, resume: null };
  }
  if (last >= run.settings.rounds) {
    end.push({ runId, status: 'completed', reason: null });
    return { end, resume: null };
  }
  const shardOwners = await store.shardOwners(runId);
  return {
    end,
    resume: {
      runId,
      settings: run.settings,
      round: last + 1,
      startedAt: run.createdAt,
      weights: { shapes: checkpoint.shapes, values: checkpoint.values },
      sha256: checkpoint.sha256,
      shardOwners,
      privacySpent: run.rounds.flatMap((r) =>
        r.status === 'completed' && r.privacy ? [{ samplingRate: r.privacy.samplingRate, noiseMultiplier: r.privacy.noiseMultiplier }] : [],
      ),
      ...resumedOptimizer(run.settings, checkpoint, checkpoint.values.length),
    },
  };
}
