import { describe, expect, it } from 'vitest';
import type { CapacityStep } from '../capacity-bench';
import { capacityMet, capacityParts, capacityRows, capacityTable, isLightweightRounds } from '../capacity-report';

const part = (round: number, stall: number, outside: number) => ({
  round,
  durationMs: 3000,
  simulatedTrainMs: 1000,
  coordinationMs: 2000,
  startToFirstMs: 400,
  receiveSpreadMs: 900,
  lateUpdateMs: 100,
  lastAckMs: 500,
  ackToCommitMs: 100,
  restMs: 0,
  longestStallMs: stall,
  longestStallOutsideEvalMs: outside,
  hubCpuMs: 1500,
  hubWaitMs: 200,
});

const step = (clients: number, ok: boolean, extra: Partial<CapacityStep> = {}): CapacityStep => ({
  clients,
  ok,
  p95Ms: 3000,
  peakRssMiB: 400,
  reason: ok ? null : 'run failed: too few',
  p95CoordinationMs: 2000,
  rounds: 3,
  completedRounds: ok ? 3 : 0,
  rssPerClientKiB: 20,
  workers: 2,
  ...extra,
});

describe('capacity report', () => {
  it('meets the target only at 10,000 clients, and cannot tell when every shorter step passed', () => {
    expect(capacityMet([step(10_000, true)], 10_000)).toBe(true);
    expect(capacityMet([step(1000, true), step(3000, false)], 1000)).toBe(false);
    expect(capacityMet([step(100, true), step(300, true)], 300)).toBeUndefined();
  });

  it("judges the longest stall of the 1,000-client step's rounds against 50 ms, with the part outside evaluations beside it", () => {
    const rows = capacityRows([step(1000, true, { parts: [part(1, 30, 20), part(2, 800, 45)] })], 1000);
    const stall = rows.find(([name]) => name.includes('longest stall'))!;
    expect(stall[1]).toBe('800 ms (45 outside evaluations)');
    expect(stall[3]).toBe('**missed**');
    const under = capacityRows([step(1000, true, { parts: [part(1, 30, 20)] })], 1000).find(([name]) => name.includes('longest stall'))!;
    expect(under[3]).toBe('met');
  });

  it('renders steps from before the load workers with n/a where they have no figure', () => {
    const old: CapacityStep = { clients: 2000, ok: false, p95Ms: 10_900, peakRssMiB: 600, reason: 'over the p95 or memory bound' };
    const table = capacityTable([old]);
    expect(table).toContain('| 2,000 | no |  | n/a | 10900 | 600 | n/a | n/a |');
    expect(capacityParts([old])).toMatch(/No step completed a round/);
  });

  it('tells lightweight overhead rounds from the older headless breakdowns', () => {
    expect(isLightweightRounds([{ durationMs: 1, simulatedTrainMs: 1, receiveSpreadMs: 1, lastWaitMs: 1, lastAckMs: 1, restMs: 0 }])).toBe(true);
    expect(isLightweightRounds([{ round: 1, durationMs: 1, slowestTrainMs: 1 }])).toBe(false);
    expect(isLightweightRounds([])).toBe(false);
  });
});
