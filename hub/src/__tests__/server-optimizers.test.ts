import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_OPTIMIZER_DEFAULTS, TASK_DEFAULTS, type FlatWeights, type RunDetail } from '@fl/shared';
import { caseLaunch, seededMnistInit, type OptimizerCase } from '../bench/optimizers-bench';
import { centralTraining } from '../bench/training-bench';
import { launch, sequentialIds, startMnistClients, startTestHub, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';

/** Seeds the shards, every client's batch order and the initial weights: the runs repeat (measured: hub/src/bench/optimizer-study.ts). */
const SEED = 1;
const CLIENTS = 4;
/** The server optimiser MNIST runs with when a launch names none: the best at its defaults on IID shards (README, "Server optimisers and uneven data"). */
const BEST = TASK_DEFAULTS.mnist.serverOptimizer.name;
const MINUTES = 60_000;

describe('server optimisers at their defaults: 4 headless MNIST clients, seed 1', () => {
  let hub: TestHub;
  let clients: ReturnType<typeof startMnistClients> = [];
  let initial: FlatWeights | null = null;

  const runCase = async (c: OptimizerCase): Promise<RunDetail> => {
    const response = await launch(hub, caseLaunch(c, CLIENTS, SEED));
    expect(response.statusCode).toBe(201);
    const run = await waitForRunEnd(hub, (response.json() as { id: string }).id, 12 * MINUTES);
    expect(run.status).toBe('completed');
    expect(run.rounds).toHaveLength(c.rounds);
    return run;
  };
  const final = (run: RunDetail) => run.rounds.at(-1)!.accuracy!;

  beforeAll(async () => {
    // Made on first use: the hub sets up the TF.js wasm backend the model is built on.
    hub = await startTestHub({ newId: sequentialIds(), initialWeights: () => (initial ??= seededMnistInit(SEED)) });
    initial ??= seededMnistInit(SEED);
    clients = startMnistClients(hub, CLIENTS);
    await waitForClients(hub, CLIENTS);
  });

  afterAll(async () => {
    for (const { client } of clients) client.close();
    await hub?.close();
  });

  it(`IID, 10 rounds: the default (${BEST}) reaches at least the centralised model's accuracy on the same digits (fedVsCentral >= 1.0)`, async () => {
    const run = await runCase({ partition: 'iid', rounds: 10, serverOptimizer: { name: BEST } });
    expect(run.settings.serverOptimizer).toEqual(SERVER_OPTIMIZER_DEFAULTS[BEST]);
    // The bench's baseline: one model on the clients' 8,000 digits for 10 epochs, from the same initial weights.
    const central = await centralTraining(10, initial!);
    expect(central.digits).toBe(run.rounds[0]!.samples);
    expect(final(run) / central.accuracy).toBeGreaterThanOrEqual(1);
  }, 20 * MINUTES);

  // Plain FedAvg as the hub ran it before issue 12: each client restarts Adam at 0.002 every round, the server averages.
  // (With the new client defaults, SGD at 0.2, plain FedAvg ties FedAdam on these shards: README, "Server optimisers and uneven data".)
  it('by-label, 20 rounds: FedAdam at its defaults ends >= 0.90 held-out accuracy and >= 5 points above plain FedAvg', async () => {
    const adam = await runCase({ partition: 'by-label', rounds: 20, serverOptimizer: { name: 'fedadam' } });
    expect(adam.settings.serverOptimizer).toEqual(SERVER_OPTIMIZER_DEFAULTS.fedadam);
    const avg = await runCase({ partition: 'by-label', rounds: 20, serverOptimizer: { name: 'fedavg' }, optimizer: 'adam', learningRate: 0.002 });
    expect(avg.settings.serverOptimizer).toEqual(SERVER_OPTIMIZER_DEFAULTS.fedavg);
    const figures = `FedAdam ${final(adam)}, plain FedAvg ${final(avg)}`;
    expect(final(adam), figures).toBeGreaterThanOrEqual(0.9);
    expect(final(adam) - final(avg), figures).toBeGreaterThanOrEqual(0.05);
  }, 30 * MINUTES);
});
