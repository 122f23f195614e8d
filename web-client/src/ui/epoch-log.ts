import type { TaskId } from '@fl/shared/tasks';

/** One finished epoch of one round, as the log shows it. */
export interface EpochEntry {
  runId: string;
  task: TaskId;
  round: number;
  rounds: number;
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
}

/** A run's epochs, newest first; `dropped` counts the older ones no longer shown. */
export interface RunGroup {
  runId: string;
  task: TaskId;
  rounds: number;
  entries: EpochEntry[];
  dropped: number;
}

export interface EpochLogLimits {
  /** Runs kept, the newest. */
  runs: number;
  /** Epoch lines kept per run, the newest. */
  perRun: number;
}

export const EPOCH_LOG_LIMITS: EpochLogLimits = { runs: 3, perRun: 20 };

/**
 * The log after `entry`, newest run first: grouped by run and bounded, so a tab that trains for days keeps a
 * short page. The same epoch logged twice (a re-sent round:start) is kept once.
 */
export function addEpoch(groups: RunGroup[], entry: EpochEntry, limits: EpochLogLimits = EPOCH_LOG_LIMITS): RunGroup[] {
  const known = groups.find((g) => g.runId === entry.runId);
  if (known?.entries.some((e) => e.round === entry.round && e.epoch === entry.epoch)) return groups;
  const group = known ?? { runId: entry.runId, task: entry.task, rounds: entry.rounds, entries: [], dropped: 0 };
  const entries = [entry, ...group.entries];
  const kept = entries.slice(0, limits.perRun);
  const updated = { ...group, entries: kept, dropped: group.dropped + entries.length - kept.length };
  return [updated, ...groups.filter((g) => g.runId !== entry.runId)].slice(0, limits.runs);
}
