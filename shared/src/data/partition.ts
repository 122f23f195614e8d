/**
 * Seeded ways of splitting a dataset's row indices across federated clients.
 * Results are Uint16Arrays of row indices, so `count` may be at most 65536.
 */
import { createRng, shuffleInPlace } from '../random';

const MAX_COUNT = 0x10000;

function validate(count: number, clients: number): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`partition: count must be a positive integer, got ${count}`);
  }
  if (count > MAX_COUNT) {
    throw new Error(`partition: count ${count} exceeds ${MAX_COUNT} (indices are stored as Uint16)`);
  }
  if (!Number.isInteger(clients) || clients < 1) {
    throw new Error(`partition: clients must be an integer >= 1, got ${clients}`);
  }
  if (clients > count) {
    throw new Error(`partition: cannot split ${count} samples across ${clients} clients (clients > count)`);
  }
}

/** Cuts `arr` into `parts` contiguous pieces whose sizes differ by at most 1. */
function cut(arr: Uint16Array, parts: number): Uint16Array[] {
  const base = Math.floor(arr.length / parts);
  const extra = arr.length % parts;
  const out: Uint16Array[] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = base + (p < extra ? 1 : 0);
    out.push(arr.slice(start, start + size));
    start += size;
  }
  return out;
}

function identity(count: number): Uint16Array {
  const a = new Uint16Array(count);
  for (let i = 0; i < count; i++) a[i] = i;
  return a;
}

/**
 * IID split: a seeded permutation of 0..count-1 cut into `clients` disjoint
 * shards whose sizes differ by at most 1.
 */
export function partitionIid(count: number, clients: number, seed: number): Uint16Array[] {
  validate(count, clients);
  const perm = shuffleInPlace(identity(count), createRng(seed));
  return cut(perm, clients);
}

/**
 * Classic non-IID "pathological" split (McMahan et al.): indices sorted by
 * label are cut into 2*clients contiguous shards (sizes differ by at most 1)
 * and each client receives 2 shards chosen by a seeded permutation, so most
 * clients hold mostly two digits. Client sizes differ by at most 2.
 * Shards are disjoint and together cover every index.
 *
 * If there are fewer than 2*clients samples, each client gets a single shard
 * instead (so that no client ends up empty).
 */
export function partitionByLabel(labels: Uint8Array, clients: number, seed: number): Uint16Array[] {
  const count = labels.length;
  validate(count, clients);
  const rng = createRng(seed);

  // Seeded shuffle first, then a stable counting sort by label: which samples
  // of a given label land in which shard is random, the label order is not.
  const shuffled = shuffleInPlace(identity(count), rng);
  const offsets = new Array<number>(257).fill(0);
  for (let i = 0; i < count; i++) offsets[labels[i]! + 1]!++;
  for (let l = 1; l <= 256; l++) offsets[l]! += offsets[l - 1]!;
  const sorted = new Uint16Array(count);
  for (let k = 0; k < count; k++) {
    const idx = shuffled[k]!;
    sorted[offsets[labels[idx]!]!++] = idx;
  }

  const shardsPerClient = count >= 2 * clients ? 2 : 1;
  const shards = cut(sorted, shardsPerClient * clients);
  const order = shuffleInPlace(identity(shards.length), rng);

  const out: Uint16Array[] = [];
  for (let c = 0; c < clients; c++) {
    const parts = [];
    for (let s = 0; s < shardsPerClient; s++) parts.push(shards[order[c * shardsPerClient + s]!]!);
    const total = parts.reduce((n, p) => n + p.length, 0);
    const merged = new Uint16Array(total);
    let at = 0;
    for (const p of parts) {
      merged.set(p, at);
      at += p.length;
    }
    out.push(merged);
  }
  return out;
}
