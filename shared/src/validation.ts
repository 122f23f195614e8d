import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** Binary payloads travel as Socket.IO attachments: a Buffer/Uint8Array in Node, an ArrayBuffer in browsers. */
export const Binary = Type.Refine(
  Type.Unsafe<Uint8Array | ArrayBuffer>({}),
  (value) => value instanceof Uint8Array || value instanceof ArrayBuffer,
  () => 'expected binary data (ArrayBuffer or Uint8Array)',
);

/** The outcome of a check: the typed value, or a readable reason. */
export type CheckResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface Checker<S extends TSchema> {
  check(value: unknown): CheckResult<Static<S>>;
}

/** Compiles a schema once; `check` returns the first few errors as one line. */
export function checker<S extends TSchema>(schema: S): Checker<S> {
  const compiled = Compile(schema);
  return {
    check(value) {
      if (compiled.Check(value)) return { ok: true, value: value as Static<S> };
      const errors = compiled.Errors(value).slice(0, 3);
      const reason = errors
        .map((e) => `${e.instancePath || '(root)'} ${e.message}`)
        .join('; ');
      return { ok: false, reason: reason || 'invalid value' };
    },
  };
}

/** Binary payloads as a Uint8Array view without copying. */
export function toBytes(data: Uint8Array | ArrayBuffer): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}
