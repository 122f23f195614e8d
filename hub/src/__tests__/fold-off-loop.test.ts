import { afterEach, describe, expect, it } from 'vitest';
import { createRng, encodeWeights, seedFromString, type FlatWeights, type HubStatus, type JoinRequest, type TaskId, type UpdateReceipt } from '@fl/shared';
import { FoldWorker } from '../engine/fold-worker';
import { ADMIN_TOKEN, fixedInitialWeights, sequentialIds, startTestHub, type TestHub } from './support/test-hub';
import { emitAck, joinRaw, LOCAL_METRICS } from './support/raw-client';
import { waitFor } from './support/wait-for';
import { sqliteOf } from '../app';

// The hub folds updates off its event loop (issue 13): it answers while a round of many large updates is summed.

const mnistWeights = fixedInitialWeights();

/** A chest X-ray model of `params` values in one tensor, so that each update is a large frame. */
function bigChestModel(params: number): (task: TaskId) => FlatWeights {
  const rng = createRng(5);
  const chest: FlatWeights = { shapes: [[params]], values: Float32Array.from({ length: params }, () => rng() - 0.5) };
  return (task) => (task === 'chest-xray' ? chest : mnistWeights(task));
}

const xrayJoin = (name: string, images: number): JoinRequest => ({
  name,
  kind: 'headless',
  data: { task: 'chest-xray', imageSize: 64, train: { normal: images, pneumonia: images }, test: { normal: 5, pneumonia: 5 } },
  backend: { name: 'cpu' },
});

let hub: TestHub | null = null;
afterEach(async () => {
  await hub?.close();
  hub = null;
});

describe('aggregation off the event loop', () => {
  it('answers GET /api/status while it folds a round of 500 updates of 1M values: the answer comes before the round is committed', async () => {
    const params = 2 ** 20;
    const clients = 500;
    hub = await startTestHub({ initialWeights: bigChestModel(params), newId: sequentialIds() });
    const { coordinator } = hub.app;
    const store = sqliteOf(hub.app);
    const ids = Array.from({ length: clients }, (_, i) => `client-${i}`);
    for (const [i, id] of ids.entries()) coordinator.join(id, xrayJoin(id, 1000 + i));
    const { id: runId } = await coordinator.launch({ task: 'chest-xray', rounds: 1, minClients: clients, roundTimeoutSec: 600, seed: 1, init: 'fresh', maxClientShare: 1 });
    expect(coordinator.engineState.run).toMatchObject({ phase: 'training', round: 1 });

    const events: string[] = [];
    coordinator.onRunChanged(() => {
      const committed = store.run(runId)?.rounds.some((r) => r.round === 1 && r.status === 'completed');
      if (committed && !events.includes('committed')) events.push('committed');
    });
    // One real frame, copied for each client: every update is decoded, checked for finiteness and folded in full.
    const rng = createRng(9);
    const frame = encodeWeights({ shapes: [[params]], values: Float32Array.from({ length: params }, () => rng() * 2 - 1) }, { round: 1, runTag: seedFromString(runId) });
    const answers: (UpdateReceipt | Promise<UpdateReceipt>)[] = ids.map((id, i) =>
      coordinator.submit(id, { runId, round: 1, samples: 2000 + i, weights: new Uint8Array(frame), metrics: LOCAL_METRICS }),
    );
    // On the event loop the submits above would have folded all 500 before this line, and the commit would come
    // before any HTTP answer; off it, the hub answers while the worker is still summing.
    const status = fetch(`${hub.url}/api/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then(async (response) => {
      events.push('status');
      return (await response.json()) as HubStatus;
    });
    const answered = await status;
    expect(await Promise.all(answers)).toEqual(ids.map(() => ({ accepted: true, received: expect.any(Number) })));
    await waitFor(() => events.includes('committed'), { what: 'round 1 committed' });

    expect(events).toEqual(['status', 'committed']);
    expect(answered).toMatchObject({ clientCount: clients, run: { id: runId, round: 1 } });
    expect(['training', 'aggregating']).toContain(answered.status);
    const round = store.run(runId)!.rounds.find((r) => r.round === 1)!;
    expect(round.clients).toBe(clients);
  });

  it('moves a large update from a real socket to the fold worker instead of copying it', async () => {
    const folds = new FoldWorker({ info: () => {}, warn: () => {}, error: () => {} });
    hub = await startTestHub({ initialWeights: bigChestModel(2 ** 16), newId: sequentialIds(), folds });
    const client = await joinRaw(hub.url, 'socket-client', { data: xrayJoin('socket-client', 50).data });
    const { id: runId } = await hub.app.coordinator.launch({ task: 'chest-xray', rounds: 1, minClients: 1, roundTimeoutSec: 600, seed: 1, init: 'fresh' });
    const received = await client.round(runId, 1);
    const weights = encodeWeights(received.weights, { round: 1, runTag: seedFromString(runId) });
    const answer = await emitAck(client.socket, 'update:submit', { runId, round: 1, samples: 100, weights, metrics: LOCAL_METRICS });
    expect(answer).toEqual({ data: { accepted: true, received: 1 } });
    expect(folds.transfers).toEqual({ moved: 1, copied: 0 });
    await waitFor(() => sqliteOf(hub!.app).run(runId)?.rounds.some((r) => r.round === 1 && r.status === 'completed'), { what: 'round 1 committed' });
    client.close();
  });
});
