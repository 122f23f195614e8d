import { TASK_IDS, TASK_LABELS } from '@fl/shared/tasks';
import { modelUrls } from '../api';
import type { Availability } from '../hooks/use-model-availability';
import type { TaskId } from '@fl/shared/tasks';

/** Links to each task's newest global model in TF.js layers format; the files keep the names model.json's manifest expects. */
export function ModelDownloads({ availability }: { availability: Record<TaskId, Availability> }) {
  return (
    <ul className="model-list">
      {TASK_IDS.map((task) => {
        const state = availability[task];
        const urls = modelUrls(task);
        const ready = state.state === 'ready';
        return (
          <li key={task} className={`model-row${ready ? '' : ' unavailable'}`} data-testid={`model-${task}`} data-ready={ready}>
            <span className="model-task">{TASK_LABELS[task]}</span>
            {ready ? (
              <span className="model-links">
                <a href={urls.modelJson} download="model.json" data-testid={`model-json-${task}`}>
                  model.json
                </a>
                <a href={urls.weightsBin} download="weights.bin" data-testid={`weights-bin-${task}`}>
                  weights.bin
                </a>
              </span>
            ) : (
              <span className="model-links" aria-disabled="true">
                <span className="link-disabled">model.json</span>
                <span className="link-disabled">weights.bin</span>
                <span className="muted small">{state.state === 'checking' ? 'checking…' : state.reason}</span>
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
