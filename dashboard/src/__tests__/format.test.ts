import { describe, expect, it } from 'vitest';
import { resolveSettings, SERVER_OPTIMIZER_DEFAULTS } from '@fl/shared/settings';
import { deltaText, epsilonText, settingsLine } from '../format';

describe('privacy numbers', () => {
  it('writes epsilon with two decimals, whole once large, ∞ without noise', () => {
    expect(epsilonText(1.8449)).toBe('1.84');
    expect(epsilonText(1234.5)).toBe('1,235');
    expect(epsilonText(Infinity)).toBe('∞');
  });

  it('writes delta as a power of ten', () => {
    expect(deltaText(1e-5)).toBe('1e-5');
    expect(deltaText(2.5e-6)).toBe('2.5e-6');
  });
});

describe('settingsLine', () => {
  it('names the clients drawn per round and the DP settings, and drops the secure clip DP does not use', () => {
    const line = settingsLine(
      resolveSettings({ task: 'mnist', rounds: 3, minClients: 3, clientsPerRound: 5, secureAggregation: true, dp: { noiseMultiplier: 1.1, clipNorm: 0.5, delta: 1e-5, targetEpsilon: 3, noise: 'distributed' } }),
    );
    expect(line).toContain(' · secure aggregation · 5 drawn per round · DP z 1.1 · clip 0.5 · δ 1e-5 · target ε 3 · distributed noise');
    expect(line).not.toContain('±');
  });

  it('says nothing of sampling or DP for a run without them', () => {
    const line = settingsLine(resolveSettings({ task: 'mnist', rounds: 3 }));
    expect(line).not.toMatch(/drawn|DP/);
  });

  it('names the server optimiser with its learning rate, FedProx and the Dirichlet alpha when they are not the defaults', () => {
    const line = settingsLine(resolveSettings({ task: 'mnist', rounds: 3, partition: 'dirichlet', dirichletAlpha: 0.1, proximalMu: 0.01, serverOptimizer: { name: 'fedadam' } }));
    expect(line).toContain('dirichlet α 0.1 shards');
    expect(line).toContain(`FedProx μ 0.01 · fedavg · server fedadam lr ${SERVER_OPTIMIZER_DEFAULTS.fedadam.learningRate}`);
    expect(settingsLine(resolveSettings({ task: 'mnist', rounds: 3, serverOptimizer: { name: 'fedavg', learningRate: 0.5 } }))).toContain('server fedavg lr 0.5');
  });

  it('says nothing of server optimisers or FedProx for a plain FedAvg run, nor for runs stored before them', () => {
    const plain = resolveSettings({ task: 'mnist', rounds: 3, serverOptimizer: { name: 'fedavg' } });
    expect(settingsLine(plain)).not.toMatch(/server|FedProx|dirichlet/);
    // MNIST's default (FedAvgM) is not plain FedAvg, so the line names it.
    expect(settingsLine(resolveSettings({ task: 'mnist', rounds: 3 }))).toContain('server fedavgm lr 1');
    const { serverOptimizer: _s, proximalMu: _p, ...old } = plain;
    expect(settingsLine(old as typeof plain)).not.toMatch(/server|FedProx|undefined/);
  });
});
