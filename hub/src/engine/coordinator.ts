import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  CodedError,
  STATUS_ROWS,
  encodeWeights,
  resolveSettings,
  settingsConflict,
  seedFromString,
  type DataChange,
  type EvalSubmit,
  type FlatWeights,
  type HubStatus,
  type JoinReply,
  type JoinRequest,
  type LaunchRequest,
  type RoundProgress,
  type RunSettings,
  type SecAggMasked,
  type SecAggMessage,
  toBytes,
  type UpdateReceipt,
  type UpdateSubmit,
} from '@fl/shared';
import { initialEngineState, reduce } from './round-reducer';
import { checkUpdate, checkUpdateEnvelope, refusalMessage, validateEvaluation, validateUpdate, type UpdateContext } from './update-validator';
import { planSecAgg } from '@fl/shared/secagg/index';
import { effectiveNoiseMultiplier, fixedPointRange, privacySpent } from '@fl/shared/privacy/index';
import { dpMean } from '../aggregation/dp';
import { createServerOptimizer, serverNote, type ServerOptimizer } from '../aggregation/server-optimizer';
import { encodeOptimizerState } from '../aggregation/server-optimizer-state';
import { SecureRound } from './secure-round';
import { EvaluationQueue, safely } from './evaluation-queue';
import { planResume } from './resume';
import { ShardBook } from './shard-book';
import { StatusThrottle } from './status-throttle';
import { statusView } from './status-view';
import { ClientScores } from './client-scores';
import { applyMeanDelta, finishRoundWork, foldWeight, recordAccepted, recordMasked, roundStartFor, startRoundWork, type RoundWork, type SumOpener } from './round-work';
import type { CheckedUpdate } from './round-sum';
import { PendingChecks } from './pending-checks';
import { FoldWorkerLost } from './fold-worker';
import { initialWeights } from './initial-weights';
import type { Effect, EngineEvent, EngineState, RunState } from './engine-types';
import type { CompletedRound } from '../store/store';
import { foldsOnRelay, type HeldMasked, type HeldReceipt, type HeldUpdate, type PartialSum } from '../cluster/relay-protocol';
import type { Awaitable, Clock, EngineStore, Evaluator, Logger, Transport } from './ports';

export { systemClock, type Clock, type Logger, type Transport } from './ports';

/** The key and share stages of a secure round, and its unmasking, wait at most this long for slow clients. */
const SECURE_STAGE_MAX_MS = 60_000;

export interface CoordinatorDeps {
  store: EngineStore;
  models: Evaluator;
  /** Labels of the MNIST training sprite, for by-label shards. */
  mnistTrainLabels: Uint8Array;
  transport: Transport;
  clock: Clock;
  log: Logger;
  newId: () => string;
  /** Seed of a launch that names none (default: random). */
  randomSeed?: () => number;
  /** Updates larger than this are refused with HUB_ERR_TOO_LARGE. */
  maxUpdateBytes?: number;
  /** Decodes, checks and folds updates off the event loop (the hub's FoldWorker); without it they are folded on this thread. */
  folds?: SumOpener;
  /** The relaying nodes' partial sums of their clients' held updates (README, "Several hub nodes"); absent on one node. */
  partials?: PartialSource;
}

/** Where the leader takes a relaying node's partial sum of a round from. */
export interface PartialSource {
  collect(nodeId: string, request: { partial: string; clients: string[] }): Promise<PartialSum>;
}

/** A relaying node's partial sum could not be had (the node is gone, or it held other updates): the round is tried again. */
export class PartialLost extends Error {
  override readonly name = 'PartialLost';
}

/** Participants sent their round per turn of the event loop (see sendRoundSlices). */
export const ROUND_START_SLICE = 50;

/** The time between status pushes: 200 ms up to 2,000 clients, then 0.1 ms per client, at most a second. */
export const statusIntervalMs = (clients: number) => Math.min(1000, Math.max(200, clients / 10));

/**
 * Carries out what the pure round reducer decides: sends rounds, folds updates, commits rounds and
 * hands their models to the evaluation queue. Socket handlers and HTTP routes only call its methods.
 */
export class Coordinator {
  private state: EngineState = initialEngineState;
  private readonly queue: EngineEvent[] = [];
  private draining = false;
  private closed = false;
  private timer: unknown = null;
  private global: { runId: string; weights: FlatWeights } | null = null;
  /** The run's server optimiser, for the life of the run; `lost` notes its first round after a resume that lost the state. */
  private optimizer: { runId: string; optimizer: ServerOptimizer; lost: string | null } | null = null;
  private readonly shards: ShardBook;
  private work: RoundWork | null = null;
  /** The secure-aggregation side of the round in flight, when the run has it. */
  private secure: SecureRound | null = null;
  private readonly scores = new ClientScores();
  /** Why the round in flight is a retry, for its record. */
  private retryNote: { key: string; note: string } | null = null;
  private readonly statusPush: StatusThrottle<HubStatus>;
  private readonly runListeners = new Set<(runId: string) => void>();
  private readonly aggregations = new Set<Promise<void>>();
  private readonly evaluations: EvaluationQueue;
  /** Updates in the fold worker, waiting for its verdict. */
  private readonly checking = new PendingChecks();
  /** The round whose deadline has fired but waits for the checks in flight: updates arriving now are too late. */
  private closing: { runId: string; round: number } | null = null;
  /** Joins per client id: a departure that waited for a check is stale once the client joined again. */
  private readonly joins = new Map<string, number>();
  /** The last store write still in flight (null: none): writes go out one at a time, in the order decided. */
  private writing: Promise<void> | null = null;
  /** A launch waiting for its run to be stored: a second one is refused. */
  private launching = false;
  /** Settles when the runs a stopped hub left active are ended or resumed; it rejects when the store cannot be read. */
  readonly ready: Promise<void>;

