/**
 * FedAvg weights with no client above `maxShare` of the round's total, whatever it declares.
 * Water-filling: the largest declared counts are lowered to one common cap, the rest keep theirs,
 * so honest clients below the cap keep their ratios. A share below 1/n cannot be met: all weigh equally.
 *
 * @example capShares([100, 100, 10_000_000], 0.5) // [100, 100, 200]: the big claim weighs as much as the others together
 */
export function capShares(declared: readonly number[], maxShare: number): number[] {
  const n = declared.length;
  if (n === 0) return [];
  if (maxShare >= 1 || n === 1) return [...declared];
  if (maxShare * n <= 1) {
    const equal = Math.min(...declared);
    return declared.map(() => equal);
  }
  const order = declared.map((_, i) => i).sort((a, b) => declared[b]! - declared[a]!);
  let rest = declared.reduce((sum, w) => sum + w, 0);
  // Cap the k largest at c, where c = maxShare * (k * c + rest) solves to c = maxShare * rest / (1 - k * maxShare).
  for (let k = 0; k < n; k++) {
    const cap = k === 0 ? maxShare * rest : (maxShare * rest) / (1 - k * maxShare);
    const largest = declared[order[k]!]!;
    if (largest <= cap) return k === 0 ? [...declared] : declared.map((w) => Math.min(w, cap));
    rest -= largest;
    if ((k + 1) * maxShare >= 1) break;
  }
  const equal = Math.min(...declared);
  return declared.map(() => equal);
}
