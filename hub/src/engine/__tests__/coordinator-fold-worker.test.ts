import { afterAll, describe, expect, it } from 'vitest';
import { CodedError, type LaunchRequest, type UpdateReceipt, type UpdateSubmit } from '@fl/shared';
import type { CompletedRound } from '../../store/store';
import { FoldWorker } from '../fold-worker';
import { fakeHub, frame, joinAll, RecordingLogger, refusal, xrayData, type FakeHub } from './support/fakes';

// The coordinator with its updates checked and folded in the fold worker: the same answers and the same models as
// on the event loop, each answered once the worker has judged the update.

const TIMEOUT_MS = 60_000;
const xray = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({ task: 'chest-xray', rounds: 2, minClients: 1, roundTimeoutSec: 60, seed: 7, ...over });
const fill = (v: number): number[] => Array.from({ length: 6 }, () => v);

const folds = new FoldWorker(new RecordingLogger());
afterAll(() => folds.close());

const hubWith = (offThread: boolean): FakeHub => fakeHub(offThread ? { deps: { folds } } : {});

function updateOf(hub: FakeHub, clientId: string, values: ArrayLike<number>, over: Partial<UpdateSubmit> & { shapes?: number[][] } = {}): UpdateSubmit {
  const run = hub.coordinator.engineState.run!;
  const round = over.round ?? run.round;
  const { shapes, ...rest } = over;
  return {
    runId: run.id,
    round,
    samples: hub.coordinator.engineState.clients.get(clientId)!.samples,
    weights: frame(values, { runId: run.id, round, ...(shapes ? { shapes } : {}) }),
    metrics: { loss: 0.5, accuracy: 0.8, trainMs: 5 },
    ...rest,
  };
}

/** What a submit came to, whether it answered at once or later: its receipt, or its code. */
async function outcome(answer: () => UpdateReceipt | Promise<UpdateReceipt>): Promise<UpdateReceipt | string> {
  try {
    return await answer();
  } catch (error) {
    if (error instanceof CodedError) return error.code;
    throw error;
  }
}

const submit = (hub: FakeHub, id: string, values: number[], over: Partial<UpdateSubmit> & { shapes?: number[][] } = {}) =>
  outcome(() => hub.coordinator.submit(id, updateOf(hub, id, values, over)));

const committed = (hub: FakeHub, round: number): CompletedRound | undefined =>
  hub.store.callsTo('completeRound').map((args) => args[0] as CompletedRound).find((r) => r.round === round);

/** Three clients: a's update and two duplicates (one also a bad frame), two bad frames and a claim beyond b's images, then b's and c's good ones. */
async function roundWithRefusals(hub: FakeHub, strategy: LaunchRequest['strategy']): Promise<(UpdateReceipt | string)[]> {
  joinAll(hub, [
    ['a', xrayData(10)],
    ['b', xrayData(30)],
    ['c', xrayData(60)],
  ]);
  await hub.coordinator.launch(xray({ minClients: 3, maxClientShare: 1, strategy }));
  const answers = await Promise.all([
    submit(hub, 'a', [1, 2, 3, 4, 5, 6]),
    submit(hub, 'a', fill(100)),
    submit(hub, 'a', fill(100), { shapes: [[4], [2]] }),
    submit(hub, 'b', fill(100), { shapes: [[4], [2]] }),
    submit(hub, 'b', [Number.NaN, ...fill(100).slice(1)]),
    submit(hub, 'b', fill(100), { samples: 31 }),
    submit(hub, 'b', [2, 2, 2, -2, -2, -2]),
    submit(hub, 'c', [-1, 0, 1, -1, 0, 1]),
  ]);
  await hub.coordinator.idle();
  return answers;
}

async function twoClients(hub: FakeHub): Promise<string> {
  joinAll(hub, [
    ['a', xrayData(10)],
    ['b', xrayData(30)],
  ]);
  return (await hub.coordinator.launch(xray({ minClients: 1, maxClientShare: 1 }))).id;
}