  constructor(private readonly deps: CoordinatorDeps) {
    this.shards = new ShardBook(deps.mnistTrainLabels);
    // Pushed to dashboards at most every 200 ms (up to once a second with thousands of clients, since each push
    // counts every client), with the first STATUS_ROWS clients and every client counted.
    this.statusPush = new StatusThrottle(deps.clock, () => statusIntervalMs(this.state.clients.size), () => this.status(), (err) => deps.log.error({ err }, 'a status listener failed'));
    this.evaluations = new EvaluationQueue({ store: deps.store, evaluator: deps.models, log: deps.log, onStored: (id) => this.notifyRun(id) });
    this.ready = this.resume();
    // The hub awaits `ready` before it serves; a failure is its to report, not an unhandled rejection here.
    this.ready.catch(() => {});
  }

  /** Ends or continues the runs a stopped hub left active, and evaluates every committed round that never was. */
  private async resume(): Promise<void> {
    const { store, clock, log } = this.deps;
    const plan = await planResume(store, this.deps.models);
    if (this.closed) return;
    for (const end of plan.end) await this.inOrder(() => store.finishRun(end.runId, end.status, end.reason, clock.now()));
    if (this.closed) return;
    for (const pending of await store.pendingEvaluations()) this.evaluations.enqueue(pending);
    const resume = plan.resume;
    if (!resume || this.closed) return;
    this.global = { runId: resume.runId, weights: resume.weights };
    this.optimizer = { runId: resume.runId, optimizer: createServerOptimizer(resume.settings.serverOptimizer, resume.weights.values.length), lost: null };
    if (resume.optimizerState) this.optimizer.optimizer.restore(resume.optimizerState);
    if (resume.optimizerLost) {
      log.warn({ runId: resume.runId, round: resume.round, reason: resume.optimizerLost }, 'the server optimiser restarts from its initial state');
      this.optimizer.lost = `server optimiser restarted: ${resume.optimizerLost}`;
    }
    log.info({ runId: resume.runId, round: resume.round, sha256: resume.sha256 }, 'resuming the run that was active when the hub stopped');
    this.dispatch({
      type: 'run-resumed',
      at: clock.now(),
      runId: resume.runId,
      settings: resume.settings,
      round: resume.round,
      startedAt: resume.startedAt,
      shardOwners: resume.shardOwners,
      privacySpent: resume.privacySpent,
    });
  }

  get engineState(): EngineState {
    return this.state;
  }

  onStatus(listener: (status: HubStatus) => void): () => void {
    return this.statusPush.subscribe(listener);
  }

