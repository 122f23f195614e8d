import { createRng, encodeWeights, randomInt } from '@fl/shared';
import { mnistJoinRequest, updateFor, type ReceivedRound } from './raw-client';

/** Seeded generator of hostile messages: every one of them must be refused (none is a fully valid message). */
export function messageFuzzer(seed: number, ctx: { runId: string; round: ReceivedRound; maxUpdateBytes: number }) {
  const rng = createRng(seed);
  const int = (n: number) => randomInt(rng, n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => rng() < p;

  function junkString(): string {
    const length = pick([0, 1, 8, 64, 1000, 10_000]);
    const alphabet = 'abcXYZ019:-_ {}[]"\\\u0000\u00e9\u4e2d\ud83d\ude00';
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[int(alphabet.length)];
    return s;
  }
  function junkBytes(max = 2048): Uint8Array {
    const bytes = new Uint8Array(int(max));
    for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
    return bytes;
  }
  function junkValue(depth = 0): unknown {
    switch (int(depth > 3 ? 7 : 10)) {
      case 0: return pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53, -0]);
      case 1: return pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      case 2: return null;
      case 3: return pick([true, false]);
      case 4: return junkString();
      case 5: return junkBytes();
      case 6: return pick(['client:join', 'mnist', ctx.runId, '__proto__', 'constructor']);
      case 7: return Array.from({ length: int(5) }, () => junkValue(depth + 1));
      case 8: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(['a', 'name', 'round', 'weights', '__proto__', junkString().slice(0, 20)]), junkValue(depth + 1)]));
      default: return { runId: junkValue(depth + 1), round: junkValue(depth + 1), nested: { deeper: junkValue(depth + 1) } };
    }
  }
  /** Replaces one field of a valid object with a value the schema refuses, drops it, or adds an unknown one. */
  function breakObject(valid: Record<string, unknown>, wrong: Record<string, readonly unknown[]>): Record<string, unknown> {
    const copy = { ...valid };
    const keys = Object.keys(wrong);
    switch (int(3)) {
      case 0: {
        const key = pick(keys);
        copy[key] = pick(wrong[key]!);
        return copy;
      }
      case 1: {
        const required = keys.filter((k) => k in valid && !['loss', 'accuracy', 'clientId', 'joinToken', 'backend'].includes(k));
        delete copy[pick(required.length ? required : keys)];
        // A dropped optional field would leave it valid: make sure something is wrong.
        if (Object.keys(copy).length === Object.keys(valid).length - 1 && required.length === 0) copy.unknownField = 1;
        return copy;
      }
      default:
        copy[pick(['unknownField', 'admin', 'extra'])] = junkValue();
        return copy;
    }
  }

  const frame = encodeWeights(ctx.round.weights);
  function junkFrame(): Uint8Array {
    switch (int(7)) {
      case 0: {
        const bytes = junkBytes();
        if (bytes.length) bytes[0] = 0; // never the FLW1 magic
        return bytes;
      }
      case 1: return frame.slice(0, int(frame.length)); // truncated
      case 2: return Uint8Array.from([...frame.subarray(0, 64), ...junkBytes(64)]); // header of a real frame, wrong body
      case 3: {
        const values = ctx.round.weights.values.slice();
        values[int(values.length)] = pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
        return encodeWeights({ shapes: ctx.round.weights.shapes, values });
      }
      case 4: return encodeWeights({ shapes: [[3, 2]], values: new Float32Array(6) }); // wrong model
      case 5: return chance(0.1) ? new Uint8Array(ctx.maxUpdateBytes + 1 + int(1000)) : new Uint8Array(0);
      default: {
        const bad = frame.slice();
        bad[4] = 2 + int(200); // unknown version
        return bad;
      }
    }
  }

  const validJoin = mnistJoinRequest('fuzz');
  const validData = { data: { task: 'mnist' } };
  const validProgress = { runId: ctx.runId, round: 1, epoch: 1, epochs: 1, batch: 1, batches: 10 };
  const validUpdate = updateFor(ctx.round);

  const realEvents = ['client:join', 'client:data', 'round:progress', 'update:submit'] as const;
  const otherEvents = ['round:start', 'round:cancel', 'hub:status', 'run:update', 'dashboard:launch', 'run:stop', 'message', 'ping', 'error'];

  function payloadFor(event: string): unknown {
    if (chance(0.15)) return junkValue();
    switch (event) {
      case 'client:join':
        return breakObject(validJoin, {
          name: [5, '', 'n'.repeat(81), null, {}, []],
          kind: ['robot', 1, null],
          data: [{ task: 'cifar' }, 'mnist', 7, { task: 'chest-xray' }, { task: 'chest-xray', imageSize: 8, train: {}, test: {} }],
          backend: [{ name: 'cuda' }, null, 'wasm', {}],
          clientId: [12, 'c'.repeat(65), null],
          joinToken: [5, 't'.repeat(257), null],
        });
      case 'client:data':
        return breakObject(validData, {
          data: ['x', 5, { task: 'cifar' }, { task: 'chest-xray', imageSize: 8 }, [], undefined],
          backend: [{ name: 'gpu' }, 'wasm', 3],
        });
      case 'round:progress':
        if (chance(0.2)) return { ...validProgress, runId: 'not-the-run' }; // valid shape, wrong run
        return breakObject(validProgress, {
          runId: ['', 5, null, 'r'.repeat(65)],
          round: [0, -1, 'one', 1.5, 100_001],
          epoch: [-1, 'a', 0.5],
          epochs: [0, null],
          batch: [1.5, -2],
          batches: [0, 'ten'],
          loss: ['low', null, {}],
        });
      default: {
        if (chance(0.5)) {
          // Valid shape: refused for what it carries.
          return pick([
            () => ({ ...validUpdate, weights: junkFrame() }),
            () => ({ ...validUpdate, runId: 'not-the-run', weights: junkFrame() }),
            () => ({ ...validUpdate, runId: 'not-the-run' }),
            () => ({ ...validUpdate, round: 2 + int(5) }),
            () => ({ ...validUpdate, samples: ctx.round.shardSize + 1 + int(100) }),
          ])();
        }
        return breakObject(validUpdate, {
          runId: ['', 5, null],
          round: [0, '1', null, 1.5],
          samples: [0, -5, 2.5, '100', null, 10_000_001],
          weights: [[0.1, 0.2], 'RkxXMQ==', null, { 0: 70 }, 7],
          metrics: [null, {}, { loss: 1, accuracy: 2, trainMs: 1 }, { loss: 'x', accuracy: 0.5, trainMs: 1 }, 'good'],
        });
      }
    }
  }

  return {
    next(): { event: string; args: unknown[]; ack: boolean } {
      // Updates are where the weights could be hurt: half of the messages are update:submit.
      const event = chance(0.5)
        ? 'update:submit'
        : chance(0.4)
          ? pick(realEvents)
          : chance(0.5)
            ? pick(otherEvents)
            : junkString().slice(0, int(200) + 1);
      const args = realEvents.includes(event as (typeof realEvents)[number])
        ? [payloadFor(event)]
        : Array.from({ length: int(4) }, () => junkValue());
      return { event, args, ack: chance(0.75) };
    },
  };
}
