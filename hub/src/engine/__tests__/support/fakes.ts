import { toBytes } from '@fl/shared';
import { createHash } from 'node:crypto';
import {
  CodedError,
  encodeWeights,
  seedFromString,
  type ErrorCode,
  type ClientData,
  type EvalMetrics,
  type FlatWeights,
  type HubToClientEvents,
  type JoinRequest,
  type RoundRecord,
  type RunDetail,
  type RunSettings,
  type RunStatus,
  type TaskId,
} from '@fl/shared';
import type { Checkpoint, CompletedRound, PendingEvaluation, RoundCheckpoint } from '../../../store/store';
import { Coordinator, type CoordinatorDeps } from '../../coordinator';
import type { Clock, EngineStore, Evaluator, Logger, Transport } from '../../ports';

// Fakes of the coordinator's ports: no sockets, no SQLite, no TF.js.

/** Every task's model in these tests: a 2x2 kernel and a bias of 2 (6 values). */
export const SHAPES: number[][] = [[2, 2], [2]];
export const FRESH = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];

/** Manual timers: nothing fires until the test moves time on. */
export class FakeClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  /** Every setTimeout ever made, for tests that check what was armed. */
  readonly armed: { id: number; at: number }[] = [];

  constructor(private current = 1_000_000) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + ms, fn });
    this.armed.push({ id, at: this.current + ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers armed and neither fired nor cleared. */
  get live(): number {
    return this.timers.size;
  }

  /** When the earliest live timer fires, or null. */
  get nextAt(): number | null {
    const ats = [...this.timers.values()].map((t) => t.at);
    return ats.length ? Math.min(...ats) : null;
  }

  /** Moves time on by `ms`, firing every timer that falls due on the way (also those armed by a firing one). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.current = Math.max(this.current, due[1].at);
      due[1].fn();
    }
    this.current = end;
  }

  /** Moves time to the earliest live timer and fires it. */
  fireNext(): void {
    const at = this.nextAt;
    if (at === null) throw new Error('no timer is armed');
    this.advance(Math.max(0, at - this.current));
  }
}

export interface Sent<E extends keyof HubToClientEvents = keyof HubToClientEvents> {
  clientId: string;
  event: E;
  payload: Parameters<HubToClientEvents[E]>[0];
}

/** Records what the hub sends; throws on the events in `throwOn` (a socket that fails). */
export class RecordingTransport implements Transport {
  readonly sent: Sent[] = [];
  readonly throwOn = new Set<keyof HubToClientEvents>();
  attempts = 0;

  send<E extends keyof HubToClientEvents>(clientId: string, event: E, ...args: Parameters<HubToClientEvents[E]>): void {
    this.attempts += 1;
    if (this.throwOn.has(event)) throw new Error(`transport refuses ${event}`);
    this.sent.push({ clientId, event, payload: args[0] } as Sent);
  }

  /** Recorded once per recipient, as if sent to each. */
  broadcast<E extends keyof HubToClientEvents>(clientIds: readonly string[], event: E, ...args: Parameters<HubToClientEvents[E]>): void {
    this.attempts += 1;
    if (this.throwOn.has(event)) throw new Error(`transport refuses ${event}`);
    for (const clientId of clientIds) this.sent.push({ clientId, event, payload: args[0] } as Sent);
  }

  /** The model frame `clientId` got for `round`: inline in its round:start or from the round:model broadcast. */
  modelFor(clientId: string, round: number): Uint8Array {
    const start = this.of('round:start').filter((s) => s.clientId === clientId && s.payload.round === round).at(-1);
    if (start?.payload.weights) return toBytes(start.payload.weights);
    const model = this.of('round:model').filter((s) => s.clientId === clientId && s.payload.round === round).at(-1);
    if (!model) throw new Error(`no model for ${clientId} in round ${round}`);
    return toBytes(model.payload.weights);
  }

  of<E extends keyof HubToClientEvents>(event: E): Sent<E>[] {
    return this.sent.filter((s): s is Sent<E> => s.event === event);
  }
}

export interface StoreCall {
  method: keyof EngineStore;
  args: unknown[];
  afterClose: boolean;
}

const sha = (values: Float32Array): string =>
  createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');

/**
 * EngineStore in memory, with HubStore's semantics where the coordinator relies on them. Records every
 * call; after `close()` every call is still recorded (afterClose) and throws, like a closed database.
 */
export class MemoryStore implements EngineStore {
  readonly calls: StoreCall[] = [];
  private closed = false;
  /** Methods that throw on their next call (a transient SQLite error). */
  readonly failNext = new Set<keyof EngineStore>();
  private readonly runs = new Map<string, RunDetail>();
  private readonly checkpoints: RoundCheckpoint[] = [];
  private readonly owners = new Map<string, string[]>();
  private nextCheckpoint = 1;

  close(): void {
    this.closed = true;
  }

  callsTo(method: keyof EngineStore): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  get callsAfterClose(): StoreCall[] {
    return this.calls.filter((c) => c.afterClose);
  }

  private touch(method: keyof EngineStore, args: unknown[]): void {
    this.calls.push({ method, args, afterClose: this.closed });
    if (this.closed) throw new Error(`the database is closed (${method})`);
    if (this.failNext.delete(method)) throw new Error(`${method} failed`);
  }

  private addCheckpoint(runId: string, task: TaskId, round: number, weights: FlatWeights, at: number, optimizerState: Uint8Array | null = null): Checkpoint {
    const values = Float32Array.from(weights.values);
    const state = optimizerState ? Uint8Array.from(optimizerState) : null;
    const checkpoint = { id: this.nextCheckpoint++, task, runId, round, shapes: weights.shapes, values, sha256: sha(values), createdAt: at };
    this.checkpoints.push({ ...checkpoint, optimizerState: state });
    return checkpoint;
  }

  private requireRun(id: string): RunDetail {
    const run = this.runs.get(id);
    if (!run) throw new Error(`no run ${id}`);
    return run;
  }

  /** Drops a checkpoint, as pruning or a damaged file would. */
  dropCheckpoint(runId: string, round: number): void {
    const i = this.checkpoints.findIndex((c) => c.runId === runId && c.round === round);
    if (i >= 0) this.checkpoints.splice(i, 1);
  }

  /** Replaces the server optimiser state stored with a checkpoint (null: as if none was stored). */
  setOptimizerState(runId: string, round: number, state: Uint8Array | null): void {
    const checkpoint = this.checkpoints.find((c) => c.runId === runId && c.round === round);
    if (!checkpoint) throw new Error(`no checkpoint ${runId}#${round}`);
    checkpoint.optimizerState = state;
  }

  createRun(id: string, settings: RunSettings, at: number, initial: FlatWeights): Checkpoint {
    this.touch('createRun', [id, settings, at, initial]);
    this.runs.set(id, { id, task: settings.task, status: 'running', settings, createdAt: at, endedAt: null, reason: null, initialTest: null, rounds: [] });
    return this.addCheckpoint(id, settings.task, 0, initial, at);
  }

  completeRound(round: CompletedRound): Checkpoint {
    this.touch('completeRound', [round]);
    const run = this.requireRun(round.runId);
    const record: RoundRecord = {
      round: round.round,
      status: 'completed',
      clients: round.participants.length,
      samples: round.participants.reduce((n, p) => n + p.samples, 0),
      accuracy: null,
      loss: null,
      durationMs: round.durationMs,
      clientTest: null,
      reason: null,
      note: round.note ?? null,
      evaluation: round.evaluation,
      weightsHash: sha(round.weights.values),
      ...(round.privacy ? (({ epsilon, ...privacy }) => ({ epsilon, privacy }))(round.privacy) : { epsilon: null, privacy: null }),
    };
    run.rounds = [...run.rounds.filter((r) => r.round !== round.round), record].sort((a, b) => a.round - b.round);
    return this.addCheckpoint(round.runId, round.task, round.round, round.weights, round.at, round.optimizerState ?? null);
  }

  failRound(runId: string, round: number, reason: string, durationMs: number, at: number): void {
    this.touch('failRound', [runId, round, reason, durationMs, at]);
    const run = this.requireRun(runId);
    const record: RoundRecord = {
      round,
      status: 'failed',
      clients: 0,
      samples: 0,
      accuracy: null,
      loss: null,
      durationMs,
      clientTest: null,
      reason,
      note: null,
      evaluation: 'none',
      weightsHash: null,
      epsilon: null,
      privacy: null,
    };
    run.rounds = [...run.rounds.filter((r) => r.round !== round), record].sort((a, b) => a.round - b.round);
  }

  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, reason: string | null, at: number): void {
    this.touch('finishRun', [runId, status, reason, at]);
    Object.assign(this.requireRun(runId), { status, reason, endedAt: at });
  }

  private roundOf(runId: string, round: number): RoundRecord | undefined {
    return this.runs.get(runId)?.rounds.find((r) => r.round === round);
  }

  setRoundEvaluation(runId: string, round: number, accuracy: number, loss: number): void {
    this.touch('setRoundEvaluation', [runId, round, accuracy, loss]);
    const record = this.roundOf(runId, round);
    if (record) Object.assign(record, { accuracy, loss, evaluation: 'done' });
  }

  failRoundEvaluation(runId: string, round: number): void {
    this.touch('failRoundEvaluation', [runId, round]);
    const record = this.roundOf(runId, round);
    if (record) record.evaluation = 'failed';
  }

  pendingEvaluations(): PendingEvaluation[] {
    this.touch('pendingEvaluations', []);
    return [...this.runs.values()].flatMap((run) =>
      run.rounds.filter((r) => r.evaluation === 'pending').map((r) => ({ runId: run.id, task: run.task, round: r.round })),
    );
  }

  setClientTest(runId: string, round: number, metrics: EvalMetrics): void {
    this.touch('setClientTest', [runId, round, metrics]);
    if (round === 0) {
      this.requireRun(runId).initialTest = metrics;
      return;
    }
    const record = this.roundOf(runId, round);
    if (record) Object.assign(record, { clientTest: metrics, accuracy: metrics.accuracy, loss: metrics.loss ?? null, evaluation: 'done' });
  }

  setShardOwners(runId: string, owners: string[]): void {
    this.touch('setShardOwners', [runId, owners]);
    this.owners.set(runId, [...owners]);
  }

  shardOwners(runId: string): string[] | null {
    this.touch('shardOwners', [runId]);
    return this.owners.get(runId) ?? null;
  }

  latestCheckpoint(task: TaskId): Checkpoint | null {
    this.touch('latestCheckpoint', [task]);
    const latest = this.checkpoints.filter((c) => c.task === task && c.round > 0).at(-1);
    if (!latest) return null;
    const { optimizerState: _state, ...checkpoint } = latest;
    return checkpoint;
  }

  checkpoint(runId: string, round: number): RoundCheckpoint | null {
    this.touch('checkpoint', [runId, round]);
    return this.checkpoints.find((c) => c.runId === runId && c.round === round) ?? null;
  }

  runsWithStatus(status: RunStatus): string[] {
    this.touch('runsWithStatus', [status]);
    return [...this.runs.values()].filter((r) => r.status === status).sort((a, b) => a.createdAt - b.createdAt).map((r) => r.id);
  }

  run(id: string): RunDetail | null {
    this.touch('run', [id]);
    return this.runs.get(id) ?? null;
  }
}

