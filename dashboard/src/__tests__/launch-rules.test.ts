import { describe, expect, it } from 'vitest';
import type { ClientView, HubStatus } from '@fl/shared/api';
import { resolveSettings, settingsConflict, type RunSettings } from '@fl/shared/settings';
import { clientCounts } from './support/client-view';
import { runSummary } from './support/run-fixtures';
import { defaultValues, launchBlocker, settingsConflictOf, toLaunchRequest, type LaunchFormValues } from '../launch-rules';

function client(patch: Partial<ClientView> = {}): ClientView {
  return {
    id: Math.random().toString(36).slice(2),
    name: 'c',
    kind: 'headless',
    task: 'mnist',
    samples: 0,
    data: { task: 'mnist' },
    backend: { name: 'wasm' },
    state: 'idle',
    progress: null,
    lastSeen: 0,
    lastMetrics: null,
    ...patch,
  };
}

const idle = (clients: ClientView[]): HubStatus => ({ status: 'idle', run: null, clients, ...clientCounts(clients), now: 0 });

describe('toLaunchRequest', () => {
  it('sends the task defaults as numbers, without the other strategies\' parameters', () => {
    const result = toLaunchRequest({ ...defaultValues('mnist'), rounds: '2', batchSize: '64' });
    expect(result).toEqual({
      ok: true,
      value: expect.objectContaining({ task: 'mnist', rounds: 2, batchSize: 64, learningRate: 0.2, optimizer: 'sgd', partition: 'iid', strategy: 'fedavg' }),
    });
    expect(result.ok && 'trimFraction' in result.value).toBe(false);
    expect(result.ok && 'clipNorm' in result.value).toBe(false);
  });

  it('refuses out-of-range settings with the field named in words', () => {
    const result = toLaunchRequest({ ...defaultValues('mnist'), batchSize: '5000' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^Batch size /);
  });

  it('refuses an empty number instead of sending 0', () => {
    expect(toLaunchRequest({ ...defaultValues('mnist'), epochs: ' ' })).toEqual({ ok: false, reason: 'Epochs per round must be a number' });
  });

  it('leaves the partition out for chest X-rays and sends the trim fraction only for trimmed mean', () => {
    const result = toLaunchRequest({ ...defaultValues('chest-xray'), strategy: 'trimmed-mean', trimFraction: '0.1' });
    expect(result.ok && result.value).toMatchObject({ task: 'chest-xray', strategy: 'trimmed-mean', trimFraction: 0.1 });
    expect(result.ok && 'partition' in result.value).toBe(false);
  });
});

describe('launchBlocker', () => {
  it('blocks while a run is active', () => {
    const status: HubStatus = { ...idle([client()]), status: 'training', run: runSummary() };
    expect(launchBlocker(status, 'mnist', 1)).toMatch(/run is active/);
  });

  it('counts only connected clients that hold the task\'s data', () => {
    const clients = [client(), client({ state: 'lost' }), client({ data: null, task: null })];
    expect(launchBlocker(idle(clients), 'mnist', 2)).toBe('Needs 2 connected clients with MNIST data; 1 connected.');
    expect(launchBlocker(idle(clients), 'mnist', 1)).toBeNull();
  });

  it('does not count a chest X-ray client without training images', () => {
    const empty = client({ data: { task: 'chest-xray', imageSize: 64, train: { normal: 0, pneumonia: 0 }, test: { normal: 3, pneumonia: 3 } } });
    expect(launchBlocker(idle([empty]), 'chest-xray', 1)).toMatch(/^Needs 1 connected client with chest X-ray data; 0 connected/);
  });
});

describe('secure aggregation in the launch form', () => {
  const secure = { ...defaultValues('mnist'), secureAggregation: true, minClients: '3' };

  it('sends secureAggregation and its clip only when the toggle is on', () => {
    const on = toLaunchRequest({ ...secure, secAggClip: '0.5' });
    expect(on.ok && on.value).toMatchObject({ secureAggregation: true, secAggClip: 0.5 });
    const off = toLaunchRequest({ ...defaultValues('mnist'), secAggClip: '0.5' });
    expect(off.ok && ('secureAggregation' in off.value || 'secAggClip' in off.value)).toBe(false);
  });

  it('refuses a robust strategy, lossy updates and fewer than 3 clients in the hub\'s own words', () => {
    const cases: Array<[Partial<LaunchFormValues>, RunSettings]> = [
      [{ strategy: 'median' }, { ...resolveSettings({ task: 'mnist', rounds: 1 }), secureAggregation: true, minClients: 3, strategy: 'median' }],
      [{ compression: 'int8' }, { ...resolveSettings({ task: 'mnist', rounds: 1 }), secureAggregation: true, minClients: 3, compression: 'int8' }],
      [{ minClients: '2' }, { ...resolveSettings({ task: 'mnist', rounds: 1 }), secureAggregation: true, minClients: 2 }],
    ];
    for (const [patch, settings] of cases) {
      const hubWords = settingsConflict(settings);
      expect(hubWords).not.toBeNull();
      expect(settingsConflictOf({ ...secure, ...patch })).toBe(hubWords);
      expect(toLaunchRequest({ ...secure, ...patch })).toEqual({ ok: false, reason: hubWords });
    }
  });

  it('finds no conflict for secure FedAvg on float32 with 3 clients, nor for the same robust strategy without it', () => {
    expect(settingsConflictOf(secure)).toBeNull();
    expect(settingsConflictOf({ ...defaultValues('mnist'), strategy: 'krum' })).toBeNull();
    expect(toLaunchRequest(secure).ok).toBe(true);
  });

  it('checks the secure clip against the shared limits', () => {
    const result = toLaunchRequest({ ...secure, secAggClip: '0' });
    expect(!result.ok && result.reason).toMatch(/^Secure clip \(per coordinate\) must be/);
  });
});

describe('client sampling and differential privacy in the launch form', () => {
  const dp = { ...defaultValues('mnist'), dp: true };
  const settings = (patch: Partial<RunSettings>): RunSettings => ({ ...resolveSettings({ task: 'mnist', rounds: 1 }), ...patch });
  const hubDp = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5, targetEpsilon: null, noise: 'central' as const };

  it('sends clientsPerRound only when set, and no dp object while DP is off', () => {
    const all = toLaunchRequest(defaultValues('mnist'));
    expect(all.ok && ('clientsPerRound' in all.value || 'dp' in all.value)).toBe(false);
    expect(toLaunchRequest({ ...defaultValues('mnist'), clientsPerRound: '5', noiseMultiplier: '2' })).toMatchObject({ ok: true, value: { clientsPerRound: 5 } });
  });

  it('sends the DP settings under dp by the hub\'s names, the target only when set, and no secure clip', () => {
    const off = toLaunchRequest(dp);
    expect(off.ok && off.value.dp).toEqual({ noiseMultiplier: 1, clipNorm: 1, delta: 1e-5, noise: 'central' });
    const on = toLaunchRequest({ ...dp, targetEpsilon: '3', dpClipNorm: '0.5', secureAggregation: true, minClients: '3', dpNoise: 'distributed' });
    expect(on.ok && on.value).toMatchObject({ secureAggregation: true, dp: { clipNorm: 0.5, targetEpsilon: 3, noise: 'distributed' } });
    expect(on.ok && 'secAggClip' in on.value).toBe(false);
  });

  it('names a DP field in words when it is out of range', () => {
    const clip = toLaunchRequest({ ...dp, dpClipNorm: '0' });
    expect(!clip.ok && clip.reason).toMatch(/^Clip norm \(L2 of each change\) must be/);
    const delta = toLaunchRequest({ ...dp, delta: '1' });
    expect(!delta.ok && delta.reason).toMatch(/^Delta \(δ\) must be/);
    expect(toLaunchRequest({ ...dp, noiseMultiplier: '' })).toEqual({ ok: false, reason: 'Noise multiplier (z) must be a number' });
  });

  it('refuses what the hub refuses, in its words', () => {
    const cases: Array<[Partial<LaunchFormValues>, RunSettings]> = [
      [{ dp: false, clientsPerRound: '2', minClients: '3' }, settings({ clientsPerRound: 2, minClients: 3 })],
      [{ strategy: 'median' }, settings({ strategy: 'median', dp: hubDp })],
      [{ clipNorm: '5' }, settings({ clipNorm: 5, dp: hubDp })],
      [{ dpNoise: 'distributed' }, settings({ dp: { ...hubDp, noise: 'distributed' } })],
    ];
    for (const [patch, hub] of cases) {
      const hubWords = settingsConflict(hub);
      expect(hubWords).not.toBeNull();
      expect(settingsConflictOf({ ...dp, ...patch })).toBe(hubWords);
      expect(toLaunchRequest({ ...dp, ...patch })).toEqual({ ok: false, reason: hubWords });
    }
  });

  it('finds no conflict for central DP with FedAvg, nor for distributed noise under secure aggregation', () => {
    expect(settingsConflictOf(dp)).toBeNull();
    expect(settingsConflictOf({ ...dp, dpNoise: 'distributed', secureAggregation: true, minClients: '3' })).toBeNull();
  });
});
