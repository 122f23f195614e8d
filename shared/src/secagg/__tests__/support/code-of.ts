import { CodedError } from '../../../errors';

/** The code a call throws (a CodedError's code, else the error as text), or undefined when it succeeds. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof CodedError ? error.code : String(error);
  }
}