export interface EvaluateCall {
  task: TaskId;
  weights: FlatWeights;
  resolve: (result: { accuracy: number; loss: number } | null) => void;
  reject: (error: Error) => void;
}

/** The hub's models without TF.js: fixed shapes, fixed fresh weights, evaluations the test answers (or answered at once). */
export class FakeEvaluator implements Evaluator {
  readonly calls: EvaluateCall[] = [];
  /** When true, evaluate() waits for the test to resolve or reject the call. */
  hold = false;
  result: { accuracy: number; loss: number } | null = { accuracy: 0.5, loss: 1 };

  shapes(_task: TaskId): number[][] {
    return SHAPES.map((s) => [...s]);
  }

  freshWeights(_task: TaskId): FlatWeights {
    return { shapes: this.shapes(_task), values: Float32Array.from(FRESH) };
  }

  evaluate(task: TaskId, weights: FlatWeights): Promise<{ accuracy: number; loss: number } | null> {
    return new Promise((resolve, reject) => {
      this.calls.push({ task, weights, resolve, reject });
      if (!this.hold) resolve(this.result);
    });
  }

  evaluates(task: TaskId): boolean {
    return task === 'mnist';
  }
}

export class RecordingLogger implements Logger {
  readonly entries: { level: 'info' | 'warn' | 'error'; obj: object; msg?: string }[] = [];
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj, ...(msg !== undefined ? { msg } : {}) });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, ...(msg !== undefined ? { msg } : {}) });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, ...(msg !== undefined ? { msg } : {}) });
  }
  errors(): string[] {
    return this.entries.filter((e) => e.level === 'error').map((e) => e.msg ?? '');
  }
}

