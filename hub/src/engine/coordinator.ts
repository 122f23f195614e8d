import {
  CodedError,
  addWeights,
  decodeWeights,
  encodeWeights,
  firstNonFinite,
  partitionByLabel,
  partitionIid,
  resolveSettings,
  sameShapes,
  seedFromString,
  toBytes,
  weightedEvalMean,
  type DataChange,
  type FlatWeights,
  type HubStatus,
  type HubToClientEvents,
  type JoinReply,
  type JoinRequest,
  type LaunchRequest,
  type ParticipationRecord,
  type RoundProgress,
  type UpdateReceipt,
  type UpdateSubmit,
} from '@fl/shared';
import { encodeShard } from '@fl/shared/data/mnist-dataset';
import { createAggregator, type Aggregator } from '../aggregation/aggregator';
import type { HubStore } from '../store/store';
import type { ModelService } from '../model/model-service';
import { checkUpdate, hubPhase, initialEngineState, reduce } from './round-reducer';
import type { Effect, EngineEvent, EngineState } from './engine-types';

const CLIENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Sends hub events to one training client. */
export interface Transport {
  send<E extends keyof HubToClientEvents>(clientId: string, event: E, ...args: Parameters<HubToClientEvents[E]>): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CoordinatorDeps {
  store: HubStore;
  models: ModelService;
  /** Labels of the MNIST training sprite, for by-label shards. */
  mnistTrainLabels: Uint8Array;
  transport: Transport;
  clock: Clock;
  log: Logger;
  newId: () => string;
}

/** The I/O state of the round in flight: the aggregator and who contributed what. */
interface RoundWork {
  runId: string;
  round: number;
  aggregator: Aggregator;
  /** The global model exactly as the participants decode it: deltas are added to this. */
  base: Float32Array;
  contributions: ParticipationRecord[];
}

/**
 * Carries out what the pure round reducer decides: sends rounds, folds updates, aggregates,
 * evaluates and persists. Socket handlers and HTTP routes only call its methods.
 */
export class Coordinator {
  private state: EngineState = initialEngineState;
  private readonly queue: EngineEvent[] = [];
  private draining = false;
  private timer: unknown = null;
  private global: { runId: string; weights: FlatWeights } | null = null;
  private shards = new Map<string, Uint16Array>();
  private shardKey = '';
  private work: RoundWork | null = null;
  /** The global model of the round in flight, encoded once for every participant. */
  private roundFrame: Uint8Array | null = null;
  private readonly retryNotes = new Map<string, string>();
  private readonly statusListeners = new Set<(status: HubStatus) => void>();
  private readonly runListeners = new Set<(runId: string) => void>();
  private readonly pendingTasks = new Set<Promise<void>>();

  constructor(private readonly deps: CoordinatorDeps) {
    this.resumeInterruptedRun();
  }

  /**
   * A run that was active when the hub stopped (a crash, a SIGKILL) continues from its last completed
   * round with that round's global weights; the round in flight is announced again to clients that reconnect.
   */
  private resumeInterruptedRun(): void {
    const { store, clock, log } = this.deps;
    const interrupted = store.runsWithStatus('running');
    for (const runId of interrupted.slice(0, -1)) {
      store.finishRun(runId, 'failed', 'the hub stopped while this run was active, and a later run was active too', clock.now());
    }
    const runId = interrupted.at(-1);
    if (!runId) return;
    const run = store.run(runId)!;
    const completed = run.rounds.filter((r) => r.status === 'completed').map((r) => r.round);
    const last = completed.length ? Math.max(...completed) : 0;
    const checkpoint = store.checkpoint(runId, last);
    if (!checkpoint || !sameShapes(checkpoint.shapes, this.deps.models.shapes(run.task))) {
      store.finishRun(runId, 'failed', 'the hub stopped during this run and its last checkpoint cannot be used', clock.now());
      return;
    }
    if (last >= run.settings.rounds) {
      store.finishRun(runId, 'completed', null, clock.now());
      return;
    }
    this.global = { runId, weights: { shapes: checkpoint.shapes, values: checkpoint.values } };
    log.info({ runId, round: last + 1, sha256: checkpoint.sha256 }, 'resuming the run that was active when the hub stopped');
    const shardOwners = store.shardOwners(runId);
    this.dispatch({ type: 'run-resumed', at: clock.now(), runId, settings: run.settings, round: last + 1, startedAt: run.createdAt, shardOwners });
  }

