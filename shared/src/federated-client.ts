import * as tf from '@tensorflow/tfjs';
import type { Socket } from 'socket.io-client';
import type {
  BackendInfo,
  ClientData,
  ClientKind,
  ClientToHubEvents,
  EvalMetrics,
  HubToClientEvents,
  JoinReply,
  RoundStart,
} from './contract';
import { modelEvaluateChecker, roundCancelChecker, roundModelChecker, roundStartChecker, roundWeights, secAggMessageChecker, type ModelEvaluate, type RoundModel } from './contract';
import { SecureRoundClient, StageMailbox } from './secure-round-client';
import { CodedError, isErrorResponse, type AckResponse, type ErrorBody } from './errors';
import { compileForTraining, createModel, readWeights, writeWeights } from './models';
import { evaluateModel, trainLocal, type LocalDataset, type TrainProgress } from './training';
import { decodeWeights, encodeWeights, subtractWeights } from './weight-codec';
import { toBytes } from './validation';
import { binaryMetrics } from './metrics';
import { seedFromString } from './random';
import { addGaussianNoise, clientNoiseStd, clipL2, fixedPointRange } from './privacy/index';
import type { TaskId } from './tasks';
import { localEpochs } from './settings';

/** Where a client's data comes from; the browser tab and the headless client each provide one. */
export interface DataProvider {
  /** What this client holds, as announced to the hub (null: nothing yet). */
  describe(): ClientData | null;
  /** The training set for a round (MNIST: the shard the hub assigned). */
  trainingSet(start: RoundStart): Promise<LocalDataset>;
  /** The client's own test split, scored with each received global model (chest-xray). */
  testSet?(task: TaskId): Promise<LocalDataset | null>;
}

export type ClientPhase = 'idle' | 'loading' | 'evaluating' | 'training' | 'submitting';

/** What a page or log shows about this client. */
export interface ClientSnapshot {
  connection: 'connecting' | 'connected' | 'disconnected';
  clientId: string | null;
  phase: ClientPhase;
  /** `secure`: the round runs secure aggregation (its keys and shares are exchanged in phase 'loading'). */
  round: { runId: string; round: number; rounds: number; task: TaskId; secure?: boolean } | null;
  progress: TrainProgress | null;
  lastRound: { runId: string; round: number; loss: number; accuracy: number; trainMs: number; test?: EvalMetrics } | null;
  /** This client's latest score of a global model on its own test data (the model after `round`). */
  lastScore: ({ runId: string; round: number } & EvalMetrics) | null;
  lastError: ErrorBody | null;
  roundsDone: number;
  /** The hub's last round:cancel for this client's round (the run was stopped, the round failed), until the next round starts. */
  cancelled: { runId: string; round: number; reason: string } | null;
}

export interface FederatedClientOptions {
  socket: Socket<HubToClientEvents, ClientToHubEvents>;
  name: string;
  kind: ClientKind;
  backend: BackendInfo;
  data: DataProvider;
  joinToken?: string;
  /** Lets the page paint and the socket breathe between batches. */
  yieldEvery: () => Promise<void>;
  /** Passed on to trainLocal: yield only once this many ms passed (default 50); 0 yields after every batch. */
  yieldIntervalMs?: number;
  onChange?: (snapshot: ClientSnapshot) => void;
  ackTimeoutMs?: number;
  progressIntervalMs?: number;
  /** Where the id and secret the hub issued are kept between joins (default: in memory). */
  credentials?: CredentialStore;
}

/** The id the hub issued and the secret that proves it; the secret is never shown or logged. */
export interface ClientCredentials {
  clientId: string;
  secret: string;
}

export interface CredentialStore {
  load(): ClientCredentials | null;
  save(credentials: ClientCredentials | null): void;
}

export function memoryCredentialStore(): CredentialStore {
  let held: ClientCredentials | null = null;
  return { load: () => held, save: (c) => void (held = c) };
}

