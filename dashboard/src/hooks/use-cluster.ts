import { useEffect, useState } from 'react';
import type { ClusterNode } from '@fl/shared/api';
import { api, ApiError } from '../api';

export type ClusterState = { state: 'loading' } | { state: 'ready'; nodes: ClusterNode[] } | { state: 'error'; reason: string };

/** The hub nodes, polled every `intervalMs` while the page holds the admin token (GET /api/cluster needs it). */
export function useCluster(token: string | null, intervalMs = 5000): ClusterState {
  const [cluster, setCluster] = useState<ClusterState>({ state: 'loading' });
  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    const load = () =>
      api.cluster(token).then(
        ({ nodes }) => !cancelled && setCluster({ state: 'ready', nodes }),
        (error: unknown) => !cancelled && setCluster({ state: 'error', reason: error instanceof ApiError ? error.message : String(error) }),
      );
    void load();
    const timer = setInterval(() => void load(), intervalMs);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [token, intervalMs]);
  return cluster;
}
