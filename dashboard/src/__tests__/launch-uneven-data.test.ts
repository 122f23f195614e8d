import { describe, expect, it } from 'vitest';
import { resolveSettings, SERVER_OPTIMIZER_DEFAULTS, TASK_DEFAULTS } from '@fl/shared/settings';
import { activeNumberFields, defaultValues, settingsConflictOf, toLaunchRequest, type LaunchFormValues } from '../launch-rules';
import { SERVER_OPTIMIZER_CHOICES, serverFieldsOf, serverOptimizerRequest, serverValuesOf } from '../server-optimizer-form';

/** The form after the operator picks `name`, which pre-fills that optimiser's defaults. */
function withOptimizer(name: LaunchFormValues['serverOptimizer'], patch: Partial<LaunchFormValues> = {}): LaunchFormValues {
  return { ...defaultValues('mnist'), serverOptimizer: name, ...serverValuesOf(SERVER_OPTIMIZER_DEFAULTS[name]), ...patch };
}

describe('server optimiser in the launch form', () => {
  it('sends no serverOptimizer when the form keeps the task\'s default (MNIST: FedAvgM)', () => {
    const result = toLaunchRequest(defaultValues('mnist'));
    expect(result.ok && 'serverOptimizer' in result.value).toBe(false);
  });

  it('sends only the name when the chosen optimiser keeps its pre-filled defaults', () => {
    const result = toLaunchRequest(withOptimizer('fedadam'));
    expect(result.ok && result.value.serverOptimizer).toEqual({ name: 'fedadam' });
    expect(result.ok && resolveSettings(result.value).serverOptimizer).toEqual(SERVER_OPTIMIZER_DEFAULTS.fedadam);
  });

  it('sends the hyperparameters that differ from the optimiser\'s defaults, and none it does not use', () => {
    const result = toLaunchRequest(withOptimizer('fedyogi', { serverLearningRate: '0.05', tau: '0.01', momentum: '0.5' }));
    expect(result.ok && result.value.serverOptimizer).toEqual({ name: 'fedyogi', learningRate: 0.05, tau: 0.01 });
    const fedavgm = toLaunchRequest(withOptimizer('fedavgm', { momentum: '0.8', beta2: '0.5' }));
    expect(fedavgm.ok && fedavgm.value.serverOptimizer).toEqual({ name: 'fedavgm', momentum: 0.8 });
  });

  it('sends FedAvg with another server learning rate', () => {
    const result = toLaunchRequest({ ...defaultValues('mnist'), serverOptimizer: 'fedavg', serverLearningRate: '0.5' });
    expect(result.ok && result.value.serverOptimizer).toEqual({ name: 'fedavg', learningRate: 0.5 });
  });

  it('shows beta2 for FedAdam and FedYogi but not for FedAdagrad, which adds up squared changes', () => {
    expect(serverFieldsOf('fedadam')).toContain('beta2');
    expect(serverFieldsOf('fedyogi')).toContain('beta2');
    expect(serverFieldsOf('fedadagrad')).toEqual(['serverLearningRate', 'beta1', 'tau']);
    expect(serverFieldsOf('fedavg')).toEqual(['serverLearningRate']);
    expect(activeNumberFields(withOptimizer('fedavgm'))).toContain('momentum');
    expect(activeNumberFields(withOptimizer('fedadam'))).not.toContain('momentum');
  });

  it('pre-fills each optimiser\'s own defaults, as text the form can send back unchanged', () => {
    for (const { value } of SERVER_OPTIMIZER_CHOICES) {
      const d = SERVER_OPTIMIZER_DEFAULTS[value];
      const text = serverValuesOf(d);
      expect(Number(text.serverLearningRate)).toBe(d.learningRate);
      expect(Number(text.tau)).toBe(d.tau);
      expect(serverOptimizerRequest(value, { serverLearningRate: d.learningRate, momentum: d.momentum, beta1: d.beta1, beta2: d.beta2, tau: d.tau }, SERVER_OPTIMIZER_DEFAULTS.fedavg)).toEqual(
        value === 'fedavg' ? undefined : { name: value },
      );
    }
  });

  it('names an out-of-range server hyperparameter in words, not the client learning rate', () => {
    const lr = toLaunchRequest(withOptimizer('fedadam', { serverLearningRate: '0' }));
    expect(!lr.ok && lr.reason).toMatch(/^Server learning rate must be/);
    const beta = toLaunchRequest(withOptimizer('fedadam', { beta2: '1' }));
    expect(!beta.ok && beta.reason).toMatch(/^β2 \(second moment\) must be/);
    expect(toLaunchRequest(withOptimizer('fedavgm', { momentum: '' }))).toEqual({ ok: false, reason: 'Momentum must be a number' });
  });

  it('gives every optimiser a one-line hint', () => {
    expect(SERVER_OPTIMIZER_CHOICES.map((c) => c.value).sort()).toEqual(Object.keys(SERVER_OPTIMIZER_DEFAULTS).sort());
    for (const c of SERVER_OPTIMIZER_CHOICES) expect(c.hint.length).toBeLessThan(100);
  });
});

describe('FedProx and Dirichlet partitions in the launch form', () => {
  it('sends proximalMu only when it is not 0', () => {
    const off = toLaunchRequest(defaultValues('mnist'));
    expect(off.ok && 'proximalMu' in off.value).toBe(false);
    const on = toLaunchRequest({ ...defaultValues('chest-xray'), proximalMu: '0.01' });
    expect(on.ok && on.value.proximalMu).toBe(0.01);
    const bad = toLaunchRequest({ ...defaultValues('mnist'), proximalMu: '-1' });
    expect(!bad.ok && bad.reason).toMatch(/^Proximal μ \(FedProx\) must be/);
  });

  it('reads alpha only for a Dirichlet partition, and sends it only when it differs from the default', () => {
    const iid = { ...defaultValues('mnist'), dirichletAlpha: 'nonsense' };
    expect(activeNumberFields(iid)).not.toContain('dirichletAlpha');
    expect(toLaunchRequest(iid).ok).toBe(true);
    const dirichlet = { ...defaultValues('mnist'), partition: 'dirichlet' as const };
    const atDefault = toLaunchRequest(dirichlet);
    expect(atDefault.ok && atDefault.value).toMatchObject({ partition: 'dirichlet' });
    expect(atDefault.ok && 'dirichletAlpha' in atDefault.value).toBe(false);
    expect(atDefault.ok && resolveSettings(atDefault.value).dirichletAlpha).toBe(TASK_DEFAULTS.mnist.dirichletAlpha);
    const skewed = toLaunchRequest({ ...dirichlet, dirichletAlpha: '0.1' });
    expect(skewed.ok && skewed.value).toMatchObject({ partition: 'dirichlet', dirichletAlpha: 0.1 });
    const zero = toLaunchRequest({ ...dirichlet, dirichletAlpha: '0' });
    expect(!zero.ok && zero.reason).toMatch(/^Dirichlet α must be/);
  });

  it('finds no conflict for FedAdam with FedProx on Dirichlet shards', () => {
    expect(settingsConflictOf(withOptimizer('fedadam', { partition: 'dirichlet', dirichletAlpha: '0.1', proximalMu: '0.01' }))).toBeNull();
  });
});