describe('Coordinator with a fold worker', () => {
  it.each(['fedavg', 'median'] as const)('refuses with the same codes and commits the same %s model as on the event loop, bit for bit', async (strategy) => {
    const onLoop = hubWith(false);
    const here = await roundWithRefusals(onLoop, strategy);
    const offLoop = hubWith(true);
    const there = await roundWithRefusals(offLoop, strategy);
    expect(there).toEqual([
      { accepted: true, received: 1 },
      'HUB_ERR_DUPLICATE_UPDATE',
      'HUB_ERR_DUPLICATE_UPDATE',
      'HUB_ERR_SHAPE_MISMATCH',
      'HUB_ERR_NON_FINITE',
      'HUB_ERR_INVALID_PAYLOAD',
      { accepted: true, received: 2 },
      { accepted: true, received: 3 },
    ]);
    expect(there).toEqual(here);
    const model = committed(offLoop, 1)!.weights.values;
    expect(Array.from(model)).toEqual(Array.from(committed(onLoop, 1)!.weights.values));
    expect(committed(offLoop, 1)!.participants.map((p) => p.clientId)).toEqual(['a', 'b', 'c']);
  });

  it('answers once the worker has checked the update, and closes the round only after the last is accepted', async () => {
    const hub = hubWith(true);
    joinAll(hub, [['a', xrayData(10)]]);
    await hub.coordinator.launch(xray());
    const update = updateOf(hub, 'a', fill(1));
    const answer = hub.coordinator.submit('a', update);
    expect(answer).toBeInstanceOf(Promise);
    // Not counted yet: the reducer hears of it with the worker's verdict.
    expect(hub.coordinator.engineState.run).toMatchObject({ phase: 'training' });
    expect(hub.coordinator.engineState.run!.submitted.size).toBe(0);
    expect(await answer).toEqual({ accepted: true, received: 1 });
    await hub.coordinator.idle();
    expect(Array.from(committed(hub, 1)!.weights.values)).toEqual(fill(1));
  });

  it('the deadline waits for the updates in the worker; one arriving after it is refused with HUB_ERR_ROUND_CLOSED and not folded', async () => {
    const hub = hubWith(true);
    await twoClients(hub);
    const early = submit(hub, 'a', fill(2));
    hub.clock.advance(TIMEOUT_MS);
    expect(hub.coordinator.engineState.run).toMatchObject({ phase: 'training' });
    expect(refusal(() => hub.coordinator.submit('b', updateOf(hub, 'b', fill(50))))).toBe('HUB_ERR_ROUND_CLOSED');
    expect(await early).toEqual({ accepted: true, received: 1 });
    await hub.coordinator.idle();
    expect(Array.from(committed(hub, 1)!.weights.values)).toEqual(fill(2));
    expect(committed(hub, 1)!.participants.map((p) => p.clientId)).toEqual(['a']);
  });

  it('a client that leaves while its update is in the worker is counted, and the round waits for the others', async () => {
    const hub = hubWith(true);
    await twoClients(hub);
    const sent = submit(hub, 'a', fill(1));
    hub.coordinator.leave('a');
    expect(await sent).toEqual({ accepted: true, received: 1 });
    await hub.coordinator.idle();
    expect(hub.coordinator.engineState.clients.get('a')).toMatchObject({ connected: false });
    expect(committed(hub, 1)).toBeUndefined();
    expect(await submit(hub, 'b', fill(3))).toEqual({ accepted: true, received: 2 });
    await hub.coordinator.idle();
    // FedAvg by images: a holds 10, b 30.
    expect(Array.from(committed(hub, 1)!.weights.values)).toEqual(fill(2.5));
  });

  it('a fold worker that dies takes its round with it: the round is tried again in a new worker and commits', async () => {
    const own = new FoldWorker(new RecordingLogger());
    try {
      const hub = fakeHub({ deps: { folds: own } });
      await twoClients(hub);
      expect(await submit(hub, 'a', fill(7))).toEqual({ accepted: true, received: 1 });
      // Fault injection: the thread goes away with the round's sum in it.
      await (own as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      hub.clock.advance(TIMEOUT_MS);
      await hub.coordinator.idle();
      expect(hub.coordinator.engineState.run).toMatchObject({ round: 1, attempt: 2, phase: 'training' });
      expect(committed(hub, 1)).toBeUndefined();
      expect(await submit(hub, 'a', fill(1))).toEqual({ accepted: true, received: 1 });
      expect(await submit(hub, 'b', fill(5))).toEqual({ accepted: true, received: 2 });
      await hub.coordinator.idle();
      expect(Array.from(committed(hub, 1)!.weights.values)).toEqual(fill(4));
      expect(committed(hub, 1)!.note).toContain('the fold worker');
    } finally {
      await own.close();
    }
  });

  it('an update still in the worker when the run is stopped is refused, and nothing is committed', async () => {
    const hub = hubWith(true);
    const id = await twoClients(hub);
    const sent = submit(hub, 'a', fill(1));
    hub.coordinator.stop(id);
    expect(await sent).toBe('HUB_ERR_NO_RUN');
    await hub.coordinator.idle();
    expect(hub.store.callsTo('completeRound')).toEqual([]);
  });
});
