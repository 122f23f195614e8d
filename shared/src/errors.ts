/** Stable error codes the hub answers with. Clients and tests match on these, never on messages. */
export type ErrorCode =
  | 'HUB_ERR_INVALID_PAYLOAD'
  | 'HUB_ERR_INVALID_SETTINGS'
  | 'HUB_ERR_UNAUTHORIZED'
  | 'HUB_ERR_RUN_ACTIVE'
  | 'HUB_ERR_NOT_FOUND'
  | 'HUB_ERR_NOT_JOINED'
  | 'HUB_ERR_CLIENT_CLAIMED'
  | 'HUB_ERR_NO_RUN'
  | 'HUB_ERR_WRONG_RUN'
  | 'HUB_ERR_STALE_ROUND'
  | 'HUB_ERR_ROUND_CLOSED'
  | 'HUB_ERR_NOT_PARTICIPANT'
  | 'HUB_ERR_DUPLICATE_UPDATE'
  | 'HUB_ERR_BAD_FRAME'
  | 'HUB_ERR_SHAPE_MISMATCH'
  | 'HUB_ERR_NON_FINITE'
  | 'HUB_ERR_TOO_LARGE'
  | 'HUB_ERR_UNKNOWN_EVENT'
  | 'HUB_ERR_RATE_LIMITED'
  | 'HUB_ERR_INTERNAL'
  | 'HUB_ERR_NO_LEADER'
  | 'HUB_ERR_SECAGG_STAGE'
  | 'HUB_ERR_SECAGG_UNKNOWN_NEIGHBOUR'
  | 'HUB_ERR_SECAGG_BAD_SHARE'
  | 'HUB_ERR_SECAGG_BAD_FRAME'
  | 'HUB_ERR_SECAGG_TOO_FEW'
  | 'HUB_ERR_SECAGG_RANGE'
  | 'HUB_ERR_SECAGG_UNRECOVERABLE'
  | 'HUB_ERR_SECAGG_BAD_REQUEST';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Every acknowledgement is either data or a coded error. */
export type AckResponse<T> = { data: T } | { error: ErrorBody };

export type Ack<T> = (response: AckResponse<T>) => void;

/** An error that carries its code across layers (codec, guards, routes). */
export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CodedError';
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

export function isErrorResponse<T>(r: AckResponse<T>): r is { error: ErrorBody } {
  return 'error' in r;
}
