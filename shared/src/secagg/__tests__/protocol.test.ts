import { describe, expect, it } from 'vitest';
import { CodedError } from '../../errors';
import { maxAbsDiff, plainWeightedSum, runRound, type DropPoint } from './support/run-round';

/** The stated quantisation bound on the decoded weighted sum: n * 2^-(F+1), with slack for float64 rounding only. */
function bound(survivors: number, fracBits: number): number {
  return survivors * 2 ** -(fracBits + 1) * (1 + 1e-9);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof CodedError ? error.code : String(error);
  }
}

describe('a secure round with no dropout', () => {
  it.each([
    [3, 257],
    [5, 1000],
    [20, 300],
  ])('n = %i: the unmasked sum equals the plain weighted sum within the bound', async (n, length) => {
    const { params, deltas, survivors, result } = await runRound({ n, length, seed: 11 + n });
    expect(survivors).toHaveLength(n);
    const plain = plainWeightedSum(params, deltas, survivors);
    expect(maxAbsDiff(result.sum, plain)).toBeLessThanOrEqual(bound(n, params.fracBits));
    expect(result.weight).toBe(params.weights.reduce((a, b) => a + b, 0));
  });

  it('n = 20 runs on a sparse graph, not the complete one', async () => {
    const { params } = await runRound({ n: 20, length: 4 });
    expect(params.neighbours.every((l) => l.length === 14)).toBe(true);
    expect(params.threshold).toBe(8);
  });
});

describe('a secure round with one client dropped', () => {
  const cases: [DropPoint, number[]][] = [
    ['before-keys', [0, 2, 3, 4]],
    ['after-keys', [0, 2, 3, 4]],
    ['after-shares', [0, 2, 3, 4]],
    ['after-masked', [0, 1, 2, 3, 4]],
    ['during-unmask', [0, 1, 2, 3, 4]],
  ];
  it.each(cases)('client 1 dropped %s: the round closes with the right survivors and their sum', async (drop, expected) => {
    const { params, deltas, survivors, result } = await runRound({ n: 5, length: 500, seed: 5, drops: { 1: drop } });
    expect(survivors).toEqual(expected);
    const plain = plainWeightedSum(params, deltas, survivors);
    expect(maxAbsDiff(result.sum, plain)).toBeLessThanOrEqual(bound(survivors.length, params.fracBits));
    expect(result.weight).toBe(survivors.reduce((a, i) => a + params.weights[i]!, 0));
  });

  it('a dropped client in a sparse round (n = 20) has its masks removed from its neighbours', async () => {
    const { params, deltas, survivors, result } = await runRound({ n: 20, length: 200, drops: { 4: 'after-shares', 9: 'after-keys' } });
    expect(survivors).not.toContain(4);
    expect(survivors).not.toContain(9);
    const plain = plainWeightedSum(params, deltas, survivors);
    expect(maxAbsDiff(result.sum, plain)).toBeLessThanOrEqual(bound(survivors.length, params.fracBits));
  });
});

describe('a secure round with some masked inputs summed on another hub node', () => {
  it('adds the relay\'s sum modulo 2^32 to the hub\'s: the unmasked sum is every survivor\'s, as on one hub', async () => {
    const { params, deltas, survivors, result } = await runRound({ n: 5, length: 300, seed: 21, elsewhere: { indices: [1, 3, 4] } });
    expect(survivors).toEqual([0, 1, 2, 3, 4]);
    expect(maxAbsDiff(result.sum, plainWeightedSum(params, deltas, survivors))).toBeLessThanOrEqual(bound(5, params.fracBits));
    expect(result.weight).toBe(params.weights.reduce((a, b) => a + b, 0));
  });

  it('counts the inputs of a relay that never handed its sum over as dropped after their shares, and unmasks the rest', async () => {
    const { params, deltas, survivors, result } = await runRound({ n: 5, length: 300, seed: 22, elsewhere: { indices: [3], lost: true } });
    expect(survivors).toEqual([0, 1, 2, 4]);
    expect(maxAbsDiff(result.sum, plainWeightedSum(params, deltas, survivors))).toBeLessThanOrEqual(bound(4, params.fracBits));
  });

  it('refuses a sum that names inputs not accepted elsewhere, or one twice', async () => {
    expect(await codeOf(runRound({ n: 3, length: 10, seed: 23, elsewhere: { indices: [1], claims: [1, 2] } }))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
    expect(await codeOf(runRound({ n: 3, length: 10, seed: 24, elsewhere: { indices: [1, 2], claims: [1, 1] } }))).toBe('HUB_ERR_SECAGG_BAD_FRAME');
  });
});

describe('a secure round below threshold', () => {
  // n = 3: t = 2 of 3 holders, so one dropout is survivable and two are not.
  it('survives one of three dropping after shares', async () => {
    const { survivors } = await runRound({ n: 3, length: 10, drops: { 2: 'after-shares' } });
    expect(survivors).toEqual([0, 1]);
  });

  it.each([
    [{ 0: 'before-keys', 1: 'before-keys' } as Record<number, DropPoint>, 'HUB_ERR_SECAGG_TOO_FEW'],
    [{ 0: 'after-keys', 1: 'after-keys' } as Record<number, DropPoint>, 'HUB_ERR_SECAGG_TOO_FEW'],
    [{ 0: 'after-shares', 1: 'after-shares' } as Record<number, DropPoint>, 'HUB_ERR_SECAGG_TOO_FEW'],
    [{ 0: 'after-masked', 1: 'during-unmask' } as Record<number, DropPoint>, 'HUB_ERR_SECAGG_UNRECOVERABLE'],
  ])('fails with its code when two of three drop (%o)', async (drops, code) => {
    expect(await codeOf(runRound({ n: 3, length: 10, drops }))).toBe(code);
  });

  it('fails HUB_ERR_SECAGG_TOO_FEW when a sparse neighbourhood loses its majority', async () => {
    const probe = await runRound({ n: 20, length: 2 });
    // Drop 8 of client 0's 15 holders (its neighbours), leaving 7 < t = 8.
    const victims = probe.params.neighbours[0]!.slice(0, 8);
    const drops = Object.fromEntries(victims.map((v) => [v, 'after-shares' as DropPoint]));
    expect(await codeOf(runRound({ n: 20, length: 2, drops }))).toBe('HUB_ERR_SECAGG_TOO_FEW');
  });
});
