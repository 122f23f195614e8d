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
  const clientStates: HubStatus['clientStates'] = { idle: 0, training: 0, done: 0, evaluating: 0, lost: 0 };
  for (const c of clients.values()) clientStates[c.state] += 1;
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
          // As many as the client rows: a dashboard marks the participants among the rows it shows.
          participants: run.phase === 'waiting' ? [] : run.participants.length > maxRows ? run.participants.slice(0, maxRows) : run.participants,
          population: run.phase === 'waiting' ? 0 : run.population,
          ...(run.settings.dp
            ? { privacy: { epsilon: privacySpent(run.privacySpent, run.settings.dp.delta).epsilon, delta: run.settings.dp.delta, targetEpsilon: run.settings.dp.targetEpsilon } }
            : {}),
          ...(run.settings.secureAggregation && secure ? { secure: { stage: secure.stage, dropped: [...secure.dropped] } } : {}),
        }
      : null,
    now,
    clientCount: clients.size,
    clientStates,
    clients: firstJoined(clients.values(), maxRows).map((c) => ({
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

/**
 * The `count` clients that joined first, in join order, without sorting all of them: a status of 10,000 clients
 * with 200 rows is pushed several times a second. Ties keep the table's order, as a stable sort would.
 */
function firstJoined<C extends { joinedAt: number }>(clients: Iterable<C>, count: number): C[] {
  const all = [...clients];
  if (all.length <= count) return all.sort((a, b) => a.joinedAt - b.joinedAt);
  const kept: C[] = [];
  for (const c of all) {
    if (kept.length === count && c.joinedAt >= kept[count - 1]!.joinedAt) continue;
    // Insert after every kept client that joined at the same time or earlier (kept stays sorted and stable).
    let at = kept.length;
    while (at > 0 && kept[at - 1]!.joinedAt > c.joinedAt) at--;
    kept.splice(at, 0, c);
    if (kept.length > count) kept.pop();
  }
  return kept;
}

/** A copy, so that no status holder can change the shard book's counts. */
function labelsField(labels: number[] | undefined): { labels?: number[] } {
  return labels ? { labels: [...labels] } : {};
}
