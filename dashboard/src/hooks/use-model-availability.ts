import { useEffect, useState } from 'react';
import { TASK_IDS, type TaskId } from '@fl/shared/tasks';
import { api } from '../api';

export type Availability = { state: 'checking' } | { state: 'ready' } | { state: 'missing'; reason: string };

/** Asks the hub which tasks have a global model; `version` changes whenever a checkpoint may have been added. */
export function useModelAvailability(version: string): Record<TaskId, Availability> {
  const [availability, setAvailability] = useState<Record<TaskId, Availability>>(() =>
    Object.fromEntries(TASK_IDS.map((t) => [t, { state: 'checking' }])) as Record<TaskId, Availability>,
  );
  useEffect(() => {
    let cancelled = false;
    for (const task of TASK_IDS) {
      void api.modelAvailable(task).then((result) => {
        if (cancelled) return;
        const next: Availability = result.ok ? { state: 'ready' } : { state: 'missing', reason: result.reason };
        setAvailability((current) => ({ ...current, [task]: next }));
      });
    }
    return () => {
      cancelled = true;
    };
  }, [version]);
  return availability;
}
