import { childHub, launchRun, waitForClientCount, waitForRun } from './bench-hub';
import { startLightweightClients } from './lightweight-clients';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function lightweightRun(clients: number, delayMs: number, rounds: number) {
  const hub = await childHub();
  const pool = await startLightweightClients(hub.url, clients, delayMs).catch(async (error: unknown) => {
    await hub.close();
    throw error;
  });
  try {
    await waitForClientCount(hub.url, clients);
    const id = await launchRun(hub.url, { task: 'mnist', rounds, minClients: clients, roundTimeoutSec: 300, init: 'fresh', seed: 1 });
    const run = await waitForRun(hub.url, id);
    return { run, refused: pool.refused(), peakRssBytes: hub.peakRssBytes(), timings: pool.timings() };
  } finally {
    pool.close();
    await hub.close();
  }
}

export interface LightweightRound {
  durationMs: number;
  simulatedTrainMs: number;
  /** round:start reaching the first client to reaching the last one. */
  receiveSpreadMs: number;
  /** The last round:start received to the last update emitted (the simulated training and timer lateness). */
  lastWaitMs: number;
  /** The last update emitted to its ack (upload and the hub's checks and fold). */
  lastAckMs: number;
  /** durationMs minus the three above: the hub encoding the model, the first round:start's trip, the FedAvg finish. */
  restMs: number;
}

/** Round overhead when every client "trains" for exactly `delayMs`: (round time - delay) / round time. */
export async function benchLightweightOverhead(clients: number, delayMs: number, rounds: number) {
  const { run, timings } = await lightweightRun(clients, delayMs, rounds);
  if (run.status !== 'completed') throw new Error(`overhead run ${run.status}: ${run.reason}`);
  const perRound = run.rounds.map((r) => (r.durationMs - delayMs) / r.durationMs);
  return {
    overhead: perRound.reduce((a, b) => a + b, 0) / perRound.length,
    rounds: run.rounds.map((r): LightweightRound => {
      const t = timings.get(r.round)!;
      const receiveSpreadMs = t.lastReceived - t.firstReceived;
      const lastWaitMs = t.lastEmitted - t.lastReceived;
      const lastAckMs = t.lastAcked - t.lastEmitted;
      return { durationMs: r.durationMs, simulatedTrainMs: delayMs, receiveSpreadMs, lastWaitMs, lastAckMs, restMs: r.durationMs - receiveSpreadMs - lastWaitMs - lastAckMs };
    }),
  };
}

export interface CapacityStep {
  clients: number;
  ok: boolean;
  p95Ms: number | null;
  peakRssMiB: number | null;
  reason: string | null;
}

/** The hub (its own process) takes growing numbers of no-training clients through rounds. */
export async function benchCapacity(steps: number[], rounds: number, log: (m: string) => void): Promise<CapacityStep[]> {
  const out: CapacityStep[] = [];
  for (const clients of steps) {
    try {
      const { run, refused, peakRssBytes } = await lightweightRun(clients, 0, rounds);
      const complete = run.status === 'completed' && run.rounds.every((r) => r.clients === clients);
      const p95Ms = percentile(run.rounds.map((r) => r.durationMs), 95);
      const peakRssMiB = peakRssBytes / 2 ** 20;
      const ok = complete && refused === 0 && p95Ms < 5000 && peakRssMiB < 2048;
      const reason = ok ? null : !complete ? `run ${run.status}: ${run.reason ?? 'not every client took part'}` : refused ? `${refused} updates refused` : 'over the p95 or memory bound';
      out.push({ clients, ok, p95Ms, peakRssMiB, reason });
      log(`   ${clients} clients: p95 ${p95Ms} ms, peak RSS ${peakRssMiB.toFixed(0)} MiB${ok ? '' : ` (${reason})`}`);
      if (!ok) break;
    } catch (error) {
      out.push({ clients, ok: false, p95Ms: null, peakRssMiB: null, reason: String(error) });
      log(`   ${clients} clients: failed: ${String(error)}`);
      break;
    }
  }
  return out;
}