/**
 * The protocol side of a training client, shared by browser tabs and headless clients:
 * joins, trains when a round starts, reports progress, submits its update.
 */
export class FederatedClient {
  private snapshot: ClientSnapshot = {
    connection: 'connecting',
    clientId: null,
    phase: 'idle',
    round: null,
    progress: null,
    lastRound: null,
    lastScore: null,
    lastError: null,
    roundsDone: 0,
    cancelled: null,
  };
  private model: { key: string; model: tf.LayersModel } | null = null;
  /** The round flow in progress; at most one at a time holds the model. */
  private activeRound: RoundFlow | null = null;
  /** Bumped by every round:start, so a start that waited for the previous flow knows whether a newer one came meanwhile. */
  private startTicket = 0;
  private maxUpdateBytes = Infinity;
  /** Secure-aggregation stage messages from the hub, until the round's flow takes them. */
  private readonly mailbox = new StageMailbox();
  /** The last round:model broadcast: the model of the round:start that follows it. */
  private roundModel: RoundModel | null = null;
  private closed = false;
  private readonly ackTimeoutMs: number;
  private readonly progressIntervalMs: number;

  constructor(private readonly options: FederatedClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.progressIntervalMs = options.progressIntervalMs ?? 500;
    const { socket } = options;
    socket.on('connect', () => void this.join());
    socket.on('disconnect', (reason) => {
      this.update({ connection: 'disconnected' });
      // Socket.IO does not reconnect after a server-side disconnect; the hub may be restarting, so try again.
      if (reason === 'io server disconnect' && !this.closed) setTimeout(() => !this.closed && socket.connect(), 2000);
    });
    socket.on('round:model', (model) => {
      const checked = roundModelChecker.check(model);
      if (checked.ok) this.roundModel = checked.value;
    });
    socket.on('round:start', (start) => void this.onRoundStart(start));
    socket.on('model:evaluate', (request) => void this.onModelEvaluate(request));
    for (const event of ['secagg:keyset', 'secagg:shares-in', 'secagg:unmask'] as const) {
      socket.on(event, (message) => {
        const checked = secAggMessageChecker.check(message);
        if (checked.ok) this.mailbox.deliver(event, checked.value);
      });
    }
    socket.on('round:cancel', (cancel) => {
      const checked = roundCancelChecker.check(cancel);
      if (!checked.ok) return;
      const { runId, round, reason } = checked.value;
      const active = this.activeRound;
      if (active && active.runId === runId && active.round === round) {
        active.cancelled = true;
        this.mailbox.cancelAll(`round ${round} was cancelled: ${reason}`);
      }
      const shown = this.snapshot.round;
      if (shown && shown.runId === runId && shown.round === round) this.update({ cancelled: { runId, round, reason } });
    });
    if (socket.connected) void this.join();
  }

  get state(): ClientSnapshot {
    return this.snapshot;
  }

  /** Tells the hub that the data changed (a folder was loaded). */
  async announceData(backend?: BackendInfo): Promise<void> {
    if (!this.snapshot.clientId) return;
    const data = this.options.data.describe();
    const response = await this.request('client:data', backend ? { data, backend } : { data });
    if (isErrorResponse(response)) this.update({ lastError: response.error });
  }

  /** Disconnects and frees the model. */
  close(): void {
    this.closed = true;
    this.options.socket.disconnect();
    const flow = this.activeRound;
    if (flow) flow.cancelled = true;
    // A flow inside trainOnBatch still holds the model: free it once that flow lets go.
    void (flow?.modelReleased ?? Promise.resolve()).then(() => {
      this.model?.model.dispose();
      this.model = null;
    });
  }

  private update(patch: Partial<ClientSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.options.onChange?.(this.snapshot);
  }

