/**
 * The FedAvg fold `sum += weight * values` (float32 values into a float64 sum) as a WebAssembly SIMD kernel:
 * four float32 lanes loaded at once, promoted to two f64x2 halves, multiplied by the weight and added to the
 * sum. The same arithmetic as the scalar loop (each product and sum rounded once in float64), so results are
 * bit-identical to it; measured at several times its speed (BENCHMARKS.md, "Aggregation").
 *
 * The module is assembled here from its opcodes (a few dozen bytes, no toolchain); every instance owns its memory:
 * the sum and one staging slot the caller decodes an update into, so a fold reads nothing outside wasm memory.
 */

const uleb = (value: number): number[] => {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
};
const sleb = (value: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
};

const OP = {
  block: 0x02,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
  void: 0x40,
} as const;
const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
const SIMD = {
  load: (align: number, offset: number) => simd(0x00, align, ...uleb(offset)),
  store: (align: number, offset: number) => simd(0x0b, align, ...uleb(offset)),
  shuffle: (lanes: number[]) => simd(0x0d, ...lanes),
  f64x2Splat: simd(0x14),
  f64x2PromoteLowF32x4: simd(0x5f),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
};
const get = (i: number) => [OP.localGet, i];
const set = (i: number) => [OP.localSet, i];
const tee = (i: number) => [OP.localTee, i];
const i32 = (v: number) => [OP.i32Const, ...sleb(v)];

/** Lanes 2 and 3 of an f32x4 moved to 0 and 1, so promote_low reads the upper half. */
const UPPER_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * (func $fold (param $sum i32) (param $values i32) (param $count i32) (param $weight f64))
 * $count is a multiple of 4 and at least 4; $sum and $values are byte offsets. Locals: 4 end (i32), 5 weight x2, 6 lanes.
 */
function foldBody(): number[] {
  const half = (offset: number, lanes: number[]) => [
    ...get(0),
    ...get(0), ...SIMD.load(3, offset),
    ...lanes, ...SIMD.f64x2PromoteLowF32x4, ...get(5), ...SIMD.f64x2Mul,
    ...SIMD.f64x2Add,
    ...SIMD.store(3, offset),
  ];
  return [
    0x02, 0x01, 0x7f, 0x02, 0x7b,
    ...get(1), ...get(2), ...i32(2), OP.i32Shl, OP.i32Add, ...set(4),
    ...get(3), ...SIMD.f64x2Splat, ...set(5),
    OP.block, OP.void,
    ...get(1), ...get(4), OP.i32GeU, OP.brIf, 0,
    OP.loop, OP.void,
    ...get(1), ...SIMD.load(2, 0), ...set(6),
    ...half(0, get(6)),
    ...half(16, [...get(6), ...get(6), ...SIMD.shuffle(UPPER_HALF)]),
    ...get(0), ...i32(32), OP.i32Add, ...set(0),
    ...get(1), ...i32(16), OP.i32Add, ...tee(1), ...get(4), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
}

function moduleBytes(): Uint8Array {
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const body = foldBody();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7c, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('fold'), 0, 0, ...name('memory'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The part of the WebAssembly JS API used here (the hub's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

/** The compiled kernel, or null where this runtime has no WebAssembly SIMD (the scalar loop is used then). */
function kernelModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  const bytes = moduleBytes();
  compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
  return compiled;
}

/** Whether folds run on the SIMD kernel here. */
export function simdAvailable(): boolean {
  return kernelModule() !== null;
}

/** The scalar fold: the reference the kernel is tested against, and the fallback without SIMD. */
export function foldScalar(sum: Float64Array, values: ArrayLike<number>, weight: number): void {
  const n = Math.min(sum.length, values.length);
  for (let i = 0; i < n; i++) sum[i]! += values[i]! * weight;
}

/**
 * A float64 sum of `length` values with a staging slot: decode an update into `staging` and call
 * `foldStaged`, or hand `fold` a Float32Array (copied into the slot first).
 */
export class FoldSum {
  /** The running sum (a view of wasm memory when the kernel is in use). */
  readonly sum: Float64Array;
  /** Where the next update goes before `foldStaged`; its padding past `length` stays zero. */
  readonly staging: Float32Array;
  private readonly run: ((weight: number) => void) | null;

  constructor(readonly length: number) {
    const padded = Math.max(4, Math.ceil(length / 4) * 4);
    const module = kernelModule();
    if (!module) {
      this.sum = new Float64Array(length);
      this.staging = new Float32Array(length);
      this.run = null;
      return;
    }
    const instance = new wasm!.Instance(module);
    const { fold, memory } = instance.exports as { fold: (sum: number, values: number, count: number, weight: number) => void; memory: WasmMemory };
    const sumBytes = padded * 8;
    const pages = Math.ceil((sumBytes + padded * 4) / 65536);
    memory.grow(pages);
    // Views taken after the one growth: the memory never grows again, so they stay attached.
    this.sum = new Float64Array(memory.buffer, 0, length);
    this.staging = new Float32Array(memory.buffer, sumBytes, length);
    this.run = (weight) => fold(0, sumBytes, padded, weight);
  }

  /** sum += weight * staging. */
  foldStaged(weight: number): void {
    if (this.run) this.run(weight);
    else foldScalar(this.sum, this.staging, weight);
  }

  /** sum += weight * values. */
  fold(values: Float32Array, weight: number): void {
    if (values.length !== this.length) throw new Error(`update has ${values.length} values, the sum ${this.length}`);
    if (!this.run) return foldScalar(this.sum, values, weight);
    this.staging.set(values);
    this.run(weight);
  }
}
