import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, encodeWeights, seedFromString, type RunDetail } from '@fl/shared';
import { decodeOptimizerState } from '../aggregation/server-optimizer-state';
import { emitAck, gaussian, joinRaw, outcome, updateFor, type RawClient } from './support/raw-client';
import { fixedInitialWeights, launch, sequentialIds, startTestHub, tempDataDir, waitForRunEnd, type TestHub } from './support/test-hub';
import { sqliteOf } from '../app';

/**
 * A fedadam run whose hub stops after round 2 (the run stays 'running' in its store, as after a crash) and
 * starts again on the same data directory ends with the same weights, round by round, as a run that never
 * stopped, and only because the optimiser's moments were restored: a copy of the stopped hub's data without
 * them resumes into other weights.
 */
const SETTINGS = {
  task: 'mnist',
  rounds: 4,
  minClients: 2,
  roundTimeoutSec: 3600,
  init: 'fresh',
  seed: 5,
  serverOptimizer: { name: 'fedadam', learningRate: 0.01 },
} as const;
const NAMES = ['x', 'y'] as const;
/** Every hub starts runs from these weights. */
const initialWeights = fixedInitialWeights();

/** A scripted client's update: the model it received plus a change seeded by its name and the round, with no training. */
async function submitRound(raw: RawClient, name: string, runId: string, round: number): Promise<void> {
  const received = await raw.round(runId, round);
  const rng = createRng(seedFromString(`${name}:${round}`));
  const values = Float32Array.from(received.weights.values, (x) => x + 0.01 * gaussian(rng));
  const update = updateFor(received, { weights: encodeWeights({ shapes: received.weights.shapes, values }) });
  expect(outcome(await emitAck(raw.socket, 'update:submit', update)), `${name}'s update of round ${round}`).toBe('accepted');
}

async function submitRounds(raws: RawClient[], runId: string, rounds: number[]): Promise<void> {
  for (const round of rounds) await Promise.all(raws.map((raw, i) => submitRound(raw, NAMES[i]!, runId, round)));
}

const hashes = (run: RunDetail) => run.rounds.map((r) => r.weightsHash);

describe('server optimiser state across a hub restart', () => {
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close();
  });

  async function hubAt(dataDir: string, prefix: string): Promise<TestHub> {
    const hub = await startTestHub({ dataDir, initialWeights, newId: sequentialIds(prefix), joinsPerMinute: 10_000 });
    opened.push(hub);
    return hub;
  }

  async function joinAll(hub: TestHub, identities: { clientId: string; clientSecret: string | undefined }[] = []): Promise<RawClient[]> {
    const raws: RawClient[] = [];
    for (const [i, name] of NAMES.entries()) {
      const identity = identities[i];
      const raw = await joinRaw(hub.url, name, identity ? { clientId: identity.clientId, clientSecret: identity.clientSecret } : {});
      opened.push(raw);
      raws.push(raw);
    }
    return raws;
  }

  async function launchRun(hub: TestHub): Promise<string> {
    const response = await launch(hub, SETTINGS);
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { id: string }).id;
  }

  it('resumes with the stored moments into the weights of the run that never stopped; without them into others', async () => {
    // The run that never stops.
    const straightHub = await hubAt(tempDataDir(), 'straight');
    const straightRaws = await joinAll(straightHub);
    const straightId = await launchRun(straightHub);
    await submitRounds(straightRaws, straightId, [1, 2, 3, 4]);
    const straight = await waitForRunEnd(straightHub, straightId);
    expect(straight.status).toBe('completed');
    expect(straight.rounds.map((r) => r.note)).toEqual(Array(4).fill('server fedadam lr 0.01'));
    const straightState = sqliteOf(straightHub.app).checkpoint(straightId, 4)!.optimizerState!;
    expect(decodeOptimizerState(straightState)).toMatchObject({ name: 'fedadam', step: 4 });

    // The same run, stopped with round 3 sent out.
    const dataDir = tempDataDir();
    const first = await hubAt(dataDir, 'first');
    const firstRaws = await joinAll(first);
    const runId = await launchRun(first);
    await submitRounds(firstRaws, runId, [1, 2]);
    await Promise.all(firstRaws.map((raw) => raw.round(runId, 3)));
    const identities = firstRaws.map((raw) => ({ clientId: raw.clientId, clientSecret: raw.clientSecret }));
    for (const raw of firstRaws) raw.close();
    await first.close();

    // A copy of the stopped hub's data that lost the moments stored with round 2.
    const lostDir = tempDataDir();
    cpSync(dataDir, lostDir, { recursive: true });
    const db = new Database(join(lostDir, 'hub.sqlite'));
    expect(db.prepare('UPDATE checkpoints SET optimizer_state = NULL WHERE run_id = ? AND round = 2').run(runId).changes).toBe(1);
    db.close();

    const second = await hubAt(dataDir, 'second');
    expect(decodeOptimizerState(sqliteOf(second.app).checkpoint(runId, 2)!.optimizerState!).step).toBe(2);
    await submitRounds(await joinAll(second, identities), runId, [3, 4]);
    const resumed = await waitForRunEnd(second, runId);
    expect(resumed.status).toBe('completed');
    expect(hashes(resumed)).toEqual(hashes(straight));
    expect(Array.from(sqliteOf(second.app).checkpoint(runId, 4)!.optimizerState!)).toEqual(Array.from(straightState));

    const lostHub = await hubAt(lostDir, 'lost');
    await submitRounds(await joinAll(lostHub, identities), runId, [3, 4]);
    const lost = await waitForRunEnd(lostHub, runId);
    expect(lost.status).toBe('completed');
    expect(hashes(lost).slice(0, 2)).toEqual(hashes(straight).slice(0, 2));
    expect(hashes(lost)[2]).not.toBe(hashes(straight)[2]);
    expect(hashes(lost)[3]).not.toBe(hashes(straight)[3]);
    expect(lost.rounds[2]!.note).toBe('server fedadam lr 0.01; server optimiser restarted: fedadam state after round 2 was not stored');
    expect(decodeOptimizerState(sqliteOf(lostHub.app).checkpoint(runId, 4)!.optimizerState!).step).toBe(2);
  }, 240_000);
});