  private async request<E extends keyof ClientToHubEvents>(
    event: E,
    payload: Parameters<ClientToHubEvents[E]>[0],
  ): Promise<AckResponse<unknown>> {
    try {
      // The typed emitWithAck cannot express a generic event name; the payload type is checked above.
      const emit = this.options.socket.timeout(this.ackTimeoutMs).emitWithAck as unknown as (
        e: E,
        p: unknown,
      ) => Promise<AckResponse<unknown>>;
      return await emit.call(this.options.socket.timeout(this.ackTimeoutMs), event, payload);
    } catch (error) {
      return { error: { code: 'HUB_ERR_INTERNAL', message: `no answer from the hub to ${event}: ${String(error)}` } };
    }
  }

  private readonly memoryCredentials = memoryCredentialStore();

  private async join(): Promise<void> {
    const { name, kind, backend, joinToken, data } = this.options;
    const store = this.options.credentials ?? this.memoryCredentials;
    const held = store.load();
    const request = {
      name,
      kind,
      backend,
      data: data.describe(),
      ...(held ? { clientId: held.clientId, clientSecret: held.secret } : {}),
      ...(joinToken ? { joinToken } : {}),
    };
    const response = await this.request('client:join', request);
    if (isErrorResponse(response)) {
      // This hub does not know the secret (its data was replaced): start over as a new client.
      if (held && response.error.code === 'HUB_ERR_CLIENT_CLAIMED') {
        store.save(null);
        return this.join();
      }
      this.update({ connection: 'disconnected', lastError: response.error });
      return;
    }
    const reply = response.data as JoinReply;
    if (reply.clientSecret) store.save({ clientId: reply.clientId, secret: reply.clientSecret });
    this.maxUpdateBytes = reply.limits.maxUpdateBytes;
    this.update({ connection: 'connected', clientId: reply.clientId, lastError: null });
  }

  private modelFor(start: RoundStart): tf.LayersModel {
    const data = this.options.data.describe();
    const imageSize = data?.task === 'chest-xray' ? data.imageSize : undefined;
    const key = `${start.settings.task}:${imageSize ?? ''}`;
    if (this.model?.key !== key) {
      this.model?.model.dispose();
      this.model = { key, model: createModel(start.settings.task, imageSize ? { imageSize } : {}) };
    }
    return this.model.model;
  }

  private async onRoundStart(raw: RoundStart): Promise<void> {
    const checked = roundStartChecker.check(raw);
    if (!checked.ok) {
      this.update({ lastError: { code: 'HUB_ERR_INVALID_PAYLOAD', message: `round:start: ${checked.reason}` } });
      return;
    }
    let start: RoundStart;
    try {
      // The model now, inline or from the broadcast just before: a later round's broadcast may replace it.
      start = { ...checked.value, weights: roundWeights(checked.value, this.roundModel) };
    } catch (error) {
      this.update({ lastError: { code: 'HUB_ERR_BAD_FRAME', message: String(error) } });
      return;
    }
    const previous = this.activeRound;
    // The hub re-sends round:start to a participant that reconnects within its round.
    if (previous?.runId === start.runId && previous.round === start.round && !previous.cancelled) {
      // Sent again while this client's update is still unanswered: the hub (restarted, say) does not have it, so it goes again.
      if (previous.resend && !previous.resent) previous.resent = previous.resend();
      return;
    }
    const ticket = ++this.startTicket;
    if (previous) {
      previous.cancelled = true;
      // A secure flow waiting for a stage message of its round would hold the model until its deadline.
      this.mailbox.cancelAll(`round ${start.round} of run ${start.runId} started`);
      // One round at a time: the old flow must let go of the model (and dispose its optimizer) before this one touches it.
      await previous.modelReleased;
    }
    if (ticket !== this.startTicket || this.closed) return;
    let releaseModel!: () => void;
    const modelReleased = new Promise<void>((resolve) => (releaseModel = resolve));
    const flow: RoundFlow = { runId: start.runId, round: start.round, cancelled: false, modelReleased };
    this.activeRound = flow;
    try {
      await this.runRound(start, flow, releaseModel);
    } catch (error) {
      const lastError = { code: 'HUB_ERR_INTERNAL' as const, message: String(error) };
      this.update(this.activeRound === flow ? { phase: 'idle', lastError } : { lastError });
    } finally {
      releaseModel();
      if (this.activeRound === flow) this.activeRound = null;
    }
  }