  get engineState(): EngineState {
    return this.state;
  }

  onStatus(listener: (status: HubStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Called with a run's id whenever its stored record changed (round done, run ended). */
  onRunChanged(listener: (runId: string) => void): () => void {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  status(): HubStatus {
    const { run, clients } = this.state;
    return {
      status: hubPhase(this.state),
      run: run
        ? {
            id: run.id,
            task: run.settings.task,
            round: run.round,
            rounds: run.settings.rounds,
            settings: run.settings,
            deadline: run.deadline,
            participants: run.phase === 'waiting' ? [] : run.participants,
          }
        : null,
      now: this.deps.clock.now(),
      clients: Object.values(clients)
        .sort((a, b) => a.joinedAt - b.joinedAt)
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
        })),
    };
  }

  /** A client keeps the id it had (a reconnect, or a hub restart) when it sends one of the hub's ids back. */
  clientIdFor(request: JoinRequest): string {
    return request.clientId && CLIENT_ID_PATTERN.test(request.clientId) ? request.clientId : this.deps.newId();
  }

  /** Joins a client; its transport must already reach `id`, since the join may start a round at once. */
  join(id: string, request: JoinRequest): Omit<JoinReply, 'limits'> {
    this.dispatch({
      type: 'client-joined',
      at: this.deps.clock.now(),
      client: { id, name: request.name, kind: request.kind, data: request.data, backend: request.backend },
    });
    return { clientId: id };
  }

  changeData(clientId: string, change: DataChange): void {
    this.requireClient(clientId);
    this.dispatch({ type: 'client-data', at: this.deps.clock.now(), clientId, data: change.data, ...(change.backend ? { backend: change.backend } : {}) });
  }

  progress(clientId: string, progress: RoundProgress): void {
    this.requireClient(clientId);
    const { runId: _r, round: _n, ...rest } = progress;
    const run = this.state.run;
    if (!run || run.id !== progress.runId || run.round !== progress.round) {
      throw new CodedError('HUB_ERR_STALE_ROUND', `round ${progress.round} of run ${progress.runId} is not in progress`);
    }
    this.dispatch({ type: 'client-progress', at: this.deps.clock.now(), clientId, progress: rest });
  }

  leave(clientId: string): void {
    this.dispatch({ type: 'client-left', at: this.deps.clock.now(), clientId });
  }

  launch(request: LaunchRequest): { id: string } {
    if (this.state.run) {
      throw new CodedError('HUB_ERR_RUN_ACTIVE', `run ${this.state.run.id} is still active: stop it or wait for it to end`);
    }
    const settings = resolveSettings(request);
    const at = this.deps.clock.now();
    const shapes = this.deps.models.shapes(settings.task);
    const latest = settings.init === 'continue' ? this.deps.store.latestCheckpoint(settings.task) : null;
    const initial = latest && sameShapes(latest.shapes, shapes) ? latest : this.deps.models.freshWeights(settings.task);
    const id = this.deps.newId();
    this.deps.store.createRun(id, settings, at, { shapes: initial.shapes, values: initial.values });
    this.global = { runId: id, weights: { shapes: initial.shapes, values: initial.values } };
    this.shards.clear();
    this.shardKey = '';
    this.deps.log.info({ runId: id, settings, from: latest ? `${latest.runId}#${latest.round}` : 'fresh' }, 'run launched');
    this.dispatch({ type: 'run-launched', at, runId: id, settings });
    this.notifyRun(id);
    return { id };
  }

  stop(runId: string): void {
    if (this.state.run?.id !== runId) throw new CodedError('HUB_ERR_NOT_FOUND', `run ${runId} is not active`);
    this.dispatch({ type: 'stop', at: this.deps.clock.now(), runId });
  }

