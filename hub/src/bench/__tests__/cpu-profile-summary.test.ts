import { describe, expect, it } from 'vitest';
import { shortLocation, summariseProfile, type CpuProfile } from '../cpu-profile-summary';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/** Samples every 1 ms from t = 1,000 µs: fold, fold, (idle), status, fold, (garbage collector). */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('fold', 'file:///work/main/hub/src/aggregation/fedavg.ts', 41) },
    { id: 3, callFrame: frame('(idle)') },
    { id: 4, callFrame: frame('', 'file:///work/main/node_modules/.pnpm/socket.io@4.8.4/node_modules/socket.io/dist/socket.js', 9) },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  startTime: 0,
  samples: [2, 2, 3, 4, 2, 5],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
};

describe('summariseProfile', () => {
  it('adds up self time per function, the heaviest first, with its share of the sampled time', () => {
    const { sampledMs, top } = summariseProfile(profile);
    expect(sampledMs).toBe(6);
    expect(top[0]).toEqual({ name: 'fold', where: 'hub/src/aggregation/fedavg.ts:42', selfMs: 3, share: 0.5 });
    expect(top.map((e) => e.name)).toContain('(anonymous)');
    expect(top).toHaveLength(4);
  });

  it('keeps only the samples taken within the span', () => {
    const { sampledMs, top } = summariseProfile(profile, { fromUs: 3500, toUs: 5000 });
    expect(sampledMs).toBe(2);
    expect(top.map((e) => [e.name, e.selfMs])).toEqual([
      ['(anonymous)', 1],
      ['fold', 1],
    ]);
  });

  it('cuts the list at the limit', () => {
    expect(summariseProfile(profile, { limit: 1 }).top).toHaveLength(1);
  });
});

describe('shortLocation', () => {
  it('names a package by its own path, a repository file by its package folder, a built-in as it is', () => {
    expect(shortLocation('file:///work/main/node_modules/.pnpm/ws@8.18.0/node_modules/ws/lib/receiver.js', 171)).toBe('ws/lib/receiver.js:172');
    expect(shortLocation('file:///work/main/node_modules/.pnpm/@fastify+x@1/node_modules/@fastify/x/index.js', 0)).toBe('@fastify/x/index.js:1');
    expect(shortLocation('file:///work/main/shared/src/weight-codec.ts', 9)).toBe('shared/src/weight-codec.ts:10');
    expect(shortLocation('node:events', 470)).toBe('node:events:471');
    expect(shortLocation('', 3)).toBe('');
  });
});