  /** Trains the round and submits its update; calls `releaseModel` as soon as the model is no longer used. */
  private async runRound(start: RoundStart, flow: RoundFlow, releaseModel: () => void): Promise<void> {
    const roundInfo = { runId: start.runId, round: start.round, rounds: start.rounds, task: start.settings.task, secure: start.secagg !== undefined };
    this.update({ phase: 'loading', round: roundInfo, progress: null, cancelled: null });
    // A cancelled flow goes idle, unless a newer round already shows.
    const stopHere = () => {
      if (flow.cancelled && this.activeRound === flow) this.update({ phase: 'idle', progress: null });
      return flow.cancelled;
    };
    const model = this.modelFor(start);
    const received = decodeWeights(roundWeights(start, null));
    writeWeights(model, received);
    const train = await this.options.data.trainingSet(start);
    if (stopHere()) return;
    let test: EvalMetrics | undefined;
    const testSet = await this.options.data.testSet?.(start.settings.task);
    if (testSet && testSet.size > 0) {
      this.update({ phase: 'evaluating' });
      test = await scoreBinary(model, testSet, start.settings.batchSize, this.options.yieldEvery);
      // The score belongs to the model received, the global model of the round before this one.
      void this.submitScore(start.runId, start.round - 1, test);
    }
    if (stopHere()) return;
    // Secure rounds exchange keys and encrypted shares before anyone trains (README, "Secure aggregation").
    if (start.secagg) this.update({ phase: 'loading' });
    const secure = start.secagg ? await SecureRoundClient.join(start, this.mailbox, (event, payload) => this.request(event, payload as never)) : null;
    if (stopHere()) return;
    this.update({ phase: 'training' });
    compileForTraining(model, { optimizer: start.settings.optimizer, learningRate: start.settings.learningRate });
    // Held here, not read from the model at the end: the model is only this flow's until it releases it.
    const optimizer = model.optimizer;
    let result: Awaited<ReturnType<typeof trainLocal>>;
    let trained: ReturnType<typeof readWeights>;
    try {
      let lastSent = 0;
      result = await trainLocal(model, train, {
        // Whole extra epochs on a small dataset, up to the run's minLocalSteps batches (settings.ts).
        epochs: localEpochs(start.settings, train.size),
        batchSize: start.settings.batchSize,
        seed: start.seed,
        yieldEvery: this.options.yieldEvery,
        yieldIntervalMs: this.options.yieldIntervalMs,
        shouldStop: () => flow.cancelled,
        // FedProx pulls towards the model this round received.
        ...(start.settings.proximalMu > 0 ? { proximal: { mu: start.settings.proximalMu, anchor: received.values } } : {}),
        onProgress: (progress) => {
          this.update({ progress });
          const now = Date.now();
          const last = progress.epoch === progress.epochs && progress.batch === progress.batches;
          if (now - lastSent >= this.progressIntervalMs || last) {
            lastSent = now;
            void this.request('round:progress', { runId: start.runId, round: start.round, ...progress });
          }
        },
      });
      trained = readWeights(model);
    } finally {
      optimizer.dispose();
      releaseModel();
    }
    if (result.stopped || stopHere()) return;
    this.update({ phase: 'submitting' });
    // Rounded: more digits mean nothing and cost bytes on every update.
    const metrics = {
      loss: round4(result.loss),
      accuracy: Number.isFinite(result.accuracy) ? round4(Math.min(1, Math.max(0, result.accuracy))) : 0,
      trainMs: Math.round(result.trainMs),
    };
    const { dp } = start.settings;
    if (secure) {
      const delta = dp ? privateChange(trained.values, received.values, dp, secure) : clipToNorm(subtractWeights(trained.values, received.values), start.settings.clipNorm);
      const answer = await secure.submit(delta, metrics);
      if (!isErrorResponse(answer)) void secure.unmask().catch((error: unknown) => this.unmaskFailed(error));
      this.finishSubmit(flow, start, answer, metrics, test);
      return;
    }
    const { compression } = start.settings;
    const meta = { round: start.round, runTag: seedFromString(start.runId) };
    // Under DP (central noise here) the change leaves clipped; the hub clips again and adds the noise.
    const change = dp ? clipL2(subtractWeights(trained.values, received.values), dp.clipNorm).values : null;
    const sent = change ? { shapes: trained.shapes, values: addInto(received.values, change) } : trained;
    // Lossy formats quantise the change from the received model, which is small and centred on zero.
    const frame =
      compression === 'float32'
        ? encodeWeights(sent, meta)
        : encodeWeights({ shapes: trained.shapes, values: change ?? subtractWeights(trained.values, received.values) }, { ...meta, dtype: compression, delta: true });
    if (frame.byteLength > this.maxUpdateBytes) {
      const message = `the update is ${frame.byteLength} bytes, over the hub's limit of ${this.maxUpdateBytes}`;
      this.update({ phase: 'idle', lastError: { code: 'HUB_ERR_TOO_LARGE', message } });
      return;
    }
    const update = { runId: start.runId, round: start.round, samples: train.size, weights: frame, metrics };
    flow.resend = () => this.request('update:submit', update);
    let response = await this.request('update:submit', update);
    // The hub that never answered may be gone; the one that asked for the round again has the answer that counts.
    if (isErrorResponse(response) && flow.resent) response = await flow.resent;
    this.finishSubmit(flow, start, response, metrics, test);
  }

