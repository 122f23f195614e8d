import { useCallback, useEffect, useState } from 'react';
import type { RunDetail } from '@fl/shared/api';
import { api } from '../api';
import { mergeRuns } from '../run-merge';

export interface RunsFeed {
  /** Newest first, as GET /api/runs answers. */
  runs: RunDetail[];
  loaded: boolean;
  error: string | null;
  /** A `run:update` push: always the newest copy. */
  upsert(run: RunDetail): void;
  /** A run read by a request (GET, Stop): kept unless a push already brought a later copy. */
  answer(run: RunDetail): void;
  refresh(): void;
}

/** The hub's stored runs; callers keep it current with `upsert` (pushes) and `refresh` (reconnects). */
export function useRuns(): RunsFeed {
  const [runs, setRuns] = useState<RunDetail[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const upsert = useCallback((run: RunDetail) => setRuns((current) => mergeRuns(current, [run], 'push')), []);
  const answer = useCallback((run: RunDetail) => setRuns((current) => mergeRuns(current, [run], 'answer')), []);

  const refresh = useCallback(() => {
    api
      .runs()
      .then((list) => {
        setRuns((current) => mergeRuns(current, list, 'answer'));
        setLoaded(true);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);

  useEffect(refresh, [refresh]);

  return { runs, loaded, error, upsert, answer, refresh };
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
