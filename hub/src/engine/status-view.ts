import type { HubStatus } from '@fl/shared';
import { privacySpent } from '@fl/shared/privacy/index';
import { hubPhase } from './round-reducer';
import type { EngineState } from './engine-types';
import type { SecureStage } from './secure-round';

/**
 * What GET /api/status and the dashboards show of the engine's state, at the hub's clock `now`;
 * `labelsOf` gives a client's MNIST label histogram (the shard book's), undefined where it has none.
 */
export function statusView(
  state: EngineState,
  now: number,
  secure: { stage: SecureStage; dropped: string[] } | null = null,
  labelsOf: (clientId: string) => number[] | undefined = () => undefined,
  /** Client rows to include (in join order); the counts always cover every client. */
  maxRows = Infinity,
): HubStatus {
  const { run, clients } = state;
  const all = [...clients.values()];
  const clientStates: HubStatus['clientStates'] = { idle: 0, training: 0, done: 0, evaluating: 0, lost: 0 };
  for (const c of all) clientStates[c.state] += 1;
  return {
    status: hubPhase(state),
    run: run
      ? {
          id: run.id,
          task: run.settings.task,
          round: run.round,
          rounds: run.settings.rounds,
          settings: run.settings,
          deadline: run.deadline,
          participants: run.phase === 'waiting' ? [] : run.participants,
          population: run.phase === 'waiting' ? 0 : run.population,
          ...(run.settings.dp
            ? { privacy: { epsilon: privacySpent(run.privacySpent, run.settings.dp.delta).epsilon, delta: run.settings.dp.delta, targetEpsilon: run.settings.dp.targetEpsilon } }
            : {}),
          ...(run.settings.secureAggregation && secure ? { secure: { stage: secure.stage, dropped: [...secure.dropped] } } : {}),
        }
      : null,
    now,
    clientCount: all.length,
    clientStates,
    clients: all
      .sort((a, b) => a.joinedAt - b.joinedAt)
      .slice(0, maxRows)
      .map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        task: c.data?.task ?? null,
        samples: c.samples,
        data: c.data,
        backend: c.backend,
        state: c.state,
        progress: c.progress,
        lastSeen: c.lastSeen,
        lastMetrics: c.lastMetrics,
        ...labelsField(labelsOf(c.id)),
      })),
  };
}

/** A copy, so that no status holder can change the shard book's counts. */
function labelsField(labels: number[] | undefined): { labels?: number[] } {
  return labels ? { labels: [...labels] } : {};
}
