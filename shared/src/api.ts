import type { TaskId } from './tasks';
import type { RunSettings } from './settings';
import type { BackendInfo, ClientData, ClientKind, EvalMetrics } from './payloads';

/** Client rows in the dashboard's live status: counts cover the rest, so a hub of 10,000 tabs pushes kilobytes, not megabytes. */
export const STATUS_ROWS = 200;

/** The hub's phase, in the words the dashboard shows. */
export type HubPhase = 'idle' | 'waiting' | 'training' | 'aggregating' | 'evaluating';

export type ClientState = 'idle' | 'training' | 'done' | 'evaluating' | 'lost';

export interface ClientProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss?: number;
  accuracy?: number;
}

/** One client as GET /api/status shows it. */
export interface ClientView {
  id: string;
  name: string;
  kind: ClientKind;
  task: TaskId | null;
  /** Training samples: chest-xray images held, or the MNIST shard assigned in the current or last run. */
  samples: number;
  data: ClientData | null;
  backend: BackendInfo;
  state: ClientState;
  progress: ClientProgress | null;
  lastSeen: number;
  lastMetrics: { loss: number; accuracy: number; test?: EvalMetrics } | null;
  /** MNIST: digits of each label 0..9 in the client's shard of the current or last run (they sum to `samples`); absent otherwise. */
  labels?: number[];
}

export interface RunSummary {
  id: string;
  task: TaskId;
  round: number;
  rounds: number;
  settings: RunSettings;
  /** Epoch ms when the current phase ends: the round closes, or the wait for clients gives up. */
  deadline: number;
  /** Client ids picked for the round in flight. */
  participants: string[];
  /** Eligible clients the participants were drawn from (more than the participants with clientsPerRound). */
  population: number;
  /** Differential privacy: the run's epsilon spent so far (committed rounds) against its target. */
  privacy?: { epsilon: number; delta: number; targetEpsilon: number | null };
  /** Secure aggregation: the round's protocol stage and the participants that dropped out of it. */
  secure?: { stage: 'keys' | 'shares' | 'training' | 'unmask' | 'done' | 'failed'; dropped: string[] };
}

/** GET /api/status, and the dashboard's live `hub:status`. */
export interface HubStatus {
  status: HubPhase;
  run: RunSummary | null;
  /** In join order; the dashboard's live status holds the first STATUS_ROWS of them, counted in full below. */
  clients: ClientView[];
  /** Every client the hub knows, and how many are in each state (the rows above may be fewer). */
  clientCount: number;
  clientStates: Record<ClientState, number>;
  /** The hub's clock (epoch ms), so pages can show countdowns and ages without trusting their own. */
  now: number;
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped';

export interface RoundRecord {
  round: number;
  status: 'completed' | 'failed';
  clients: number;
  samples: number;
  /** Held-out accuracy of the global model after the round (MNIST: the hub's 2,000 digits). */
  accuracy: number | null;
  loss: number | null;
  durationMs: number;
  /** Sample-weighted mean of the clients' own test metrics (chest-xray). */
  clientTest: EvalMetrics | null;
  reason: string | null;
  /** What the aggregation strategy did, in words (clipping, Krum's choice). */
  note: string | null;
  /** Whether `accuracy` is in: 'pending' while the hub evaluates the round's model (again after a restart). */
  evaluation: EvalState;
  weightsHash: string | null;
  /** Differential privacy: the run's cumulative epsilon after this round (at the run's delta); null without DP. */
  epsilon: number | null;
  /** Differential privacy: what this round spent (README, "Differential privacy"); null without DP. */
  privacy: RoundPrivacy | null;
}

/** What one DP round did: who was drawn from how many, and the noise that was actually added to the sum. */
export interface RoundPrivacy {
  samplingRate: number;
  /** The noise the sum carried, over clipNorm: below the setting when clients of a distributed-noise round dropped out. */
  noiseMultiplier: number;
  /** Clients drawn for the round, and how many of their changes the sum holds. */
  participants: number;
  survivors: number;
  /** Changes that reached clipNorm (clipped by the client or the hub); null under secure aggregation, where the hub cannot see them. */
  clipped: number | null;
}

/** Where a round's held-out evaluation stands; 'none' for failed rounds. */
export type EvalState = 'pending' | 'done' | 'failed' | 'none';

/** GET /api/runs/:id */
export interface RunDetail {
  id: string;
  task: TaskId;
  status: RunStatus;
  settings: RunSettings;
  createdAt: number;
  endedAt: number | null;
  reason: string | null;
  /** The clients' score of the model the run started from (chest X-ray), before round 1 trained it. */
  initialTest: EvalMetrics | null;
  rounds: RoundRecord[];
}

export interface ParticipationRecord {
  round: number;
  clientId: string;
  name: string;
  samples: number;
  loss: number;
  accuracy: number;
  trainMs: number;
  test: EvalMetrics | null;
}

/** One hub node of a cluster (GET /api/cluster); a single hub is a cluster of one, its own leader. */
export interface ClusterNode {
  id: string;
  /** Where the other nodes reach it. */
  url: string;
  pid: number;
  /** Holds the engine lease: it runs the rounds; the others stand by. */
  leader: boolean;
  /** Training clients connected to it. */
  clients: number;
}
