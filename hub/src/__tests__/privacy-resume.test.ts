import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epsilonFor, privacySpent } from '@fl/shared/privacy/index';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { tempDataDir } from './support/test-hub';
import { waitFor } from './support/wait-for';
import { closeAll, mnistClientsAt, type HeadlessClient } from './support/scenario';
import { freePort, processRun, processStatus, startHubProcess, type HubProcess } from './support/hub-process';

describe('a DP run killed with SIGKILL and resumed on the same DATA_DIR keeps its privacy spend', () => {
  let hub: HubProcess | null = null;
  let clients: HeadlessClient[] = [];

  beforeAll(async () => {
    await initWasmBackend();
  });
  afterAll(async () => {
    closeAll(clients);
    await hub?.kill('SIGTERM');
  });

  it('ends at the round its target allows, counting the rounds before the crash', async () => {
    const dp = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5 };
    const q = 0.5;
    const at = (rounds: number) => epsilonFor({ samplingRate: q, noiseMultiplier: dp.noiseMultiplier, rounds, delta: dp.delta }).epsilon;
    // Three rounds fit; a hub that forgot round 1 after the restart would run a fourth.
    const targetEpsilon = (at(3) + at(4)) / 2;
    const port = await freePort();
    const dataDir = tempDataDir();
    hub = await startHubProcess({ port, dataDir });
    clients = mnistClientsAt(hub.url, 4, 'dp-survivor');
    await waitFor(async () => (await processStatus(hub!)).clients.length === 4, { what: '4 clients on the hub process' });
    const launched = await hub.postJson('/api/runs', {
      task: 'mnist',
      batchSize: 64,
      epochs: 1,
      init: 'fresh',
      seed: 9,
      rounds: 8,
      minClients: 2,
      clientsPerRound: 2,
      roundTimeoutSec: 30,
      dp: { ...dp, targetEpsilon },
    });
    expect(launched.status).toBe(201);
    const runId = (launched.json as { id: string }).id;
    await waitFor(async () => (await processStatus(hub!)).run?.round === 2, { timeoutMs: 120_000, intervalMs: 100, what: 'round 1 committed' });
    await hub.kill('SIGKILL');

    hub = await startHubProcess({ port, dataDir });
    const status = await processStatus(hub);
    // The resumed run shows round 1's spend before anything else happens.
    expect(status.run?.privacy?.epsilon).toBeCloseTo(at(1), 9);
    const run = await waitFor(
      async () => {
        const r = await processRun(hub!, runId);
        return r.status !== 'running' ? r : null;
      },
      { timeoutMs: 240_000, intervalMs: 250, what: `run ${runId} to end after the restart` },
    );
    expect(run.status).toBe('completed');
    expect(run.reason).toMatch(/^privacy budget reached: round \d+ would raise epsilon/);
    const committed = run.rounds.filter((r) => r.status === 'completed');
    // Each record's epsilon composes every committed round's step, round 1 from before the crash included
    // (the sampling rate is the round's own: clients that came back first may have been all there was to draw from).
    const steps = committed.map((r) => ({ samplingRate: r.privacy!.samplingRate, noiseMultiplier: r.privacy!.noiseMultiplier }));
    committed.forEach((r, i) => expect(r.epsilon!).toBeCloseTo(privacySpent(steps.slice(0, i + 1), dp.delta).epsilon, 9));
    expect(committed[0]!.epsilon!).toBeCloseTo(at(1), 9);
    expect(committed.length).toBeGreaterThanOrEqual(2);
    expect(committed.at(-1)!.epsilon!).toBeLessThanOrEqual(targetEpsilon);
    // The round it stopped before would have passed the target at the smallest rate it could have had.
    expect(privacySpent([...steps, { samplingRate: 0.5, noiseMultiplier: dp.noiseMultiplier }], dp.delta).epsilon).toBeGreaterThan(targetEpsilon);
  }, 420_000);
});
