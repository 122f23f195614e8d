/**
 * Seeded ways of splitting a dataset's row indices across federated clients.
 * Results are Uint16Arrays of row indices, so `count` may be at most 65536.
 */
import { createRng, shuffleInPlace } from '../random';
import { sampleDirichlet } from './dirichlet';

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
 * A seeded shuffle, then a stable counting sort by label: which samples of a label come first is random, the
 * label order is not. `starts[l]..starts[l + 1]` is label l's run in `sorted`.
 */
function shuffledByLabel(labels: Uint8Array, rng: () => number): { sorted: Uint16Array; starts: number[] } {
  const count = labels.length;
  const shuffled = shuffleInPlace(identity(count), rng);
  const starts = new Array<number>(257).fill(0);
  for (let i = 0; i < count; i++) starts[labels[i]! + 1]!++;
  for (let l = 1; l <= 256; l++) starts[l]! += starts[l - 1]!;
  const next = starts.slice();
  const sorted = new Uint16Array(count);
  for (let k = 0; k < count; k++) {
    const idx = shuffled[k]!;
    sorted[next[labels[idx]!]!++] = idx;
  }
  return { sorted, starts };
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
  const { sorted } = shuffledByLabel(labels, rng);

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

/**
 * Dirichlet label skew, the usual non-IID benchmark (Hsu et al. 2019; the per-class form of Yurochkin et al. 2019):
 * for each label present, proportions over the clients are drawn from a symmetric Dirichlet(alpha) and that label's
 * seeded-shuffled indices are cut at the cumulative proportions (floored). Small alpha gives each client a few
 * labels (0.1: mostly one or two), large alpha nearly IID shards (100); shard sizes vary as well.
 * Every index lands in exactly one shard. No client is left empty: each empty client takes, in client order, the
 * last index of the then largest client (so the draw itself is kept; this moves at most clients - 1 digits).
 */
export function partitionDirichlet(labels: Uint8Array, clients: number, alpha: number, seed: number): Uint16Array[] {
  const count = labels.length;
  validate(count, clients);
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new Error(`partition: alpha must be > 0, got ${alpha}`);
  const rng = createRng(seed);
  const { sorted, starts } = shuffledByLabel(labels, rng);
  const shards: number[][] = Array.from({ length: clients }, () => []);
  for (let label = 0; label < 256; label++) {
    const from = starts[label]!;
    const n = starts[label + 1]! - from;
    if (n === 0) continue;
    const proportions = sampleDirichlet(alpha, clients, rng);
    let cumulative = 0;
    let at = 0;
    for (let c = 0; c < clients; c++) {
      cumulative += proportions[c]!;
      const end = c === clients - 1 ? n : Math.min(n, Math.floor(cumulative * n));
      for (; at < end; at++) shards[c]!.push(sorted[from + at]!);
    }
  }
  for (const shard of shards) {
    if (shard.length > 0) continue;
    // clients <= count, so while one shard is empty the largest holds at least two.
    let largest = shards[0]!;
    for (const other of shards) if (other.length > largest.length) largest = other;
    shard.push(largest.pop()!);
  }
  return shards.map((shard) => Uint16Array.from(shard));
}