  /** Validates and folds one client update. Throws a CodedError and changes nothing when it is refused. */
  submit(clientId: string, update: UpdateSubmit): UpdateReceipt {
    const refusal = checkUpdate(this.state, clientId, update.runId, update.round);
    if (refusal) throw new CodedError(refusal, refusalMessage(refusal, update));
    const run = this.state.run!;
    const client = this.state.clients[clientId]!;
    // FedAvg weighs by samples: a client may not claim more than its shard or its declared images.
    const held = run.settings.task === 'mnist' ? (this.shards.get(clientId)?.length ?? 0) : client.samples;
    if (update.samples > held) {
      throw new CodedError('HUB_ERR_INVALID_PAYLOAD', `update claims ${update.samples} samples, the client holds ${held}`);
    }
    const decoded = decodeWeights(toBytes(update.weights));
    const expected = this.deps.models.shapes(run.settings.task);
    if (!sameShapes(decoded.shapes, expected)) {
      throw new CodedError('HUB_ERR_SHAPE_MISMATCH', `update has ${decoded.shapes.length} tensors of the wrong shapes for the ${run.settings.task} model`);
    }
    const bad = firstNonFinite(decoded.values);
    if (bad >= 0) throw new CodedError('HUB_ERR_NON_FINITE', `update value ${bad} is ${decoded.values[bad]}`);
    const { meta } = decoded;
    // Frames name their round and run; 0 means the sender did not say.
    if ((meta.round !== 0 && meta.round !== update.round) || (meta.runTag !== 0 && meta.runTag !== seedFromString(run.id))) {
      throw new CodedError('HUB_ERR_BAD_FRAME', `the weight frame belongs to round ${meta.round} of another run or round`);
    }
    const work = this.work;
    if (!work || work.runId !== run.id || work.round !== run.round) throw new CodedError('HUB_ERR_ROUND_CLOSED', 'no round is collecting updates');
    // A delta is against the model the clients received (float16-rounded when the run compresses).
    const values = meta.delta ? addWeights(work.base, decoded.values) : decoded.values;
    if (meta.delta && firstNonFinite(values) >= 0) throw new CodedError('HUB_ERR_NON_FINITE', 'the update overflows when added to the global model');
    work.aggregator.add(values, update.samples);
    const { metrics } = update;
    work.contributions.push({
      round: update.round,
      clientId,
      name: client.name,
      samples: update.samples,
      loss: metrics.loss,
      accuracy: metrics.accuracy,
      trainMs: metrics.trainMs,
      test: metrics.test ?? null,
    });
    const received = work.contributions.length;
    this.dispatch({
      type: 'update-accepted',
      at: this.deps.clock.now(),
      clientId,
      runId: update.runId,
      round: update.round,
      samples: update.samples,
      metrics: { loss: metrics.loss, accuracy: metrics.accuracy, ...(metrics.test ? { test: metrics.test } : {}) },
    });
    return { accepted: true, received };
  }

