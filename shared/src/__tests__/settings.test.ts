import { describe, expect, it } from 'vitest';
import {
  launchRequestChecker,
  resolveSettings,
  runSettingsChecker,
  SETTING_LIMITS,
  TASK_DEFAULTS,
  type LaunchRequest,
} from '../settings';

function refuses(value: unknown): string {
  const result = launchRequestChecker.check(value);
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.reason;
}

describe('resolveSettings', () => {
  it('fills every omitted MNIST setting with the MNIST defaults', () => {
    const s = resolveSettings({ task: 'mnist', rounds: 3 }, 42);
    expect(s).toMatchObject({
      task: 'mnist',
      rounds: 3,
      epochs: 1,
      batchSize: 32,
      learningRate: 0.2,
      minClients: 1,
      roundTimeoutSec: 300,
      partition: 'iid',
      init: 'continue',
      optimizer: 'sgd',
      serverOptimizer: { name: 'fedavgm', learningRate: 1, momentum: 0.5 },
    });
    // Every setting the task has a default for is filled, and nothing else is added.
    expect(s).toEqual({ task: 'mnist', rounds: 3, seed: 42, ...TASK_DEFAULTS.mnist });
  });

  it('fills every omitted chest-xray setting with the chest-xray defaults, which differ from MNIST', () => {
    const s = resolveSettings({ task: 'chest-xray', rounds: 5 }, 7);
    expect(s).toEqual({ task: 'chest-xray', rounds: 5, seed: 7, ...TASK_DEFAULTS['chest-xray'] });
    expect(s.epochs).toBe(2);
    expect(s.minLocalSteps).toBe(60);
    expect(s.batchSize).toBe(8);
    expect(s.learningRate).toBe(0.002);
    expect(s.optimizer).toBe('adam');
    expect(s.roundTimeoutSec).toBe(900);
  });

  it('keeps every given value over the defaults', () => {
    const request: LaunchRequest = {
      task: 'chest-xray',
      rounds: 7,
      epochs: 4,
      batchSize: 8,
      learningRate: 0.05,
      minClients: 3,
      roundTimeoutSec: 60,
      partition: 'by-label',
      init: 'fresh',
      optimizer: 'sgd',
    };
    const s = resolveSettings(request);
    expect(s).toMatchObject(request);
    // Settings the request did not name still come from the defaults.
    const unnamed = Object.entries(TASK_DEFAULTS['chest-xray']).filter(([key]) => !(key in request));
    expect(unnamed.length).toBeGreaterThan(0);
    expect(Object.fromEntries(unnamed.map(([key]) => [key, s[key as keyof typeof s]]))).toEqual(Object.fromEntries(unnamed));
  });

  it('keeps a given value and defaults the rest independently', () => {
    const s = resolveSettings({ task: 'mnist', rounds: 2, minClients: 4, optimizer: 'sgd' });
    expect(s.minClients).toBe(4);
    expect(s.optimizer).toBe('sgd');
    expect(s.epochs).toBe(TASK_DEFAULTS.mnist.epochs);
    expect(s.roundTimeoutSec).toBe(TASK_DEFAULTS.mnist.roundTimeoutSec);
    expect(s.partition).toBe('iid');
  });

  it('does not copy properties that are not settings', () => {
    const s = resolveSettings({ task: 'mnist', rounds: 1, extra: 'x' } as LaunchRequest);
    expect(s).not.toHaveProperty('extra');
    expect(Object.keys(s).sort()).toEqual(['task', 'rounds', 'seed', ...Object.keys(TASK_DEFAULTS.mnist)].sort());
  });

  it("takes the launch's seed over the random one, and caps a client's share at one half by default", () => {
    expect(resolveSettings({ task: 'mnist', rounds: 1, seed: 5 }, 99).seed).toBe(5);
    expect(resolveSettings({ task: 'mnist', rounds: 1 }, 99).seed).toBe(99);
    expect(resolveSettings({ task: 'chest-xray', rounds: 1 }).maxClientShare).toBe(0.5);
    expect(launchRequestChecker.check({ task: 'mnist', rounds: 1, maxClientShare: 0 }).ok).toBe(false);
    expect(launchRequestChecker.check({ task: 'mnist', rounds: 1, seed: -1 }).ok).toBe(false);
  });

  it('produces settings the RunSettings checker accepts, for both tasks', () => {
    for (const task of ['mnist', 'chest-xray'] as const) {
      const result = runSettingsChecker.check(resolveSettings({ task, rounds: 1 }));
      expect(result).toEqual({ ok: true, value: expect.objectContaining({ task }) });
    }
  });

  it('keeps the task defaults within the setting limits', () => {
    for (const defaults of Object.values(TASK_DEFAULTS)) {
      expect(defaults.epochs).toBeGreaterThanOrEqual(SETTING_LIMITS.epochs.minimum);
      expect(defaults.batchSize).toBeLessThanOrEqual(SETTING_LIMITS.batchSize.maximum);
      expect(defaults.learningRate).toBeGreaterThan(SETTING_LIMITS.learningRate.exclusiveMinimum);
      expect(defaults.roundTimeoutSec).toBeGreaterThanOrEqual(SETTING_LIMITS.roundTimeoutSec.minimum);
    }
  });
});

