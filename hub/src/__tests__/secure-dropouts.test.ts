import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog as captured } from './support/log-capture';
import type { RunDetail } from '@fl/shared';
import { emitAck, joinRaw, LOCAL_METRICS, outcome } from './support/raw-client';
import { expectedModel, joinSecure, maxDifference, type KillPoint, type ScriptedSecureClient, type SecureHooks } from './support/secure-client';
import { launch, startTestHub, status, waitForClients, waitForRunEnd, type TestHub } from './support/test-hub';
import { waitFor } from './support/wait-for';
import { epsilonFor, fixedPointRange } from '@fl/shared/privacy/index';
import { sqliteOf } from '../app';

/** Stages wait min(60 s, 250 ms per second of round timeout): 2 s here, ample for four in-process clients. */
// Plain FedAvg on the server: the committed model is the unmasked mean itself.
const SETTINGS = { task: 'mnist', rounds: 1, minClients: 3, roundTimeoutSec: 8, secureAggregation: true, init: 'fresh', seed: 11, serverOptimizer: { name: 'fedavg' } } as const;

/** float32 storage of the new model and fixed-point rounding (far below this) are the only differences allowed. */
const TOLERANCE = 1e-6;

interface SecureRun {
  hub: TestHub;
  clients: ScriptedSecureClient[];
  run: RunDetail;
  base: Float32Array;
  /** The committed model after round 1 (null when the round failed). */
  result: Float32Array | null;
}

