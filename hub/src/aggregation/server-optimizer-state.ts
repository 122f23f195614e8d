import { CodedError, type ServerOptimizerName } from '@fl/shared';
import type { OptimizerState } from './server-optimizer';

/**
 * A server optimiser's state as stored beside a checkpoint. Little-endian:
 * "FLSO" | u8 version | u8 optimiser | u8 flags (bit 0: v present) | u8 reserved | u32 step | u32 length |
 * f64 m[length] | f64 v[length] when present.
 */
const MAGIC = [0x46, 0x4c, 0x53, 0x4f];
const VERSION = 1;
const HEADER = 16;
/** Codes of the stateful optimisers in the frame (fedavg stores nothing). */
const NAMES: readonly ServerOptimizerName[] = ['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'];

export function encodeOptimizerState(state: OptimizerState): Uint8Array {
  const n = state.m.length;
  if (state.v && state.v.length !== n) throw new CodedError('HUB_ERR_INTERNAL', `m has ${n} values, v ${state.v.length}`);
  const code = NAMES.indexOf(state.name);
  if (code < 0) throw new CodedError('HUB_ERR_INTERNAL', `${state.name} keeps no state`);
  const bytes = new Uint8Array(HEADER + n * 8 * (state.v ? 2 : 1));
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint8(5, code);
  view.setUint8(6, state.v ? 1 : 0);
  view.setUint32(8, state.step, true);
  view.setUint32(12, n, true);
  for (let i = 0; i < n; i++) view.setFloat64(HEADER + i * 8, state.m[i]!, true);
  if (state.v) for (let i = 0; i < n; i++) view.setFloat64(HEADER + (n + i) * 8, state.v[i]!, true);
  return bytes;
}

/** Throws HUB_ERR_INTERNAL for bytes that are not a whole state of this version. */
export function decodeOptimizerState(bytes: Uint8Array): OptimizerState {
  const bad = (why: string) => new CodedError('HUB_ERR_INTERNAL', `stored server optimiser state: ${why}`);
  if (bytes.byteLength < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('not a state frame');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== VERSION) throw bad(`version ${view.getUint8(4)}`);
  const name = NAMES[view.getUint8(5)];
  if (!name) throw bad(`unknown optimiser ${view.getUint8(5)}`);
  const flags = view.getUint8(6);
  if (flags > 1) throw bad(`unknown flags ${flags}`);
  const step = view.getUint32(8, true);
  const n = view.getUint32(12, true);
  const hasV = flags === 1;
  if (bytes.byteLength !== HEADER + n * 8 * (hasV ? 2 : 1)) throw bad(`${bytes.byteLength} bytes for ${n} values`);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) m[i] = view.getFloat64(HEADER + i * 8, true);
  let v: Float64Array | null = null;
  if (hasV) {
    v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = view.getFloat64(HEADER + (n + i) * 8, true);
  }
  return { name, step, m, v };
}