  /** The hub needs only t reveals and may have moved on before this one arrived: that is no error of this client's. */
  private unmaskFailed(error: unknown): void {
    const late: readonly string[] = ['HUB_ERR_STALE_ROUND', 'HUB_ERR_SECAGG_STAGE', 'HUB_ERR_NO_RUN', 'HUB_ERR_WRONG_RUN'];
    if (error instanceof CodedError && late.includes(error.code)) return;
    if (error instanceof Error && /cancelled|started/.test(error.message)) return;
    this.update({ lastError: { code: error instanceof CodedError ? error.code : 'HUB_ERR_INTERNAL', message: `unmasking: ${String(error)}` } });
  }

  private finishSubmit(flow: RoundFlow, start: RoundStart, response: AckResponse<unknown>, metrics: { loss: number; accuracy: number; trainMs: number }, test: EvalMetrics | undefined): void {
    // A late ack must not hide a round that started meanwhile (the hub acks first, but do not rely on it).
    const phase = this.activeRound === flow ? 'idle' : this.snapshot.phase;
    if (isErrorResponse(response)) {
      this.update({ phase, lastError: response.error });
      return;
    }
    this.update({
      phase,
      lastError: null,
      roundsDone: this.snapshot.roundsDone + 1,
      lastRound: { runId: start.runId, round: start.round, ...metrics, ...(test ? { test } : {}) },
    });
  }

