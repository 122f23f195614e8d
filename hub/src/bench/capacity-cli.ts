/**
 * `pnpm bench capacity --clients N [--rounds R] [--train-ms D] [--per-round K] [--profile DIR] [--out FILE]`: one run
 * (the hub in its own process, the clients in load workers), progress on stderr and one JSON line on stdout.
 * --profile writes the hub's V8 CPU profile into DIR and lists its heaviest functions during the run; --out FILE
 * writes every figure of the step (its rounds' parts, the processes' CPU and waits) as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildMnistSprites } from '../../scripts/build-mnist';
import { defaultMnistDir } from '../data/mnist-files';
import { describeStep, measureCapacity } from './capacity-bench';
import { capacityLine } from './capacity-figures';

/** Default simulated training per round: long enough that every client's update is not an instant echo. */
export const DEFAULT_TRAIN_MS = 1000;

const positive = (name: string, value: string | undefined, fallback?: number): number => {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (name === 'train-ms' ? 0 : 1)) throw new RangeError(`--${name} wants a whole number${name === 'train-ms' ? '' : ' above 0'}, got ${value ?? 'nothing'}`);
  return n;
};

/** Parses the mode's arguments (those after `capacity`), runs it and prints the line. */
export async function capacityCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { clients: { type: 'string' }, rounds: { type: 'string' }, 'train-ms': { type: 'string' }, 'per-round': { type: 'string' }, profile: { type: 'string' }, out: { type: 'string' } },
  });
  const clients = positive('clients', values.clients);
  const rounds = positive('rounds', values.rounds, 3);
  const trainMs = positive('train-ms', values['train-ms'], DEFAULT_TRAIN_MS);
  const clientsPerRound = values['per-round'] === undefined ? undefined : positive('per-round', values['per-round']);
  const log = (message: string) => console.error(`[capacity] ${message}`);
  await buildMnistSprites(defaultMnistDir(), { log: () => {} });
  const profile = values.profile ? resolve(values.profile) : undefined;
  if (profile) mkdirSync(profile, { recursive: true });
  const step = await measureCapacity({ clients, rounds, trainMs, ...(clientsPerRound ? { clientsPerRound } : {}), ...(profile ? { cpuProfileDir: profile } : {}), log });
  log(describeStep(step));
  if (step.workerCpuMs) {
    const ms = (xs: number[] | undefined) => (xs ?? []).map((x) => x.toFixed(0)).join(' / ');
    log(
      `   hub CPU ${step.hubCpuMs?.toFixed(0)} ms in ${step.wallMs} ms, waiting for a core ${step.hubRunQueueWaitMs?.toFixed(0)} ms; load workers' CPU ${ms(step.workerCpuMs)} ms, ` +
        `waiting ${ms(step.workerRunQueueWaitMs)} ms, their longest stalls ${ms(step.workerStallMs)} ms; load average ${step.loadAverage?.toFixed(1)} at the start; hub GC ${step.gc?.count} pauses, ${step.gc?.totalMs.toFixed(0)} ms, longest ${step.gc?.longestMs.toFixed(0)} ms; clients disconnected: ${JSON.stringify(step.disconnects ?? {})}`,
    );
  }
  for (const p of step.parts ?? []) {
    log(
      `   round ${p.round}: ${p.durationMs} ms = start to first model ${p.startToFirstMs?.toFixed(0)}, spread ${p.receiveSpreadMs.toFixed(0)}, ` +
        `training ${p.simulatedTrainMs} + late ${p.lateUpdateMs.toFixed(0)}, last ack ${p.lastAckMs.toFixed(0)}, ack to commit ${p.ackToCommitMs?.toFixed(0)}; ` +
        `longest stall ${p.longestStallMs?.toFixed(0)} ms (${p.longestStallOutsideEvalMs?.toFixed(0)} outside evaluations), hub CPU ${p.hubCpuMs?.toFixed(0)} ms, waiting for a core ${p.hubWaitMs?.toFixed(0)} ms`,
    );
  }
  if (values.out) writeFileSync(values.out, `${JSON.stringify(step, null, 2)}\n`);
  for (const thread of step.hubProfile ?? []) {
    const busy = thread.top.filter((e) => e.name !== '(idle)');
    if (!busy.some((e) => e.share > 0.01)) continue;
    log(`   the hub's CPU profile, thread ${thread.thread}, launch to end (${thread.sampledMs.toFixed(0)} ms sampled), by self time:`);
    for (const e of thread.top) log(`     ${e.selfMs.toFixed(0).padStart(7)} ms ${(100 * e.share).toFixed(1).padStart(5)}%  ${e.name}  ${e.where}`);
  }
  console.log(
    capacityLine({
      clients,
      rounds,
      p95CoordinationMs: step.p95CoordinationMs ?? null,
      peakRssMiB: step.peakRssMiB,
      completedRounds: step.completedRounds ?? 0,
      ok: step.ok,
      reason: step.reason,
      trainMs,
      workers: step.workers ?? 0,
      longestStallMs: step.longestStallMs ?? null,
      rssPerClientKiB: step.rssPerClientKiB ?? null,
      coordinationMs: (step.parts ?? []).map((p) => p.coordinationMs),
    }),
  );
}