describe('launchRequestChecker', () => {
  it('accepts a minimal {task: "mnist", rounds: 1}', () => {
    expect(launchRequestChecker.check({ task: 'mnist', rounds: 1 })).toEqual({ ok: true, value: { task: 'mnist', rounds: 1 } });
  });

  it('accepts a complete request at the edges of every limit', () => {
    const low = {
      task: 'chest-xray',
      rounds: 1,
      epochs: 1,
      batchSize: 1,
      learningRate: 1e-9,
      minClients: 1,
      roundTimeoutSec: 5,
      partition: 'by-label',
      init: 'fresh',
      optimizer: 'sgd',
    };
    const high = { ...low, rounds: 1000, epochs: 100, batchSize: 1024, learningRate: 10, minClients: 10_000, roundTimeoutSec: 86_400 };
    expect(launchRequestChecker.check(low).ok).toBe(true);
    expect(launchRequestChecker.check(high).ok).toBe(true);
  });

  it('refuses unknown properties and names them', () => {
    const reason = refuses({ task: 'mnist', rounds: 1, speed: 'fast' });
    expect(reason).toMatch(/speed|additional/i);
  });

  it('refuses rounds 0, negative, above 1000 and fractional', () => {
    for (const rounds of [0, -1, 1001, 1.5]) refuses({ task: 'mnist', rounds });
  });

  it('refuses a missing rounds or a missing task', () => {
    refuses({ task: 'mnist' });
    refuses({ rounds: 3 });
  });

  it('refuses a negative or zero learningRate (the minimum is exclusive) and one above 10', () => {
    const reason = refuses({ task: 'mnist', rounds: 1, learningRate: -0.01 });
    expect(reason).toContain('learningRate');
    refuses({ task: 'mnist', rounds: 1, learningRate: 0 });
    refuses({ task: 'mnist', rounds: 1, learningRate: 10.5 });
  });

  it('refuses an unknown task', () => {
    const reason = refuses({ task: 'cifar10', rounds: 1 });
    expect(reason).toContain('task');
    refuses({ task: 'MNIST', rounds: 1 });
  });

  it('refuses non-integer epochs, batchSize, minClients and roundTimeoutSec', () => {
    expect(refuses({ task: 'mnist', rounds: 1, epochs: 1.5 })).toContain('epochs');
    refuses({ task: 'mnist', rounds: 1, batchSize: 31.9 });
    refuses({ task: 'mnist', rounds: 1, minClients: 2.2 });
    refuses({ task: 'mnist', rounds: 1, roundTimeoutSec: 30.5 });
  });

  it('refuses numbers given as strings', () => {
    refuses({ task: 'mnist', rounds: '3' });
    refuses({ task: 'mnist', rounds: 1, epochs: '2' });
  });

  it('refuses out-of-range optional settings', () => {
    refuses({ task: 'mnist', rounds: 1, epochs: 0 });
    refuses({ task: 'mnist', rounds: 1, epochs: 101 });
    refuses({ task: 'mnist', rounds: 1, batchSize: 1025 });
    refuses({ task: 'mnist', rounds: 1, minClients: 0 });
    refuses({ task: 'mnist', rounds: 1, roundTimeoutSec: 4 });
  });

  it('refuses unknown enum values for partition, init and optimizer', () => {
    refuses({ task: 'mnist', rounds: 1, partition: 'random' });
    refuses({ task: 'mnist', rounds: 1, init: 'warm' });
    refuses({ task: 'mnist', rounds: 1, optimizer: 'rmsprop' });
  });

  it('refuses non-objects', () => {
    for (const value of [null, undefined, 'mnist', 3, [], [{ task: 'mnist', rounds: 1 }]]) refuses(value);
  });

  it('refuses NaN and Infinity as numbers', () => {
    refuses({ task: 'mnist', rounds: NaN });
    refuses({ task: 'mnist', rounds: 1, learningRate: Infinity });
    refuses({ task: 'mnist', rounds: 1, learningRate: NaN });
  });
});