  /** Called with a run's id whenever its stored record changed (round done, evaluation stored, run ended). */
  onRunChanged(listener: (runId: string) => void): () => void {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  /** `maxRows`: client rows to include (dashboards get the first STATUS_ROWS); counts cover every client. */
  status(maxRows = STATUS_ROWS): HubStatus {
    const secure = this.secure && this.secure.params.round === this.state.run?.round ? this.secure : null;
    return statusView(this.state, this.deps.clock.now(), secure, (id) => this.shards.labelsOf(id), maxRows);
  }

  /** Joins a client under an id the caller has authenticated; its transport must already reach `id` (the join may start a round). */
  join(id: string, request: JoinRequest): Pick<JoinReply, 'clientId'> {
    this.joins.set(id, (this.joins.get(id) ?? 0) + 1);
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
    if (this.checking.has(clientId)) {
      // Its update arrived before it left: judged first, as it would have been had it been folded at once.
      const joins = this.joins.get(clientId);
      this.checking.afterThose(clientId, () => {
        if (this.joins.get(clientId) === joins) this.leave(clientId);
      });
      return;
    }
    const run = this.state.run;
    // First: a secure round this departure leaves below its threshold fails with HUB_ERR_SECAGG_TOO_FEW, not a minClients reason.
    if (run?.phase === 'training' && this.secure?.params.runId === run.id && this.secure.params.round === run.round) this.secure.leaving(clientId);
    this.dispatch({ type: 'client-left', at: this.deps.clock.now(), clientId });
    this.secure?.left(clientId);
  }

  /** A secure-aggregation stage message (keys, shares, reveal) from a participant of the round in flight. */
  submitSecAgg(clientId: string, stage: 'keys' | 'shares' | 'reveal', message: SecAggMessage): { accepted: true } {
    this.requireOpen();
    const secure = this.currentSecure(clientId, message);
    const frame = toBytes(message.frame);
    if (stage === 'keys') secure.keys(clientId, frame);
    else if (stage === 'shares') secure.shares(clientId, frame);
    else secure.reveal(clientId, frame);
    return { accepted: true };
  }

  /** A masked input: counted like an update (the reducer closes the round as usual); the hub cannot read it. */
  submitMasked(clientId: string, message: SecAggMasked): UpdateReceipt {
    return this.acceptMasked(clientId, message, (secure) => secure.masked(clientId, toBytes(message.frame)));
  }

  /** A masked input counted like an update once the round takes it: `take` hands it to the secure round (it may refuse). */
  private acceptMasked(clientId: string, message: { runId: string; round: number; metrics: SecAggMasked['metrics'] }, take: (secure: SecureRound) => void): UpdateReceipt {
    this.requireOpen();
    const refusal = checkUpdate(this.state, clientId, message.runId, message.round);
    if (refusal) throw new CodedError(refusal, refusalMessage(refusal, message.runId, message.round));
    const secure = this.currentSecure(clientId, message);
    take(secure);
    const weight = secure.params.weights[secure.params.participants.indexOf(clientId)]!;
    const received = recordMasked(this.work!, clientId, this.state.clients.get(clientId)!.name, message, weight);
    const { metrics } = message;
    this.dispatch({
      type: 'update-accepted',
      at: this.deps.clock.now(),
      clientId,
      runId: message.runId,
      round: message.round,
      samples: weight,
      metrics: { loss: metrics.loss, accuracy: metrics.accuracy },
    });
    return { accepted: true, received };
  }

  private currentSecure(clientId: string, message: { runId: string; round: number }): SecureRound {
    const run = this.state.run;
    if (!this.state.clients.has(clientId)) throw new CodedError('HUB_ERR_NOT_JOINED', 'join with client:join first');
    if (!run) throw new CodedError('HUB_ERR_NO_RUN', 'no run is active');
    if (run.id !== message.runId) throw new CodedError('HUB_ERR_WRONG_RUN', `run ${message.runId} is not the active run`);
    const secure = this.secure;
    if (!secure || secure.params.round !== message.round || run.round !== message.round) {
      throw new CodedError('HUB_ERR_STALE_ROUND', `round ${message.round} has no secure stage in progress`);
    }
    return secure;
  }

  private startSecureRound(run: { id: string; round: number; settings: RunSettings; participants: string[] }, work: RoundWork): SecureRound | null {
    const { clock, log, transport } = this.deps;
    try {
      const params = planSecAgg({
        runId: run.id,
        round: run.round,
        participants: run.participants,
        weights: run.participants.map((id) => Math.max(1, Math.round(work.weights.get(id) ?? 1))),
        length: work.base.length,
        // Under DP the fixed point covers a clipped change plus its noise share, whatever secAggClip says.
        clip: run.settings.dp ? fixedPointRange(run.settings.dp, run.participants.length) : run.settings.secAggClip,
        seed: run.settings.seed + run.round,
      });
      const at = () => clock.now();
      return new SecureRound(
        {
          transport,
          clock,
          log,
          exclude: (clientId) => this.dispatch({ type: 'client-excluded', at: at(), runId: run.id, round: run.round, clientId }),
          fail: (reason) => this.dispatch({ type: 'round-aborted', at: at(), runId: run.id, round: run.round, reason, retry: true }),
          changed: () => this.statusPush.changed(),
        },
        params,
        Math.min(SECURE_STAGE_MAX_MS, run.settings.roundTimeoutSec * 250),
      );
    } catch (error) {
      const reason = error instanceof CodedError ? `${error.code}: ${error.message}` : String(error);
      log.warn({ runId: run.id, round: run.round, reason }, 'secure round cannot start');
      queueMicrotask(() => this.dispatch({ type: 'round-aborted', at: clock.now(), runId: run.id, round: run.round, reason, retry: true }));
      return null;
    }
  }

  /** Stores the run with its round-0 model, then starts it; nothing starts when the store refuses it. */
  async launch(request: LaunchRequest): Promise<{ id: string }> {
    this.requireOpen();
    await this.ready;
    if (this.state.run || this.launching) {
      const active = this.state.run ? `run ${this.state.run.id} is still active` : 'another run is being launched';
      throw new CodedError('HUB_ERR_RUN_ACTIVE', `${active}: stop it or wait for it to end`);
    }
    const settings = resolveSettings(request, this.randomSeed());
    const conflict = settingsConflict(settings);
    if (conflict) throw new CodedError('HUB_ERR_INVALID_SETTINGS', conflict);
    this.launching = true;
    const at = this.deps.clock.now();
    const id = this.deps.newId();
    let weights: FlatWeights;
    let from: string;
    try {
      // A turn of the event loop between building the model, storing the run and starting its first round: with
      // thousands of clients each is tens of ms, and back to back they held the loop for 100 ms (BENCHMARKS.md).
      ({ weights, from } = await initialWeights(this.deps.store, this.deps.models, settings));
      await nextTurn();
      const stored = weights;
      await this.inOrder(() => this.deps.store.createRun(id, settings, at, stored));
      await nextTurn();
    } finally {
      this.launching = false;
    }
    this.requireOpen();
    this.global = { runId: id, weights };
    this.optimizer = { runId: id, optimizer: createServerOptimizer(settings.serverOptimizer, weights.values.length), lost: null };
    this.shards.clear();
    this.deps.log.info({ runId: id, settings, from }, 'run launched');
    this.dispatch({ type: 'run-launched', at, runId: id, settings });
    this.notifyRun(id);
    return { id };
  }

  stop(runId: string): void {
    if (this.state.run?.id !== runId) throw new CodedError('HUB_ERR_NOT_FOUND', `run ${runId} is not active`);
    this.dispatch({ type: 'stop', at: this.deps.clock.now(), runId });
  }

  /**
   * Validates and folds one client update; a refused one changes nothing and gets its CodedError. With a fold
   * worker the frame is decoded, checked and folded there and the answer is a promise, settled with the worker's
   * verdict; without one (and for secure rounds) it is answered at once, as the hub always did.
   */
  submit(clientId: string, update: UpdateSubmit): UpdateReceipt | Promise<UpdateReceipt> {
    this.requireOpen();
    const run = this.state.run;
    const work = this.work && run && this.work.runId === run.id && this.work.round === run.round ? this.work : null;
    const ctx: UpdateContext = {
      state: this.state,
      shapes: run ? this.deps.models.shapes(run.settings.task) : [],
      heldSamples: this.heldSamples(clientId),
      base: work?.base ?? null,
      maxUpdateBytes: this.deps.maxUpdateBytes ?? Infinity,
    };
    if (!work) {
      validateUpdate(ctx, clientId, update);
      throw new CodedError('HUB_ERR_ROUND_CLOSED', 'no round is collecting updates'); // validateUpdate refuses it first: no base
    }
    const { sum } = work;
    if (!sum.offThread) {
      const values = validateUpdate(ctx, clientId, update);
      // Accepted: only now is it folded into the round's sum.
      sum.add(values, foldWeight(work, clientId, update.samples));
      return this.accepted(work, clientId, update);
    }
    checkUpdateEnvelope(ctx, clientId, update, update.weights.byteLength);
    if (this.closing?.runId === run!.id && this.closing.round === run!.round) {
      throw new CodedError('HUB_ERR_ROUND_CLOSED', refusalMessage('HUB_ERR_ROUND_CLOSED', update.runId, update.round));
    }
    // Every frame goes to the worker at once and its verdicts come back in arrival order, so each update is
    // judged against the state its predecessors left, as on one thread: an earlier update of the same client makes it a duplicate.
    const checked = sum.check(toBytes(update.weights), foldWeight(work, clientId, update.samples));
    return this.checking.track(
      clientId,
      checked.then(
        (frame) => this.confirm(work, clientId, update, frame),
        (error: unknown) => {
          throw this.refusalNow(work, clientId, update) ?? error;
        },
      ),
    );
  }

  /** The worker found the frame sound: it is folded if the round still takes it, else forgotten and refused. */
  private confirm(work: RoundWork, clientId: string, update: UpdateSubmit, frame: CheckedUpdate): UpdateReceipt {
    const refusal = this.refusalNow(work, clientId, update);
    if (refusal) {
      frame.drop();
      throw refusal;
    }
    // Posted before the reducer hears of it: the round's finish, posted later, comes after this fold.
    frame.fold();
    return this.accepted(work, clientId, update);
  }

  /** The state's refusal of an update at its verdict (the engine's checks come before the frame's, as on one thread). */
  private refusalNow(work: RoundWork, clientId: string, update: UpdateSubmit): CodedError | null {
    if (this.closed) return new CodedError('HUB_ERR_INTERNAL', 'the hub is shutting down');
    const code = checkUpdate(this.state, clientId, update.runId, update.round) ?? (this.work === work ? null : 'HUB_ERR_ROUND_CLOSED');
    return code ? new CodedError(code, refusalMessage(code, update.runId, update.round)) : null;
  }

  /**
   * An update a relaying node checked and keeps in its partial sum: the engine's checks, and its acceptance, here; the
   * weights stay on that node until the round closes (README, "Several hub nodes").
   */
  submitHeld(clientId: string, held: HeldUpdate, nodeId: string): HeldReceipt {
    this.requireOpen();
    const run = this.state.run;
    const work = this.work && run && this.work.runId === run.id && this.work.round === run.round ? this.work : null;
    const ctx = { state: this.state, heldSamples: this.heldSamples(clientId), maxUpdateBytes: this.deps.maxUpdateBytes ?? Infinity };
    checkUpdateEnvelope(ctx, clientId, held, held.bytes);
    if (!work || !run) throw new CodedError('HUB_ERR_ROUND_CLOSED', refusalMessage('HUB_ERR_ROUND_CLOSED', held.runId, held.round));
    if (!foldsOnRelay(run.settings)) throw new CodedError('HUB_ERR_INVALID_PAYLOAD', `run ${run.id} combines whole updates: send the update itself`);
    if (this.closing?.runId === run.id && this.closing.round === run.round) {
      throw new CodedError('HUB_ERR_ROUND_CLOSED', refusalMessage('HUB_ERR_ROUND_CLOSED', held.runId, held.round));
    }
    const weight = foldWeight(work, clientId, held.samples);
    holdOn(work, nodeId, clientId, weight);
    return { ...this.accepted(work, clientId, held), weight, partial: work.partial };
  }

  /**
   * A masked input of a secure round that a relaying node checked and keeps in its sum of masked inputs: counted
   * here like one that arrived (the reducer closes the round as usual); its words come with the node's sum.
   */
  submitMaskedHeld(clientId: string, held: HeldMasked, nodeId: string): HeldReceipt {
    // A secure round in flight (acceptMasked refuses otherwise) has its work.
    const work = this.work!;
    const receipt = this.acceptMasked(clientId, held, (secure) => secure.maskedElsewhere(clientId));
    holdOn(work, nodeId, clientId, 1);
    return { ...receipt, weight: 1, partial: work.partial };
  }

  /** A relaying node is gone: the updates it held for the round in flight are lost, and their clients send them again. */
  relayLost(nodeId: string): void {
    const work = this.work;
    const held = work?.held.get(nodeId);
    if (!work || !held || this.closed) return;
    work.held.delete(nodeId);
    const lost = new Set(held.clients);
    work.contributions = work.contributions.filter((c) => !lost.has(c.clientId));
    // Secure rounds: those masked inputs never reach the sum; their clients count as dropped after their shares.
    if (this.secure?.params.runId === work.runId && this.secure.params.round === work.round) this.secure.forgetMasked(held.clients);
    this.deps.log.warn({ runId: work.runId, round: work.round, node: nodeId, updates: lost.size }, 'a relaying node left with updates it held: their clients send them again');
    this.dispatch({ type: 'updates-lost', at: this.deps.clock.now(), runId: work.runId, round: work.round, clients: held.clients });
  }

  private accepted(work: RoundWork, clientId: string, update: Pick<UpdateSubmit, 'runId' | 'round' | 'samples' | 'metrics'>): UpdateReceipt {
    const test = this.scores.of(update.runId, update.round - 1, clientId);
    const received = recordAccepted(work, clientId, this.state.clients.get(clientId)!.name, update, test);
    const { metrics } = update;
    this.dispatch({
      type: 'update-accepted',
      at: this.deps.clock.now(),
      clientId,
      runId: update.runId,
      round: update.round,
      samples: update.samples,
      metrics: { loss: metrics.loss, accuracy: metrics.accuracy },
    });
    return { accepted: true, received };
  }

  /** A client's score of a global model on its own test data, stored as that model's accuracy (sample-weighted over clients). */
  submitEvaluation(clientId: string, submit: EvalSubmit): { accepted: true } {
    this.requireOpen();
    validateEvaluation(this.state, clientId, submit, this.scores.has(submit.runId, submit.round, clientId));
    const mean = this.scores.add(submit.runId, submit.round, clientId, submit.metrics);
    if (mean) this.persist('client test not stored', () => this.deps.store.setClientTest(submit.runId, submit.round, mean));
    this.notifyRun(submit.runId);
    this.dispatch({ type: 'evaluation-accepted', at: this.deps.clock.now(), clientId, runId: submit.runId, round: submit.round, metrics: submit.metrics });
    return { accepted: true };
  }

  /** Resolves when no check, aggregation or evaluation is in flight (tests). */
  async idle(): Promise<void> {
    await this.ready.catch(() => {});
    for (;;) {
      await this.checking.drained();
      if (!this.aggregations.size) break;
      await Promise.all([...this.aggregations]);
    }
    await this.evaluations.idle();
    await this.written();
  }

  /** Resolves when every store write decided so far has settled (the hub awaits it before it closes the store). */
  async written(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * Runs `write` after every write decided before it (failed or not), and at once when none is in flight, so a
   * synchronous store writes exactly when the engine decides. Its answer, or its failure, is the caller's.
   */
  private inOrder<T>(write: () => Awaitable<T>): Promise<T> {
    const previous = this.writing;
    let result: Promise<T>;
    if (previous) {
      result = previous.then(write);
    } else {
      let answer: Awaitable<T>;
      try {
        answer = write();
      } catch (error) {
        return Promise.reject(error);
      }
      if (!isThenable(answer)) return Promise.resolve(answer);
      result = Promise.resolve(answer);
    }
    const settled: Promise<void> = result.then(
      () => undefined,
      () => undefined,
    );
    this.writing = settled;
    void settled.then(() => {
      if (this.writing === settled) this.writing = null;
    });
    return result;
  }

  /** A write nothing waits for: its failure is logged (the engine goes on; the record catches up at the next write or start). */
  private persist(what: string, write: () => Awaitable<unknown>): void {
    this.inOrder(write).catch((error: unknown) => this.deps.log.error({ err: error }, what));
  }

  /** After this no timer is armed and the store is not touched again: a result still computing is dropped. */
  close(): void {
    this.closed = true;
    this.secure?.close();
    this.work?.sum.discard();
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.statusPush.close();
    this.evaluations.close();
  }

  private randomSeed(): number {
    if (this.deps.randomSeed) return this.deps.randomSeed();
    return crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff;
  }

  private heldSamples(clientId: string): number {
    const run = this.state.run;
    if (!run) return 0;
    if (run.settings.task === 'mnist') return this.shards.shard(clientId)?.length ?? 0;
    return this.state.clients.get(clientId)?.samples ?? 0;
  }

  /** Sockets may still deliver a message after close(): it must not reach the closed store. */
  private requireOpen(): void {
    if (this.closed) throw new CodedError('HUB_ERR_INTERNAL', 'the hub is shutting down');
  }

  private requireClient(clientId: string): void {
    if (!this.state.clients.has(clientId)) throw new CodedError('HUB_ERR_NOT_JOINED', 'join with client:join first');
  }

  private dispatch(event: EngineEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const next = this.queue.shift()!;
        const { state, effects } = reduce(this.state, next);
        this.state = state;
        for (const effect of effects) this.performSafely(effect);
      }
    } finally {
      this.draining = false;
    }
  }