  /** The hub asks for a score of the final model: on a model of its own, so a round flow is never disturbed. */
  private async onModelEvaluate(raw: ModelEvaluate): Promise<void> {
    const checked = modelEvaluateChecker.check(raw);
    if (!checked.ok) {
      this.update({ lastError: { code: 'HUB_ERR_INVALID_PAYLOAD', message: `model:evaluate: ${checked.reason}` } });
      return;
    }
    const request = checked.value;
    const testSet = await this.options.data.testSet?.(request.task);
    if (!testSet || testSet.size === 0) return;
    const data = this.options.data.describe();
    const imageSize = data?.task === 'chest-xray' ? data.imageSize : undefined;
    const model = createModel(request.task, imageSize ? { imageSize } : {});
    try {
      writeWeights(model, decodeWeights(toBytes(request.weights)));
      const test = await scoreBinary(model, testSet, SCORE_BATCH, this.options.yieldEvery);
      await this.submitScore(request.runId, request.round, test);
    } catch (error) {
      this.update({ lastError: { code: 'HUB_ERR_INTERNAL', message: `scoring the final model failed: ${String(error)}` } });
    } finally {
      model.dispose();
    }
  }

  private async submitScore(runId: string, round: number, metrics: EvalMetrics): Promise<void> {
    const response = await this.request('eval:submit', { runId, round, metrics });
    if (isErrorResponse(response)) this.update({ lastError: response.error });
    else if (round > 0) this.update({ lastScore: { runId, round, ...metrics } });
  }
}

/** Batch size for scoring the final model: evaluation holds no gradients, so any size fits. */
const SCORE_BATCH = 32;

/** One round's flow: cancelled by round:cancel or a newer round:start; `modelReleased` settles once it no longer uses the model. */
interface RoundFlow {
  runId: string;
  round: number;
  cancelled: boolean;
  modelReleased: Promise<void>;
  /** Sends the round's update again (set once it was sent); its answer, once resent. */
  resend?: () => Promise<AckResponse<unknown>>;
  resent?: Promise<AckResponse<unknown>>;
}

/** Scores a two-class model on a test split: accuracy, sensitivity, specificity, AUC. */
export async function scoreBinary(
  model: tf.LayersModel,
  dataset: LocalDataset,
  batchSize: number,
  yieldEvery: () => Promise<void>,
): Promise<EvalMetrics> {
  const result = await evaluateModel(model, dataset, batchSize, yieldEvery);
  const positive = new Float32Array(dataset.size);
  for (let i = 0; i < dataset.size; i++) positive[i] = result.probabilities[i * 2 + 1]!;
  return { ...binaryMetrics(result.labels, positive), loss: result.loss };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * DP under secure aggregation: the change clipped to dp.clipNorm and, with distributed noise, this client's share of
 * the Gaussian noise (std z * C / sqrt(n), so the n shares sum to std z * C). Refuses a fixed point too narrow for it,
 * which would cut the noise off.
 */
function privateChange(trained: Float32Array, received: Float32Array, dp: NonNullable<RoundStart['settings']['dp']>, secure: SecureRoundClient): Float32Array {
  const needed = fixedPointRange(dp, secure.participants);
  if (secure.range < needed * (1 - 1e-9)) {
    throw new CodedError('HUB_ERR_SECAGG_RANGE', `the secure round's fixed point covers ${secure.range}, the clipped, noised change needs ${needed}`);
  }
  const delta = clipL2(subtractWeights(trained, received), dp.clipNorm).values;
  const std = clientNoiseStd(dp, secure.participants);
  if (std > 0) addGaussianNoise(delta, std);
  return delta;
}

function addInto(base: Float32Array, change: Float32Array): Float32Array {
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i]! + change[i]!;
  return out;
}

/** Scales a change down to L2 norm `clipNorm` (null: unchanged); under secure aggregation the client clips, since the hub sees only sums. */
function clipToNorm(delta: Float32Array, clipNorm: number | null): Float32Array {
  if (clipNorm === null) return delta;
  let sq = 0;
  for (let i = 0; i < delta.length; i++) sq += delta[i]! * delta[i]!;
  const norm = Math.sqrt(sq);
  if (norm <= clipNorm) return delta;
  const scale = clipNorm / norm;
  for (let i = 0; i < delta.length; i++) delta[i]! *= scale;
  return delta;
}
