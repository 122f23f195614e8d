/** What a store write was refused for, the same on SQLite and PostgreSQL (the engine matches on these). */
export type StoreErrorCode =
  /** A run id, a run's round, or a client within a round that is already stored. */
  | 'HUB_ERR_STORE_DUPLICATE'
  /** A round for a run that does not exist. */
  | 'HUB_ERR_STORE_UNKNOWN_RUN'
  /** The database was written by a newer hub whose schema this one does not know. */
  | 'HUB_ERR_STORE_SCHEMA'
  /** Another hub node took the engine lease: this node's engine may no longer write (its fencing token is old). */
  | 'HUB_ERR_STORE_FENCED';

/** A refused store operation; `cause` holds the database's own error. Nothing of the operation was stored. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The constraint a database error names, by kind; null for any other error (which is passed on unchanged). */
export type ConstraintKind = 'unique' | 'foreign-key' | null;

/** Rethrows a constraint violation as a StoreError naming the operation; other errors unchanged. */
export function refuse(err: unknown, kind: ConstraintKind, operation: string): never {
  if (kind === 'unique') {
    throw new StoreError('HUB_ERR_STORE_DUPLICATE', `${operation}: already stored (${(err as Error).message})`, { cause: err });
  }
  if (kind === 'foreign-key') {
    throw new StoreError('HUB_ERR_STORE_UNKNOWN_RUN', `${operation}: no such run (${(err as Error).message})`, { cause: err });
  }
  throw err;
}