  /** One failing effect (a send, a listener) must not keep the others from running: the deadline is among them. */
  private performSafely(effect: Effect): void {
    try {
      this.perform(effect);
    } catch (error) {
      this.deps.log.error({ err: error, effect: effect.type }, 'effect failed');
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
        this.retryNote = { key: `${effect.runId}#${effect.round}`, note: `attempt ${effect.attempt}, after: ${effect.reason}` };
        return;
      case 'set-timer': {
        if (this.closed) return;
        if (this.timer !== null) clock.clearTimeout(this.timer);
        const { runId, round, phase, at } = effect;
        this.timer = clock.setTimeout(() => {
          this.timer = null;
          if (!this.checking.size) return this.dispatch({ type: 'timer', at: Math.max(clock.now(), at), runId, round, phase });
          // Updates that arrived before the deadline are judged before it closes the round; later ones are refused.
          this.closing = { runId, round };
          this.checking.afterThose(null, () => {
            this.closing = null;
            this.dispatch({ type: 'timer', at: Math.max(clock.now(), at), runId, round, phase });
          });
        }, Math.max(0, at - clock.now()));
        return;
      }
      case 'aggregate': {
        const task = this.aggregate(effect).finally(() => this.aggregations.delete(task));
        this.aggregations.add(task);
        return;
      }
      case 'request-evaluation':
        this.requestEvaluation(effect);
        return;
      case 'round-failed':
        log.warn({ runId: effect.runId, round: effect.round, reason: effect.reason }, 'round failed');
        this.persist('failed round not stored', () => store.failRound(effect.runId, effect.round, effect.reason, clock.now() - effect.roundStartedAt, clock.now()));
        this.notifyRun(effect.runId);
        return;
      case 'run-finished':
        log.info({ runId: effect.runId, status: effect.status, reason: effect.reason }, 'run finished');
        // Stored at once: evaluations still running fill in their rounds later, and a crash now cannot resume an ended run.
        this.persist('run end not stored', () => store.finishRun(effect.runId, effect.status, effect.reason, clock.now()));
        // A secure round of an ended run must not wake up later and relay stage frames for it.
        this.secure?.close();
        if (this.timer !== null) clock.clearTimeout(this.timer);
        this.timer = null;
        this.work?.sum.discard();
        this.work = null;
        this.global = null;
        this.optimizer = null;
        this.scores.clear();
        this.retryNote = null;
        this.notifyRun(effect.runId);
        return;
      case 'status-changed':
        this.statusPush.changed();
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
    const owners = effect.assignShards;
    if (owners) this.persist('shard owners not stored', () => this.deps.store.setShardOwners(effect.runId, owners));
    if (run.settings.task === 'mnist' && run.shardOwners) {
      const sizes = this.shards.assign(effect.runId, run.shardOwners, run.settings);
      if (sizes) this.dispatch({ type: 'shards-assigned', at: this.deps.clock.now(), runId: effect.runId, sizes });
    }
    // A retried round's sum, never finished, is freed.
    this.work?.sum.discard();
    const { folds } = this.deps;
    const remote = folds ? { folds, shapes: this.deps.models.shapes(run.settings.task) } : undefined;
    this.work = startRoundWork(run, global.weights, effect.participants, (id) => this.heldSamples(id), remote);
    this.secure?.close();
    this.secure = run.settings.secureAggregation ? this.startSecureRound(run, this.work) : null;
    // The participants score the model they receive: the one after the previous round.
    this.scores.keepOnly(effect.runId, effect.round - 1);
    this.sendRoundSlices(this.work, effect, 0);
    this.deps.log.info({ runId: effect.runId, round: effect.round, participants: effect.participants.length }, 'round started');
  }

  /**
   * The round's model and starts, ROUND_START_SLICE participants at a time with a turn of the event loop between
   * slices, so that sending a round to thousands of clients never blocks the hub for long: in each slice the model
   * once (Socket.IO encodes the broadcast once), then each participant's own part. A slice still to go when the
   * round is no longer this work's (it ended, or the run stopped) is not sent.
   */
  private sendRoundSlices(work: RoundWork, effect: Extract<Effect, { type: 'start-round' }>, from: number): void {
    if (this.closed || this.work !== work || this.state.run?.id !== effect.runId || this.state.run.round !== effect.round) return;
    const slice = effect.participants.slice(from, from + ROUND_START_SLICE);
    this.deps.transport.broadcast(slice, 'round:model', { runId: effect.runId, round: effect.round, weights: work.frame });
    for (const id of slice) this.sendRoundStart(id, effect.deadline, false);
    const next = from + ROUND_START_SLICE;
    if (next < effect.participants.length) setImmediate(() => this.sendRoundSlices(work, effect, next));
  }

  /** `withModel`: the model inline (a round sent again to one client); false right after the round's broadcast. */
  private sendRoundStart(clientId: string, deadline: number, withModel = true): void {
    const run = this.state.run;
    const work = this.work;
    if (!run || !work || work.runId !== run.id || work.round !== run.round) return;
    const setup = this.secure?.params.round === run.round ? this.secure.setupFor(clientId) : undefined;
    this.deps.transport.send(clientId, 'round:start', roundStartFor(run, work, clientId, this.shards.shard(clientId), deadline, setup, withModel));
  }

  private requestEvaluation(effect: Extract<Effect, { type: 'request-evaluation' }>): void {
    const global = this.global;
    if (!global || global.runId !== effect.runId) return;
    const weights = encodeWeights(global.weights, { round: effect.round, runTag: seedFromString(effect.runId) });
    this.scores.keepOnly(effect.runId, effect.round);
    for (const id of effect.clients) this.deps.transport.send(id, 'model:evaluate', { runId: effect.runId, round: effect.round, task: this.state.run!.settings.task, weights });
  }

  private async aggregate(effect: Extract<Effect, { type: 'aggregate' }>): Promise<void> {
    const { clock, store, models, log } = this.deps;
    // The last update's ack must go out before the next round:start, or that client sees round N+1 first
    // and then takes the late ack of round N as the end of its new round.
    await new Promise((resolve) => setImmediate(resolve));
    const work = this.work;
    const run = this.state.run;
    if (this.closed || run?.id !== effect.runId) return; // shut down or stopped in the meantime
    let weights: FlatWeights;
    let privacy: ReturnType<Coordinator['privacyOf']>;
    let stepped: ReturnType<Coordinator['serverStep']>;
    try {
      if (!work || work.runId !== effect.runId || work.round !== effect.round) throw new Error('no updates collected for this round');
      if (!run.settings.secureAggregation) await this.foldPartials(work, run.settings.task);
      // Off the event loop the sum is the worker's: its answer comes after every fold posted before it.
      const total = run.settings.secureAggregation ? null : await work.sum.finish();
      const combined = total ? { values: total.values, note: total.note, survivors: work.contributions.length } : await this.unmask(work);
      if (this.closed || this.state.run?.id !== effect.runId) return;
      privacy = this.privacyOf(run, combined.survivors, total ? total.clipped : null);
      const details = {
        evaluation: models.evaluates(run.settings.task) ? ('pending' as const) : ('none' as const),
        startedAt: effect.roundStartedAt,
        at: clock.now(),
        retryNote: this.retryNote?.key === `${effect.runId}#${effect.round}` ? this.retryNote.note : null,
      };
      stepped = this.serverStep(effect.runId, work.base, combined);
      const record = { ...finishRoundWork(work, this.global!.weights.shapes, run.settings.task, details, stepped.combined), privacy, optimizerState: stepped.encoded };
      weights = record.weights;
      const checkpoint = await this.inOrder(() => store.completeRound(record));
      if (this.closed) return;
      log.info({ runId: effect.runId, round: effect.round, clients: work.contributions.length, sha256: checkpoint.sha256, epsilon: privacy?.epsilon }, 'round aggregated');
    } catch (error) {
      // A secure round the survivors cannot unmask is the clients' failure: retried like a round that timed out.
      const secure = error instanceof CodedError && error.code.startsWith('HUB_ERR_SECAGG_');
      if (!secure) log.error({ err: error, runId: effect.runId, round: effect.round }, 'aggregation failed');
      const reason = secure ? `${(error as CodedError).code}: ${(error as CodedError).message}` : `aggregation failed: ${String(error)}`;
      // A fold worker that died took the round's sum with it, not a fault in the updates: the round is tried again, in a new one.
      this.dispatch({ type: 'round-aborted', at: clock.now(), runId: effect.runId, round: effect.round, reason, retry: secure || error instanceof FoldWorkerLost || error instanceof PartialLost });
      return;
    }
    // Committed: from here on nothing may abort the round.
    this.global = { runId: effect.runId, weights };
    this.retryNote = null;
    // The optimiser moves on only with a committed round: a round that fails before its commit leaves the state as it was.
    if (this.optimizer?.runId === effect.runId) {
      this.optimizer.optimizer.restore(stepped.state);
      this.optimizer.lost = null;
    }
    if (models.evaluates(run.settings.task)) this.evaluations.enqueue({ runId: effect.runId, task: run.settings.task, round: effect.round, weights });
    this.notifyRun(effect.runId);
    const spent = privacy ? { samplingRate: privacy.samplingRate, noiseMultiplier: privacy.noiseMultiplier } : undefined;
    this.dispatch({ type: 'round-completed', at: clock.now(), runId: effect.runId, round: effect.round, ...(spent ? { privacy: spent } : {}) });
  }

  /**
   * Adds each relaying node's partial sum (float64, its clients' weighted updates) to the round's sum, which then
   * holds what one node folding every update would hold. The partial must hold exactly the updates the leader
   * accepted from that node, with their weights, and be a finite sum of the model's size.
   */
  private async foldPartials(work: RoundWork, task: RunSettings['task']): Promise<void> {
    for (const [nodeId, held] of work.held) {
      const source = this.deps.partials;
      if (!source) throw new PartialLost(`node ${nodeId} holds updates, and this hub takes no partial sums`);
      let partial: PartialSum;
      try {
        partial = await source.collect(nodeId, { partial: work.partial, clients: held.clients });
      } catch (error) {
        throw new PartialLost(`node ${nodeId}'s partial sum could not be had: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (this.work !== work || work.held.get(nodeId) !== held) throw new PartialLost(`node ${nodeId} left while its partial sum was taken`);
      if (!holdsExactly(partial, 'fedavg', work, held) || Math.abs(partial.weight - held.weight) > 1e-9 * held.weight) {
        throw new PartialLost(`node ${nodeId}'s partial sum holds other updates than the ${held.clients.length} accepted from it`);
      }
      const bytes = toBytes(partial.sum);
      if (bytes.byteLength !== work.base.length * 8) {
        throw new PartialLost(`node ${nodeId}'s partial sum has ${bytes.byteLength} bytes, the ${task} model's ${work.base.length * 8}`);
      }
      // Copied into an aligned buffer of its own (which moves to the fold worker, when there is one).
      const sum = new Float64Array(work.base.length);
      new Uint8Array(sum.buffer).set(bytes);
      if (!sum.every(Number.isFinite)) throw new PartialLost(`node ${nodeId}'s partial sum is not finite`);
      work.sum.merge(sum, held.weight, held.clients.length);
    }
  }

  /** The server optimiser's step from the model the participants received to the round's combined model, and its note. */
  private serverStep(runId: string, base: Float32Array, combined: { values: Float32Array; note: string | null }) {
    const holder = this.optimizer;
    if (holder?.runId !== runId) throw new Error(`run ${runId} has no server optimiser`);
    const { values, state } = holder.optimizer.step(base, combined.values);
    const note = [combined.note, serverNote(holder.optimizer.settings), holder.lost].filter(Boolean).join('; ') || null;
    return { combined: { values, note }, state, encoded: state ? encodeOptimizerState(state) : null };
  }

  /** Differential privacy: what the round spent (the noise actually added, for the survivors) and the run's epsilon after it. */
  private privacyOf(run: RunState, survivors: number, clipped: number | null): CompletedRound['privacy'] {
    const dp = run.settings.dp;
    if (!dp) return null;
    const participants = run.participants.length;
    const step = { samplingRate: run.population > 0 ? participants / run.population : 1, noiseMultiplier: effectiveNoiseMultiplier(dp, participants, survivors) };
    const { epsilon } = privacySpent([...run.privacySpent, step], dp.delta);
    return { ...step, participants, survivors, clipped, epsilon };
  }

  /**
   * Secure rounds: adds each relaying node's sum of its clients' masked inputs (modulo 2^32, still masked) to the
   * round's. A node whose sum cannot be had, or does not hold exactly the inputs accepted from it, is left out: its
   * clients count as dropped after their shares, which secure aggregation survives while enough others remain.
   */
  private async addMaskedPartials(work: RoundWork, secure: SecureRound): Promise<void> {
    for (const [nodeId, held] of [...work.held]) {
      let words: Uint32Array | null = null;
      let why = '';
      try {
        const source = this.deps.partials;
        if (!source) throw new Error('this hub takes no partial sums');
        const partial = await source.collect(nodeId, { partial: work.partial, clients: held.clients });
        const bytes = toBytes(partial.sum);
        if (!holdsExactly(partial, 'masked', work, held)) why = `it holds other masked inputs than the ${held.clients.length} accepted from it`;
        else if (bytes.byteLength !== 4 * (secure.params.length + 1)) why = `${bytes.byteLength} bytes, expected ${4 * (secure.params.length + 1)}`;
        else {
          words = new Uint32Array(secure.params.length + 1);
          new Uint8Array(words.buffer).set(bytes);
        }
      } catch (error) {
        why = error instanceof Error ? error.message : String(error);
      }
      if (this.work !== work) throw new CodedError('HUB_ERR_SECAGG_UNRECOVERABLE', 'the secure round was lost');
      if (words) {
        try {
          secure.addMaskedSum(held.clients, words);
          continue;
        } catch (error) {
          why = error instanceof Error ? error.message : String(error);
        }
      }
      this.deps.log.warn({ runId: work.runId, round: work.round, node: nodeId, inputs: held.clients.length, reason: why }, "a relaying node's sum of masked inputs was left out: its clients count as dropped");
      secure.forgetMasked(held.clients);
      const lost = new Set(held.clients);
      work.contributions = work.contributions.filter((c) => !lost.has(c.clientId));
      work.held.delete(nodeId);
    }
  }

  /** Secure rounds: the survivors' shares remove the masks; only the sum of their changes is ever seen. */
  private async unmask(work: RoundWork): Promise<{ values: Float32Array; note: string | null; survivors: number }> {
    const secure = this.secure;
    if (!secure || secure.params.round !== work.round) throw new CodedError('HUB_ERR_SECAGG_UNRECOVERABLE', 'the secure round was lost');
    await this.addMaskedPartials(work, secure);
    const { sum, weight } = await secure.unmask();
    const dropped = secure.dropped.length ? `secure aggregation; dropped: ${secure.dropped.map((id) => this.state.clients.get(id)?.name ?? id).join(', ')}` : 'secure aggregation';
    const dp = this.state.run?.settings.dp;
    if (dp) {
      // Every weight is 1 under DP: the weight total is the survivors' count; the denominator stays the drawn clients'.
      const participants = secure.params.participants.length;
      return { values: dpMean(work.base, sum, dp, participants), note: `${dropped}; differential privacy: ${weight} of ${participants} drawn clients' changes, ${dp.noise} noise`, survivors: weight };
    }
    return { values: applyMeanDelta(work.base, sum, weight), note: dropped, survivors: secure.params.participants.length - secure.dropped.length };
  }

  /** Listeners read the run from the store: they hear of it once the writes decided before have settled. */
  private notifyRun(runId: string): void {
    const notify = () => {
      for (const listener of this.runListeners) safely(this.deps.log, () => listener(runId));
    };
    if (this.writing) void this.writing.then(notify);
    else notify();
  }
}

/** Records an update (or masked input) accepted from `clientId` that node `nodeId` keeps for its partial sum. */
function holdOn(work: RoundWork, nodeId: string, clientId: string, weight: number): void {
  const node = work.held.get(nodeId) ?? { clients: [], weight: 0 };
  node.clients.push(clientId);
  node.weight += weight;
  work.held.set(nodeId, node);
}

/** A node's partial sum is of this round attempt and kind, and names exactly the clients accepted from it, in order. */
function holdsExactly(partial: PartialSum, kind: PartialSum['kind'], work: RoundWork, held: { clients: string[] }): boolean {
  return partial.kind === kind && partial.partial === work.partial && partial.clients.length === held.clients.length && held.clients.every((id, i) => partial.clients[i] === id);
}

function isThenable<T>(value: Awaitable<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
