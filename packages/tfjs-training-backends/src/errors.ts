/**
 * The one error class of this package. Its codes are a subset of @rwseg/core's BackendError codes, and core's
 * isBackendError accepts it, so the CLI prints it on one line with exit 2 and the server maps it to a 4xx like any
 * other rwseg error, while this package stays free of core (core depends on it, not the reverse).
 */
export type BackendErrorCode = 'BACKEND_ERROR' | 'INVALID_OPTIONS' | 'INVALID_INPUT';

export class BackendError extends Error {
  readonly code: BackendErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: BackendErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackendError';
    this.code = code;
    this.details = details;
  }
}

export function isBackendError(error: unknown, code?: BackendErrorCode): error is BackendError {
  return error instanceof BackendError && (code === undefined || error.code === code);
}