  /** Resolves when no aggregation is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pendingTasks.size) await Promise.all([...this.pendingTasks]);
  }

  close(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.statusTimer !== null) this.deps.clock.clearTimeout(this.statusTimer);
    this.statusTimer = null;
  }

  private requireClient(clientId: string): void {
    if (!this.state.clients[clientId]) throw new CodedError('HUB_ERR_NOT_JOINED', 'join with client:join first');
  }

  private dispatch(event: EngineEvent): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const next = this.queue.shift()!;
        const { state, effects } = reduce(this.state, next);
        this.state = state;
        for (const effect of effects) this.perform(effect);
      }
    } finally {
      this.draining = false;
    }
  }

  private perform(effect: Effect): void {
    const { clock, store, transport, log } = this.deps;
    switch (effect.type) {
      case 'start-round':
        this.startRound(effect);
        return;
      case 'cancel-round':
        for (const id of effect.clients) transport.send(id, 'round:cancel', { runId: effect.runId, round: effect.round, reason: effect.reason });
        return;
      case 'resend-round':
        this.sendRoundStart(effect.clientId, effect.deadline);
        return;
      case 'round-retry':
        log.warn({ runId: effect.runId, round: effect.round, attempt: effect.attempt, reason: effect.reason }, 'round retried');
        this.retryNotes.set(`${effect.runId}#${effect.round}`, `attempt ${effect.attempt}, after: ${effect.reason}`);
        return;
      case 'set-timer': {
        if (this.timer !== null) clock.clearTimeout(this.timer);
        const { runId, round, phase, at } = effect;
        this.timer = clock.setTimeout(() => {
          this.timer = null;
          this.dispatch({ type: 'timer', at: Math.max(clock.now(), at), runId, round, phase });
        }, Math.max(0, at - clock.now()));
        return;
      }
      case 'aggregate': {
        const task = this.aggregate(effect).finally(() => this.pendingTasks.delete(task));
        this.pendingTasks.add(task);
        return;
      }
      case 'round-failed':
        log.warn({ runId: effect.runId, round: effect.round, reason: effect.reason }, 'round failed');
        store.failRound(effect.runId, effect.round, effect.reason, clock.now() - effect.roundStartedAt, clock.now());
        this.notifyRun(effect.runId);
        return;
      case 'run-finished': {
        log.info({ runId: effect.runId, status: effect.status, reason: effect.reason }, 'run finished');
        const finish = () => {
          store.finishRun(effect.runId, effect.status, effect.reason, clock.now());
          this.notifyRun(effect.runId);
        };
        // Evaluations still running belong to this run's rounds: the run ends once they are stored.
        if (this.pendingTasks.size) void Promise.allSettled([...this.pendingTasks]).then(finish);
        else finish();
        if (this.timer !== null) clock.clearTimeout(this.timer);
        this.timer = null;
        this.work = null;
        this.global = null;
        this.roundFrame = null;
        return;
      }
      case 'status-changed':
        this.scheduleStatus();
        return;
      default: {
        const _exhaustive: never = effect;
        throw new Error(`unhandled effect ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  private startRound(effect: Extract<Effect, { type: 'start-round' }>): void {
    const run = this.state.run!;
    const global = this.global!;
    if (effect.assignShards) this.deps.store.setShardOwners(effect.runId, effect.assignShards);
    if (run.settings.task === 'mnist' && run.shardOwners) this.ensureShards(effect.runId, run.shardOwners, run.settings);
    this.work = {
      runId: effect.runId,
      round: effect.round,
      aggregator: createAggregator(run.settings, global.weights.values),
      base: global.weights.values,
      contributions: [],
    };
    const meta = { round: effect.round, runTag: seedFromString(effect.runId) };
    if (run.settings.compression === 'float32') {
      this.roundFrame = encodeWeights(global.weights, meta);
    } else {
      this.roundFrame = encodeWeights(global.weights, { ...meta, dtype: 'float16' });
      this.work.base = decodeWeights(this.roundFrame).values;
    }
    for (const id of effect.participants) this.sendRoundStart(id, effect.deadline);
    this.deps.log.info({ runId: effect.runId, round: effect.round, participants: effect.participants.length }, 'round started');
  }

  private sendRoundStart(clientId: string, deadline: number): void {
    const run = this.state.run;
    if (!run || !this.roundFrame) return;
    const shard = this.shards.get(clientId);
    this.deps.transport.send(clientId, 'round:start', {
      runId: run.id,
      round: run.round,
      rounds: run.settings.rounds,
      settings: run.settings,
      weights: this.roundFrame,
      ...(shard ? { shard: encodeShard(shard) } : {}),
      deadline,
      seed: (seedFromString(run.id) + run.round) | 0,
    });
  }

  /** The partition is a pure function of the run, the owners in order and the labels: recomputed only when they change. */
  private ensureShards(runId: string, owners: string[], settings: { partition: 'iid' | 'by-label' }): void {
    const key = `${runId}:${owners.join(',')}`;
    if (this.shardKey === key) return;
    this.shardKey = key;
    const seed = seedFromString(runId);
    const labels = this.deps.mnistTrainLabels;
    const parts =
      settings.partition === 'by-label'
        ? partitionByLabel(labels, owners.length, seed)
        : partitionIid(labels.length, owners.length, seed);
    this.shards = new Map(owners.map((id, i) => [id, parts[i]!]));
    const sizes = Object.fromEntries(owners.map((id, i) => [id, parts[i]!.length]));
    this.dispatch({ type: 'shards-assigned', at: this.deps.clock.now(), runId, sizes });
  }

