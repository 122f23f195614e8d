import { useCallback, useEffect, useState } from 'react';
import type { RunDetail } from '@fl/shared/api';
import { api } from '../api';

export interface RunsFeed {
  /** Newest first, as GET /api/runs answers. */
  runs: RunDetail[];
  loaded: boolean;
  error: string | null;
  upsert(run: RunDetail): void;
  refresh(): void;
}

/** Of two copies of a run, the later one: more rounds recorded, or ended. */
function later(a: RunDetail, b: RunDetail): RunDetail {
  if (a.rounds.length !== b.rounds.length) return a.rounds.length > b.rounds.length ? a : b;
  return b.endedAt !== null ? b : a;
}

/** Merges copies of runs; a list answered before a push arrived must not undo that push. */
function merged(current: RunDetail[], incoming: RunDetail[]): RunDetail[] {
  const byId = new Map(current.map((r) => [r.id, r]));
  for (const run of incoming) {
    const known = byId.get(run.id);
    byId.set(run.id, known ? later(known, run) : run);
  }
  return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/** The hub's stored runs; callers keep it current with `upsert` (pushes) and `refresh` (reconnects). */
export function useRuns(): RunsFeed {
  const [runs, setRuns] = useState<RunDetail[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const upsert = useCallback((run: RunDetail) => setRuns((current) => merged(current, [run])), []);

  const refresh = useCallback(() => {
    api
      .runs()
      .then((list) => {
        setRuns((current) => merged(current, list));
        setLoaded(true);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);

  useEffect(refresh, [refresh]);

  return { runs, loaded, error, upsert, refresh };
}

/** A run launched elsewhere (or just now) has no `run:update` until its first round ends, so it is fetched. */
export function useFetchRun(id: string | null, onRun: (run: RunDetail) => void): void {
  useEffect(() => {
    if (!id) return;
    let cancelled = false;
    api
      .run(id)
      .then((run) => {
        if (!cancelled) onRun(run);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [id, onRun]);
}