describe('secure aggregation with scripted clients: exact sums, dropouts at every stage, refusals, nothing kept', () => {
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close();
  });

  async function secureRun(
    kills: KillPoint[],
    hooks: (clients: ScriptedSecureClient[], hub: TestHub) => SecureHooks[] = () => [],
    hubOptions = {},
    settings: object = {},
  ): Promise<SecureRun> {
    const hub = await startTestHub(hubOptions);
    opened.push(hub);
    const clients: ScriptedSecureClient[] = [];
    const hookList: SecureHooks[] = [];
    for (let i = 0; i < 4; i++) {
      // Hooks are read when a round starts, so they may refer to clients that join after this one.
      const lazy: SecureHooks = {
        beforeKeys: (c, s) => hookList[i]?.beforeKeys?.(c, s) ?? Promise.resolve(),
        afterKeys: (c, s) => hookList[i]?.afterKeys?.(c, s) ?? Promise.resolve(),
        beforeMasked: (c, s) => hookList[i]?.beforeMasked?.(c, s) ?? Promise.resolve(),
      };
      const client = await joinSecure(hub.url, `sec-${i + 1}`, 1000 + i, kills[i] ?? null, lazy);
      clients.push(client);
      opened.push(client.raw);
    }
    hookList.push(...hooks(clients, hub));
    await waitForClients(hub, 4);
    const response = await launch(hub, { ...SETTINGS, ...settings });
    expect(response.statusCode, response.body).toBe(201);
    const id = (response.json() as { id: string }).id;
    const run = await waitForRunEnd(hub, id, 60_000);
    const base = sqliteOf(hub.app).checkpoint(id, 0)!.values;
    const result = sqliteOf(hub.app).checkpoint(id, 1)?.values ?? null;
    return { hub, clients, run, base, result };
  }

  /** The run committed round 1 with exactly `survivors`' inputs, and the check could tell it from `others`. */
  function expectSurvivorMean({ run, base, result, clients }: SecureRun, survivors: ScriptedSecureClient[]) {
    expect(run.status, run.reason ?? '').toBe('completed');
    expect(run.rounds.map((r) => ({ status: r.status, clients: r.clients }))).toEqual([{ status: 'completed', clients: survivors.length }]);
    // At the first attempt: a failed unmasking retried with the survivors alone would give the same mean.
    expect(clients.map((c) => c.setups.length)).toEqual([1, 1, 1, 1]);
    const expected = expectedModel(base, survivors);
    expect(maxDifference(result!, expected)).toBeLessThan(TOLERANCE);
    // The comparison can fail: any other set of inputs, or none, is far off at this tolerance.
    expect(maxDifference(expectedModel(base, clients), expectedModel(base, clients.slice(1)))).toBeGreaterThan(100 * TOLERANCE);
    expect(maxDifference(base, expected)).toBeGreaterThan(100 * TOLERANCE);
    // Every client's weight is a positive integer from the setup, the same in every setup.
    for (const c of clients) expect(c.params!.weights).toEqual(clients[0]!.params!.weights);
  }

  /** Waits until the hub has seen `client` disconnect, so the next step happens after the departure. */
  function hubSawLeave(hub: TestHub, client: ScriptedSecureClient): Promise<unknown> {
    return waitFor(async () => (await status(hub)).clients.find((c) => c.id === client.raw.clientId)?.state === 'lost', {
      what: `${client.raw.clientId} lost`,
      timeoutMs: 10_000,
    });
  }

  it('commits the plain weighted mean of the four deltas when nobody drops', async () => {
    const secure = await secureRun([]);
    expectSurvivorMean(secure, secure.clients);
    // Three reveals rebuild every seed (t = 3); a fourth may come after the unmasking and is refused as late.
    const ends = await Promise.all(secure.clients.map((c) => c.done));
    expect(ends.filter((e) => e === 'revealed').length).toBeGreaterThanOrEqual(3);
    expect(ends.every((e) => e === 'revealed' || e === 'reveal HUB_ERR_SECAGG_STAGE')).toBe(true);
    expect(secure.run.rounds[0]!.note).toBe('secure aggregation');
    // What reached the hub from one client is not its input: its masked frame, read as plain fixed point, is noise.
    const client = secure.clients[0]!;
    const masked = secure.clients[0]!.sent.find((s) => s.event === 'secagg:masked')!.frame;
    const words = new Int32Array(masked.slice(8).buffer);
    const plain = Float64Array.from(words.subarray(0, client.delta!.length), (v) => v / 2 ** client.params!.fracBits / client.weight());
    expect(maxDifference(plain, client.delta!)).toBeGreaterThan(1);
  });

  it('closes the round with the other three when a client dies after sending its keys', async () => {
    const secure = await secureRun([null, 'after-keys']);
    const [a, victim, c, d] = secure.clients as [ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient];
    expect(await victim.done).toBe('killed');
    expectSurvivorMean(secure, [a, c, d]);
    expect(secure.run.rounds[0]!.note).toContain('dropped: sec-2');
  });

  it('closes the round with the other three when a client dies after sending its shares: its pairwise masks are rebuilt and removed', async () => {
    const secure = await secureRun([null, 'after-shares']);
    const [a, victim, c, d] = secure.clients as [ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient];
    expect(await victim.done).toBe('killed');
    expectSurvivorMean(secure, [a, c, d]);
    expect(secure.run.rounds[0]!.note).toContain('dropped: sec-2');
  });

  it('keeps the input of a client that dies after sending its masked input, before the unmasking', async () => {
    const secure = await secureRun([null, 'after-masked'], (clients, hub) => {
      const gate: SecureHooks = { beforeMasked: async () => void (await hubSawLeave(hub, clients[1]!)) };
      return [gate, {}, gate, gate];
    });
    expect(await secure.clients[1]!.done).toBe('killed');
    expectSurvivorMean(secure, secure.clients);
    expect(secure.run.rounds[0]!.note).toBe('secure aggregation');
  });

  it('keeps the input of a client that receives the unmask request and dies without revealing', async () => {
    const secure = await secureRun([null, null, 'during-unmask']);
    expect(await secure.clients[2]!.done).toBe('killed');
    expect(secure.clients[2]!.sent.map((s) => s.event)).toEqual(['secagg:keys', 'secagg:shares', 'secagg:masked']);
    expectSurvivorMean(secure, secure.clients);
  });

  it('fails the run with HUB_ERR_SECAGG_TOO_FEW when two of four die after their shares (below t = 3), after its retry', async () => {
    const secure = await secureRun([null, 'after-shares', null, 'after-shares']);
    expect(secure.run.status).toBe('failed');
    expect(secure.run.reason).toContain('HUB_ERR_SECAGG_TOO_FEW');
    expect(secure.result).toBeNull();
    // Attempt 2 fails too: the second client to go left it below minClients; the reason keeps attempt 1's code.
    expect(secure.run.reason).toMatch(/\(attempt 1: HUB_ERR_SECAGG_TOO_FEW: 2 participants left that can answer, threshold 3\)/);
    const first = secure.clients[0]!.setups[0]!;
    expect([first.participants.length, first.threshold]).toEqual([4, 3]);
  });

  it('refuses stage messages out of turn, replays, non-participants and malformed frames with their codes, and still sums exactly', async () => {
    const codes: Record<string, string> = {};
    let outsider: Awaited<ReturnType<typeof joinRaw>> | null = null;
    const secure = await secureRun([], (_clients, hub) => [
      {
        beforeKeys: async (client, start) => {
          const ref = { runId: start.runId, round: start.round };
          const masked = new Uint8Array(8 + 4 * (client.params!.length + 1));
          codes.maskedAtKeys = outcome(await emitAck(client.raw.socket, 'secagg:masked', { ...ref, frame: masked, metrics: LOCAL_METRICS }));
          codes.shortKeys = outcome(await emitAck(client.raw.socket, 'secagg:keys', { ...ref, frame: new Uint8Array(10) }));
          codes.notBinary = outcome(await emitAck(client.raw.socket, 'secagg:keys', { ...ref, frame: [1, 2, 3] }));
          outsider = await joinRaw(hub.url, 'outsider');
          codes.outsider = outcome(await emitAck(outsider.socket, 'secagg:keys', { ...ref, frame: new Uint8Array(64) }));
        },
        afterKeys: async (client, start) => {
          codes.replay = outcome(await emitAck(client.raw.socket, 'secagg:keys', { runId: start.runId, round: start.round, frame: client.sent[0]!.frame }));
        },
      },
      {
        afterKeys: async (client, start) => {
          codes.sharesTooShort = outcome(await emitAck(client.raw.socket, 'secagg:shares', { runId: start.runId, round: start.round, frame: new Uint8Array(5) }));
        },
      },
    ]);
    opened.push({ close: () => outsider?.close() });
    expect(codes).toEqual({
      maskedAtKeys: 'HUB_ERR_SECAGG_STAGE',
      shortKeys: 'HUB_ERR_SECAGG_BAD_FRAME',
      notBinary: 'HUB_ERR_INVALID_PAYLOAD',
      outsider: 'HUB_ERR_NOT_PARTICIPANT',
      replay: 'HUB_ERR_SECAGG_STAGE',
      sharesTooShort: expect.stringMatching(/^HUB_ERR_SECAGG_(BAD_FRAME|STAGE)$/),
    });
    expectSurvivorMean(secure, secure.clients);
  });

  it('keeps no blob of one client\'s vector in SQLite and no frame bytes or long lines in the trace log', async () => {
    const log = captured();
    const secure = await secureRun([null, 'after-shares'], () => [], { logger: { level: 'trace', stream: log.stream } });
    const [a, , c, d] = secure.clients as [ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient];
    expectSurvivorMean(secure, [a, c, d]);
    const length = secure.clients[0]!.params!.length;
    // 24 bytes from the start (past a header), middle and end of every frame a client sent (keys, shares, masked input, reveal).
    const needles = secure.clients.flatMap((client) =>
      client.sent.flatMap(({ frame }) =>
        [8, Math.floor(frame.length / 2) - 12, frame.length - 24].map((at) => {
          const piece = Buffer.from(frame.subarray(at, at + 24));
          return { piece, hex: piece.toString('hex'), base64: piece.subarray(0, 18).toString('base64') };
        }),
      ),
    );
    expect(needles.length).toBeGreaterThanOrEqual(3 * 13);
    const stored: string[] = [];
    const db = sqliteOf(secure.hub.app).db;
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    const large: string[] = [];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]) {
        for (const [column, value] of Object.entries(row)) {
          const bytes = Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value) : null;
          if (!bytes) continue;
          if (needles.some((n) => bytes.includes(n.piece))) stored.push(`${table}.${column}`);
          if (bytes.length > 4096) large.push(`${table}.${column}:${bytes.length}${table === 'checkpoints' ? `:round ${String(row.round)}` : ''}`);
        }
      }
    }
    expect(stored).toEqual([]);
    // The round-0 model and the round's aggregate, nothing else: no masked input (4 (L + 1) + 8 bytes), no one client's delta.
    expect(large.sort()).toEqual([`checkpoints.weights:${4 * length}:round 0`, `checkpoints.weights:${4 * length}:round 1`]);

    await secure.hub.close();
    expect(log.lines.some((line) => JSON.parse(line).msg === 'round aggregated')).toBe(true);
    expect(log.lines.filter((line) => line.length > 4096).map((line) => line.slice(0, 200))).toEqual([]);
    const leaks = log.lines.filter(
      (line) => /"type":"Buffer"|(\d+,){32}/.test(line) || needles.some((n) => line.includes(n.hex) || line.includes(n.base64)),
    );
    expect(leaks.map((line) => line.slice(0, 200))).toEqual([]);
  });
  describe('under differential privacy', () => {
    const DP = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5 };
    /** base + sum(delta_i) / drawn: DP's fixed denominator, whoever survived. */
    const dpModel = (base: Float32Array, survivors: readonly ScriptedSecureClient[], drawn: number) => {
      const out = Float64Array.from(base);
      for (const c of survivors) for (let k = 0; k < out.length; k++) out[k]! += c.delta![k]! / drawn;
      return out;
    };

    it('distributed noise: a client lost after its shares leaves 3 of 4 changes over the fixed denominator 4, and the record accounts z * sqrt(3/4)', async () => {
      const secure = await secureRun([null, 'after-shares'], undefined, {}, { dp: { ...DP, noise: 'distributed' } });
      const [a, victim, c, d] = secure.clients as [ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient, ScriptedSecureClient];
      expect(await victim.done).toBe('killed');
      expect(secure.run.status, secure.run.reason ?? '').toBe('completed');
      // Every weight is 1 and the fixed point covers the clip plus seven share deviations.
      for (const client of secure.clients) expect(client.params!.weights).toEqual([1, 1, 1, 1]);
      expect(a.params!.clip).toBeCloseTo(fixedPointRange({ ...DP, noise: 'distributed' }, 4), 12);
      // The scripted clients add no noise of their own, so the committed model is exact.
      expect(maxDifference(secure.result!, dpModel(secure.base, [a, c, d], 4))).toBeLessThan(TOLERANCE);
      expect(maxDifference(secure.result!, dpModel(secure.base, [a, c, d], 3))).toBeGreaterThan(100 * TOLERANCE);
      const record = secure.run.rounds[0]!;
      expect(record.privacy).toEqual({ samplingRate: 1, noiseMultiplier: Math.sqrt(3 / 4), participants: 4, survivors: 3, clipped: null });
      expect(record.epsilon).toBeCloseTo(epsilonFor({ samplingRate: 1, noiseMultiplier: Math.sqrt(3 / 4), rounds: 1, delta: DP.delta }).epsilon, 9);
    });

    it('central noise: the hub adds Gaussian noise of std z * C to the unmasked sum (std z * C / 4 on the mean)', async () => {
      const secure = await secureRun([], undefined, {}, { dp: DP });
      expect(secure.run.status, secure.run.reason ?? '').toBe('completed');
      const exact = dpModel(secure.base, secure.clients, 4);
      const noise = Float64Array.from(secure.result!, (v, k) => v - exact[k]!);
      const n = noise.length;
      const mean = noise.reduce((s, v) => s + v, 0) / n;
      const sd = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
      const want = (DP.noiseMultiplier * DP.clipNorm) / 4;
      // Thousands of coordinates: the sample sd lies within 6 standard errors (sd / sqrt(2n)) of z * C / 4.
      expect(Math.abs(sd - want)).toBeLessThan((6 * want) / Math.sqrt(2 * n));
      expect(Math.abs(mean)).toBeLessThan((6 * want) / Math.sqrt(n));
      expect(secure.run.rounds[0]!.privacy).toMatchObject({ noiseMultiplier: 1, participants: 4, survivors: 4 });
    });
  });
});
