import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '@fl/shared';
import { fixedInitialWeights, launch, startMnistClients, startTestHub, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';

const initialWeights = fixedInitialWeights();
const repoRoot = join(import.meta.dirname, '../../..');
const SEED = 11;
/** Small enough for 5 clients to learn through it; the bench shows what larger multipliers cost. */
const DP = { noiseMultiplier: 0.05, clipNorm: 1, delta: 1e-5 };

async function privacyCli(args: string[]): Promise<{ epsilon: number; delta: number; order: number; noiseMultiplier?: number }> {
  const { stdout } = await promisify(execFile)(join(repoRoot, 'node_modules/.bin/tsx'), [join(repoRoot, 'hub/src/cli/privacy.ts'), ...args], { cwd: repoRoot });
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as { epsilon: number; delta: number; order: number };
}

describe('differential privacy on a real hub with 10 headless clients, 5 drawn per round', () => {
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close();
  });

  async function hubWithClients(count: number): Promise<TestHub> {
    const hub = await startTestHub({ initialWeights });
    opened.push(hub);
    for (const { client } of startMnistClients(hub, count, 'dp')) opened.push(client);
    await waitForClients(hub, count);
    return hub;
  }

  async function launchAndWait(hub: TestHub, body: object): Promise<RunDetail> {
    const response = await launch(hub, { task: 'mnist', seed: SEED, init: 'fresh', minClients: 3, clientsPerRound: 5, ...body });
    expect(response.statusCode, response.body).toBe(201);
    return waitForRunEnd(hub, (response.json() as { id: string }).id, 300_000);
  }

  it('central noise: every round has 5 participants, epsilon rises each round and ends at what `pnpm privacy` says; the model learns', async () => {
    const hub = await hubWithClients(10);
    const run = await launchAndWait(hub, { rounds: 4, dp: DP });
    expect(run.status, run.reason ?? '').toBe('completed');
    expect(run.rounds.map((r) => r.clients)).toEqual([5, 5, 5, 5]);
    const epsilons = run.rounds.map((r) => r.epsilon!);
    for (let i = 1; i < epsilons.length; i++) expect(epsilons[i]!).toBeGreaterThan(epsilons[i - 1]!);
    for (const r of run.rounds) expect(r.privacy).toMatchObject({ samplingRate: 0.5, noiseMultiplier: DP.noiseMultiplier, participants: 5, survivors: 5 });
    const cli = await privacyCli(['--sampling-rate', '0.5', '--noise-multiplier', String(DP.noiseMultiplier), '--rounds', '4', '--delta', String(DP.delta)]);
    expect(epsilons.at(-1)).toBeCloseTo(cli.epsilon, 9);
    expect(run.rounds[0]!.note).toMatch(/differential privacy: 5 of 5 drawn clients' changes/);
    // Clipped, noised, uniform: still learning on held-out digits.
    expect(run.rounds.at(-1)!.accuracy!).toBeGreaterThan(0.8);
    expect(run.rounds.at(-1)!.accuracy!).toBeGreaterThan(run.rounds[0]!.accuracy!);
  });

  it('targetEpsilon ends the run before the round that would pass it, with the reason', async () => {
    const hub = await hubWithClients(10);
    const two = await privacyCli(['--sampling-rate', '0.5', '--noise-multiplier', '1', '--rounds', '2', '--delta', '1e-5']);
    const three = await privacyCli(['--sampling-rate', '0.5', '--noise-multiplier', '1', '--rounds', '3', '--delta', '1e-5']);
    const target = (two.epsilon + three.epsilon) / 2;
    const run = await launchAndWait(hub, { rounds: 6, dp: { ...DP, noiseMultiplier: 1, targetEpsilon: target } });
    expect(run.status).toBe('completed');
    expect(run.rounds).toHaveLength(2);
    expect(run.rounds.at(-1)!.epsilon!).toBeLessThanOrEqual(target);
    expect(run.reason).toMatch(/^privacy budget reached: round 3 would raise epsilon/);
  });

  it('distributed noise under secure aggregation completes; the hub records the noise the survivors added', async () => {
    const hub = await hubWithClients(10);
    const run = await launchAndWait(hub, { rounds: 2, secureAggregation: true, dp: { ...DP, noise: 'distributed' } });
    expect(run.status, run.reason ?? '').toBe('completed');
    expect(run.rounds.map((r) => r.clients)).toEqual([5, 5]);
    for (const r of run.rounds) {
      expect(r.note).toMatch(/secure aggregation.*differential privacy: 5 of 5 drawn clients' changes, distributed noise/);
      expect(r.privacy).toMatchObject({ samplingRate: 0.5, noiseMultiplier: DP.noiseMultiplier, survivors: 5, clipped: null });
    }
    expect(run.rounds.at(-1)!.accuracy!).toBeGreaterThan(0.7);
  });

  it('refuses DP with a strategy that uses single updates, and distributed noise without secure aggregation (400, nothing launched)', async () => {
    const hub = await startTestHub();
    opened.push(hub);
    const krum = await launch(hub, { task: 'mnist', rounds: 1, strategy: 'krum', dp: DP });
    expect(krum.statusCode).toBe(400);
    expect(krum.json()).toMatchObject({ error: { code: 'HUB_ERR_INVALID_SETTINGS' } });
    expect(krum.json().error.message).toMatch(/strategy "krum"/);
    const distributed = await launch(hub, { task: 'mnist', rounds: 1, dp: { ...DP, noise: 'distributed' } });
    expect(distributed.statusCode).toBe(400);
    expect(distributed.json().error.message).toMatch(/secureAggregation/);
    const badDelta = await launch(hub, { task: 'mnist', rounds: 1, dp: { ...DP, delta: 1 } });
    expect(badDelta.statusCode).toBe(400);
    const runs = await hub.app.inject({ method: 'GET', url: '/api/runs' });
    expect(runs.json()).toEqual([]);
  });
});
