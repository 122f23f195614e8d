import { CodedError } from '../errors';
import { utf8 } from './bytes';
import { checkParams, type SecAggParams } from './params';

const VERSION = 1;

function bad(message: string): never {
  throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', `setup frame: ${message}`);
}

/**
 * `secagg:setup` payload, little-endian: [version u16][index u16][round u32][n u16][t u16][F u8][0 u8][0 u16][clip f64]
 * [L u32][runId: len u16, utf8] then n x [id: len u16, utf8], n x [weight u32], n x [degree u16, degree x u16].
 */
export function encodeSetup(params: SecAggParams, index: number): Uint8Array {
  checkParams(params);
  const n = params.participants.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`index ${index} is not a participant`);
  const strings = [params.runId, ...params.participants].map(utf8);
  if (strings.some((s) => s.length > 0xffff)) throw new RangeError('an id is longer than 65535 bytes');
  const size =
    28 + strings.reduce((a, s) => a + 2 + s.length, 0) + 4 * n + params.neighbours.reduce((a, l) => a + 2 + 2 * l.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, VERSION, true);
  view.setUint16(2, index, true);
  view.setUint32(4, params.round, true);
  view.setUint16(8, n, true);
  view.setUint16(10, params.threshold, true);
  view.setUint8(12, params.fracBits);
  view.setFloat64(16, params.clip, true);
  view.setUint32(24, params.length, true);
  let at = 28;
  for (const s of strings) {
    view.setUint16(at, s.length, true);
    out.set(s, at + 2);
    at += 2 + s.length;
  }
  for (const w of params.weights) {
    view.setUint32(at, w, true);
    at += 4;
  }
  for (const list of params.neighbours) {
    view.setUint16(at, list.length, true);
    at += 2;
    for (const j of list) {
      view.setUint16(at, j, true);
      at += 2;
    }
  }
  return out;
}

/** Reads and validates a setup frame: every length, index and the graph's symmetry; HUB_ERR_SECAGG_BAD_FRAME otherwise. */
export function decodeSetup(bytes: Uint8Array): { params: SecAggParams; index: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (k: number): void => {
    if (at + k > bytes.length) bad('truncated');
  };
  const u16 = (): number => {
    need(2);
    at += 2;
    return view.getUint16(at - 2, true);
  };
  const u32 = (): number => {
    need(4);
    at += 4;
    return view.getUint32(at - 4, true);
  };
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const text = (): string => {
    const len = u16();
    need(len);
    at += len;
    try {
      return decoder.decode(bytes.subarray(at - len, at));
    } catch {
      return bad('an id is not utf-8');
    }
  };
  need(28);
  if (view.getUint16(0, true) !== VERSION) bad(`version ${view.getUint16(0, true)}`);
  const index = view.getUint16(2, true);
  const round = view.getUint32(4, true);
  const n = view.getUint16(8, true);
  const threshold = view.getUint16(10, true);
  const fracBits = view.getUint8(12);
  const clip = view.getFloat64(16, true);
  const length = view.getUint32(24, true);
  at = 28;
  const runId = text();
  const participants = Array.from({ length: n }, text);
  const weights = Array.from({ length: n }, u32);
  const neighbours = Array.from({ length: n }, () => Array.from({ length: u16() }, u16));
  if (at !== bytes.length) bad(`${bytes.length - at} trailing bytes`);
  if (index >= n) bad(`index ${index} of ${n}`);
  const params: SecAggParams = { runId, round, participants, neighbours, threshold, weights, fracBits, clip, length };
  checkParams(params);
  return { params, index };
}
