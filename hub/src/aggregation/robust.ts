/**
 * Byzantine-robust aggregation over whole updates (flat Float32Arrays of equal length).
 * Unlike FedAvg these need every update at once, so the hub keeps them for the round.
 */

function requireUpdates(updates: readonly Float32Array[]): number {
  if (updates.length === 0) throw new Error('no updates to aggregate');
  const size = updates[0]!.length;
  for (const u of updates) if (u.length !== size) throw new Error(`updates differ in length (${u.length} vs ${size})`);
  return size;
}

/** Coordinate-wise median (mean of the middle two for an even count). */
export function coordinateMedian(updates: readonly Float32Array[]): Float32Array {
  return coordinateTrimmed(updates, (sorted) => {
    const n = sorted.length;
    const mid = n >> 1;
    return n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  });
}

/** Coordinate-wise mean after dropping the `trimFraction` largest and smallest values (at least one kept). */
export function trimmedMean(updates: readonly Float32Array[], trimFraction: number): Float32Array {
  if (!(trimFraction >= 0 && trimFraction < 0.5)) throw new Error(`trim fraction must be in [0, 0.5), got ${trimFraction}`);
  const n = updates.length;
  const k = Math.min(Math.floor(trimFraction * n), Math.floor((n - 1) / 2));
  return coordinateTrimmed(updates, (sorted) => {
    let sum = 0;
    for (let i = k; i < n - k; i++) sum += sorted[i]!;
    return sum / (n - 2 * k);
  });
}

function coordinateTrimmed(updates: readonly Float32Array[], reduce: (sorted: Float64Array) => number): Float32Array {
  const size = requireUpdates(updates);
  const n = updates.length;
  const column = new Float64Array(n);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < n; j++) column[j] = updates[j]![i]!;
    column.sort();
    out[i] = reduce(column);
  }
  return out;
}

function squaredDistances(updates: readonly Float32Array[]): Float64Array[] {
  const n = updates.length;
  const d = Array.from({ length: n }, () => new Float64Array(n));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const ua = updates[a]!;
      const ub = updates[b]!;
      let sum = 0;
      for (let i = 0; i < ua.length; i++) {
        const diff = ua[i]! - ub[i]!;
        sum += diff * diff;
      }
      d[a]![b] = sum;
      d[b]![a] = sum;
    }
  }
  return d;
}

/**
 * Krum scores (Blanchard et al. 2017): for each update, the sum of squared distances to its
 * n - f - 2 nearest neighbours. Lower is more central.
 */
export function krumScores(updates: readonly Float32Array[], byzantine: number): number[] {
  requireUpdates(updates);
  const n = updates.length;
  const neighbours = Math.max(1, n - byzantine - 2);
  const d = squaredDistances(updates);
  return d.map((row, i) => {
    const others = Array.from(row).filter((_, j) => j !== i).sort((x, y) => x - y);
    return others.slice(0, neighbours).reduce((s, x) => s + x, 0);
  });
}

/**
 * Multi-Krum: the sample-weighted mean of the `select` updates with the lowest Krum scores
 * (select = 1 is Krum itself).
 */
export function multiKrum(
  updates: readonly { values: Float32Array; samples: number }[],
  byzantine: number,
  select: number,
): { values: Float32Array; selected: number[] } {
  const values = updates.map((u) => u.values);
  const scores = krumScores(values, byzantine);
  const chosen = scores
    .map((score, i) => ({ score, i }))
    .sort((a, b) => a.score - b.score || a.i - b.i)
    .slice(0, Math.max(1, Math.min(select, updates.length)))
    .map((s) => s.i);
  const size = values[0]!.length;
  const sum = new Float64Array(size);
  let total = 0;
  for (const i of chosen) {
    const { values: v, samples } = updates[i]!;
    for (let k = 0; k < size; k++) sum[k]! += v[k]! * samples;
    total += samples;
  }
  const out = new Float32Array(size);
  for (let k = 0; k < size; k++) out[k] = sum[k]! / total;
  return { values: out, selected: chosen.sort((a, b) => a - b) };
}

/**
 * Scales the update's change from the global model down to an L2 norm of at most `maxNorm`.
 * Returns the (possibly new) weights and the norm before clipping.
 */
export function clipToNorm(update: Float32Array, global: Float32Array, maxNorm: number): { values: Float32Array; norm: number } {
  if (update.length !== global.length) throw new Error('update and global model differ in length');
  let sq = 0;
  for (let i = 0; i < update.length; i++) {
    const d = update[i]! - global[i]!;
    sq += d * d;
  }
  const norm = Math.sqrt(sq);
  if (norm <= maxNorm) return { values: update, norm };
  const scale = maxNorm / norm;
  const out = new Float32Array(update.length);
  for (let i = 0; i < update.length; i++) out[i] = global[i]! + (update[i]! - global[i]!) * scale;
  return { values: out, norm };
}
