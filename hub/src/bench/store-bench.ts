import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, totalSize, type ParticipationRecord, type TaskId } from '@fl/shared';
import { modelShapes } from '@fl/shared/models';
import { resolveSettings } from '@fl/shared/settings';
import { HubStore, type SqliteSynchronous } from '../store/store';

export interface CommitCost {
  meanMs: number;
  medianMs: number;
  p95Ms: number;
}

export interface SynchronousResult {
  task: TaskId;
  params: number;
  checkpointBytes: number;
  rounds: number;
  full: CommitCost;
  normal: CommitCost;
}

function cost(xs: number[]): CommitCost {
  const s = [...xs].sort((a, b) => a - b);
  return {
    meanMs: xs.reduce((a, b) => a + b, 0) / xs.length,
    medianMs: s[s.length >> 1]!,
    p95Ms: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!,
  };
}

/**
 * Commits `rounds` rounds of the task's real checkpoint size through HubStore.completeRound into two
 * stores on the same disk, one per `synchronous` setting, alternating round by round so that the
 * machine's noise falls on both. Times only the commit (the transaction and its fsyncs).
 */
export function benchSynchronous(task: TaskId, rounds: number, clients = 4): SynchronousResult {
  const shapes = modelShapes(task);
  const params = totalSize(shapes);
  const rng = createRng(11);
  const settings: SqliteSynchronous[] = ['FULL', 'NORMAL'];
  // The default DATA_DIR is on the same file system as the OS temp dir here; tmpfs would make fsync free.
  const dirs = settings.map((s) => mkdtempSync(join(tmpdir(), `fl-bench-sync-${s.toLowerCase()}-`)));
  const stores = settings.map((synchronous, i) => new HubStore(dirs[i]!, { synchronous }));
  const times: Record<SqliteSynchronous, number[]> = { FULL: [], NORMAL: [] };
  try {
    const runSettings = resolveSettings({ task, rounds });
    for (const store of stores) store.createRun('bench-run', runSettings, Date.now(), { shapes, values: new Float32Array(params) });
    for (let round = 1; round <= rounds; round++) {
      const values = Float32Array.from({ length: params }, () => rng() - 0.5);
      const participants: ParticipationRecord[] = Array.from({ length: clients }, (_, i) => ({
        round,
        clientId: `client-${i + 1}`,
        name: `bench-${i + 1}`,
        samples: 2000,
        loss: 0.3,
        accuracy: 0.9,
        trainMs: 5000,
        test: null,
      }));
      // FULL first on odd rounds, NORMAL first on even ones.
      const order = round % 2 ? [0, 1] : [1, 0];
      for (const i of order) {
        const start = performance.now();
        stores[i]!.completeRound({
          runId: 'bench-run',
          task,
          round,
          weights: { shapes, values },
          evaluation: 'none',
          durationMs: 5000,
          participants,
          at: Date.now(),
        });
        times[settings[i]!].push(performance.now() - start);
      }
    }
  } finally {
    for (const store of stores) store.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  return { task, params, checkpointBytes: params * 4, rounds, full: cost(times.FULL), normal: cost(times.NORMAL) };
}