/** A weight frame of the test model (or of other shapes), as a client would send it. */
export function frame(
  values: ArrayLike<number>,
  meta: { runId?: string; round?: number; delta?: boolean; shapes?: number[][] } = {},
): Uint8Array {
  return encodeWeights(
    { shapes: meta.shapes ?? SHAPES, values: Float32Array.from(values) },
    { ...(meta.round !== undefined ? { round: meta.round } : {}), ...(meta.runId ? { runTag: seedFromString(meta.runId) } : {}), ...(meta.delta ? { delta: true } : {}) },
  );
}

export const MNIST_DATA: ClientData = { task: 'mnist' };
export const xrayData = (images: number, testImages = 10): ClientData => ({
  task: 'chest-xray',
  imageSize: 64,
  train: { normal: Math.floor(images / 2), pneumonia: images - Math.floor(images / 2) },
  test: { normal: Math.floor(testImages / 2), pneumonia: testImages - Math.floor(testImages / 2) },
});

export const joinRequest = (name: string, data: ClientData | null): JoinRequest => ({ name, kind: 'headless', data, backend: { name: 'cpu' } });

/** 40 MNIST training labels (0..9 repeated): shards of a few digits each. */
export const MNIST_LABELS = Uint8Array.from({ length: 40 }, (_, i) => i % 10);