  private async aggregate(effect: Extract<Effect, { type: 'aggregate' }>): Promise<void> {
    const { clock, store, models, log } = this.deps;
    // The last update's ack must go out before the next round:start, or that client sees round N+1 first
    // and then takes the late ack of round N as the end of its new round.
    await new Promise((resolve) => setImmediate(resolve));
    const work = this.work;
    const run = this.state.run;
    if (run?.id !== effect.runId) return; // stopped in the meantime
    let weights: FlatWeights;
    try {
      if (!work || !run || work.runId !== effect.runId || work.round !== effect.round) throw new Error('no updates collected for this round');
      const combined = work.aggregator.finish();
      weights = { shapes: this.global!.weights.shapes, values: combined.values };
      const clientTest = weightedEvalMean(work.contributions.flatMap((c) => (c.test ? [c.test] : [])));
      const at = clock.now();
      const checkpoint = store.completeRound({
        runId: effect.runId,
        task: run.settings.task,
        round: effect.round,
        weights,
        accuracy: clientTest?.accuracy ?? null,
        loss: clientTest?.loss ?? null,
        durationMs: at - effect.roundStartedAt,
        clientTest,
        note: [this.retryNotes.get(`${effect.runId}#${effect.round}`), combined.note].filter(Boolean).join('; ') || null,
        participants: work.contributions,
        at,
      });
      this.global = { runId: effect.runId, weights };
      log.info({ runId: effect.runId, round: effect.round, clients: work.contributions.length, sha256: checkpoint.sha256 }, 'round aggregated');
      this.notifyRun(effect.runId);
      this.dispatch({ type: 'round-completed', at: clock.now(), runId: effect.runId, round: effect.round });
    } catch (error) {
      log.error({ err: error, runId: effect.runId, round: effect.round }, 'aggregation failed');
      this.dispatch({ type: 'round-aborted', at: clock.now(), runId: effect.runId, round: effect.round, reason: `aggregation failed: ${String(error)}` });
      return;
    }
    // The held-out evaluation is not needed to start the next round, so it runs while that round trains;
    // a run is only marked ended once its last evaluation is stored (see run-finished).
    try {
      const evaluation = await models.evaluate(run.settings.task, weights);
      if (evaluation) {
        store.setRoundEvaluation(effect.runId, effect.round, evaluation.accuracy, evaluation.loss);
        log.info({ runId: effect.runId, round: effect.round, accuracy: evaluation.accuracy }, 'round evaluated');
        this.notifyRun(effect.runId);
      }
    } catch (error) {
      log.error({ err: error, runId: effect.runId, round: effect.round }, 'evaluation failed');
    }
  }

  private statusTimer: unknown = null;

  /** Status pushes are coalesced: at most one every 200 ms, however many clients report progress. */
  private scheduleStatus(): void {
    if (this.statusTimer !== null || this.statusListeners.size === 0) return;
    this.statusTimer = this.deps.clock.setTimeout(() => {
      this.statusTimer = null;
      const status = this.status();
      for (const listener of this.statusListeners) listener(status);
    }, 200);
  }

  private notifyRun(runId: string): void {
    for (const listener of this.runListeners) listener(runId);
  }
}

function refusalMessage(code: string, update: UpdateSubmit): string {
  switch (code) {
    case 'HUB_ERR_STALE_ROUND':
      return `round ${update.round} is over; wait for the next round:start`;
    case 'HUB_ERR_DUPLICATE_UPDATE':
      return `an update for round ${update.round} was already accepted from this client`;
    case 'HUB_ERR_NOT_PARTICIPANT':
      return `this client was not picked for round ${update.round}`;
    case 'HUB_ERR_WRONG_RUN':
      return `run ${update.runId} is not the active run`;
    case 'HUB_ERR_NO_RUN':
      return 'no run is active';
    case 'HUB_ERR_ROUND_CLOSED':
      return `round ${update.round} is not collecting updates`;
    default:
      return 'update refused';
  }
}
