import { createFedAvg, finishFedAvg, foldUpdate } from '../aggregation/fedavg';
import { FoldSum, foldScalar, simdAvailable } from '../aggregation/simd-fold';
import { createRng } from '@fl/shared';

/** The FedAvg paper's MNIST CNN (McMahan et al. 2017): two 5x5 convs (32, 64), dense 512, dense 10. */
export const FEDAVG_CNN_SHAPES = [[5, 5, 1, 32], [32], [5, 5, 32, 64], [64], [3136, 512], [512], [512, 10], [10]];
export const FEDAVG_CNN_PARAMS = 1_663_370;

export interface AggregationResult {
  params: number;
  updates: number;
  aggregateMs: number;
  memcpyMs: number;
  /** Aggregation throughput / Float32Array copy throughput, over the same bytes. */
  aggregationVsMemcpy: number;
  /** Whether the hub's fold ran on the WebAssembly SIMD kernel. */
  simd: boolean;
  /** The same updates through FedAvg's fold from a Float32Array (copied into the kernel's slot first: a decode's cost). */
  foldWithCopyMs: number;
  /** The same updates through the scalar JavaScript loop the kernel replaced. */
  scalarMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Folds `updates` updates of `params` values into the streaming FedAvg sum with the kernel, each update already in
 * its staging slot (where the hub decodes it), and, in the same process and alternating with it, copies the same
 * bytes with Float32Array.set; also the fold from a Float32Array (slot copy included) and the scalar loop.
 * Ratio of throughputs, median of trials.
 */
export function benchAggregation(params = FEDAVG_CNN_PARAMS, updates = 100, trials = 5): AggregationResult {
  const rng = createRng(42);
  // A few distinct source arrays, reused: generating 100 x 1.66M random values would dominate.
  const sources = Array.from({ length: 4 }, () => Float32Array.from({ length: params }, () => rng() - 0.5));
  const target = new Float32Array(params);
  const kernel = new FoldSum(params);
  const aggregate: number[] = [];
  const copy: number[] = [];
  const withCopy: number[] = [];
  const scalar: number[] = [];
  const time = (run: () => void) => {
    const start = performance.now();
    run();
    return performance.now() - start;
  };
  for (let t = 0; t < trials + 1; t++) {
    kernel.sum.fill(0);
    // The kernel alone: a fixed update in the slot (sources differ only in values; the kernel's speed does not).
    kernel.staging.set(sources[t % sources.length]!);
    const aggMs = time(() => {
      for (let u = 0; u < updates; u++) kernel.foldStaged(100 + u);
    });
    const copyMs = time(() => {
      for (let u = 0; u < updates; u++) target.set(sources[u % sources.length]!);
    });
    const copyFoldMs = time(() => {
      const acc = createFedAvg(params);
      for (let u = 0; u < updates; u++) foldUpdate(acc, sources[u % sources.length]!, 100 + u);
      finishFedAvg(acc);
    });
    const scalarMs = time(() => {
      const sum = new Float64Array(params);
      for (let u = 0; u < updates; u++) foldScalar(sum, sources[u % sources.length]!, 100 + u);
    });
    if (t > 0) {
      aggregate.push(aggMs);
      copy.push(copyMs);
      withCopy.push(copyFoldMs);
      scalar.push(scalarMs);
    }
  }
  const aggregateMs = median(aggregate);
  const memcpyMs = median(copy);
  return {
    params,
    updates,
    aggregateMs,
    memcpyMs,
    aggregationVsMemcpy: memcpyMs / aggregateMs,
    simd: simdAvailable(),
    foldWithCopyMs: median(withCopy),
    scalarMs: median(scalar),
  };
}
