import { sameShapes, type FlatWeights, type RunSettings } from '@fl/shared';
import type { PrivacyStep } from '@fl/shared/privacy/index';
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
  } | null;
}

/**
 * What a starting hub does with runs that were active when it stopped (a crash, a SIGKILL): the newest
 * continues from its last completed round, older ones and unusable ones end with a reason.
 */
export function planResume(store: EngineStore, models: Pick<Evaluator, 'shapes'>): ResumePlan {
  const interrupted = store.runsWithStatus('running');
  const end: ResumePlan['end'] = interrupted.slice(0, -1).map((runId) => ({
    runId,
    status: 'failed' as const,
    reason: 'the hub stopped while this run was active, and a later run was active too',
  }));
  const runId = interrupted.at(-1);
  if (!runId) return { end, resume: null };
  const run = store.run(runId)!;
  const completed = run.rounds.filter((r) => r.status === 'completed').map((r) => r.round);
  const last = completed.length ? Math.max(...completed) : 0;
  const checkpoint = store.checkpoint(runId, last);
  if (!checkpoint || !sameShapes(checkpoint.shapes, models.shapes(run.task))) {
    end.push({ runId, status: 'failed', reason: 'the hub stopped during this run and its last checkpoint cannot be used' });
    return { end, resume: null };
  }
  if (last >= run.settings.rounds) {
    end.push({ runId, status: 'completed', reason: null });
    return { end, resume: null };
  }
  return {
    end,
    resume: {
      runId,
      settings: run.settings,
      round: last + 1,
      startedAt: run.createdAt,
      weights: { shapes: checkpoint.shapes, values: checkpoint.values },
      sha256: checkpoint.sha256,
      shardOwners: store.shardOwners(runId),
      privacySpent: run.rounds.flatMap((r) =>
        r.status === 'completed' && r.privacy ? [{ samplingRate: r.privacy.samplingRate, noiseMultiplier: r.privacy.noiseMultiplier }] : [],
      ),
    },
  };
}