export interface FakeHub {
  coordinator: Coordinator;
  clock: FakeClock;
  transport: RecordingTransport;
  store: MemoryStore;
  evaluator: FakeEvaluator;
  log: RecordingLogger;
}

/** A coordinator on fakes; pass a store or evaluator to set them up before construction (resume). */
export function fakeHub(options: { store?: MemoryStore; evaluator?: FakeEvaluator; clock?: FakeClock; ids?: string[]; deps?: Partial<CoordinatorDeps> } = {}): FakeHub {
  const clock = options.clock ?? new FakeClock();
  const transport = new RecordingTransport();
  const store = options.store ?? new MemoryStore();
  const evaluator = options.evaluator ?? new FakeEvaluator();
  const log = new RecordingLogger();
  const ids = [...(options.ids ?? [])];
  let n = 0;
  const coordinator = new Coordinator({
    store,
    models: evaluator,
    mnistTrainLabels: MNIST_LABELS,
    transport,
    clock,
    log,
    newId: () => ids.shift() ?? `run-${++n}`,
    randomSeed: () => 1,
    ...options.deps,
  });
  return { coordinator, clock, transport, store, evaluator, log };
}

/** Joins clients in order, 1 ms apart on the fake clock (join order decides participants' places). */
export function joinAll(hub: FakeHub, clients: [id: string, data: ClientData | null][]): void {
  for (const [id, data] of clients) {
    hub.coordinator.join(id, joinRequest(`name-${id}`, data));
    hub.clock.advance(1);
  }
}

/** The code a promise is refused with; fails the test when it resolves. */
export async function refusalOf(answer: Promise<unknown>): Promise<ErrorCode> {
  try {
    await answer;
  } catch (error) {
    if (error instanceof CodedError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal, the call succeeded');
}

/** The code a call is refused with; fails the test when the call succeeds. */
export function refusal(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (error) {
    if (error instanceof CodedError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal, the call succeeded');
}
