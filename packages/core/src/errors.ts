/**
 * Every user-facing failure in rwseg is an RwsegError with a stable code, so the CLI can print the message
 * and exit non-zero, the server can map it to a 4xx, and tests can assert on the code rather than on prose.
 */
// The errors sub-path alone: importing the package root would load TF.js into every worker that reports an error.
import { BackendError } from '@rwseg/tfjs-training-backends/errors';

export type RwsegErrorCode =
  | 'UNKNOWN_NAME'
  | 'DUPLICATE_NAME'
  | 'INVALID_OPTIONS'
  | 'UNSUPPORTED_API_VERSION'
  | 'PLUGIN_LOAD_FAILED'
  | 'INVALID_PLUGIN'
  | 'INVALID_INPUT'
  | 'IO_ERROR'
  | 'INVALID_CONFIG'
  | 'NUMERICAL_ERROR'
  | 'BACKEND_ERROR'
  | 'WORKER_FAILED';

export class RwsegError extends Error {
  readonly code: RwsegErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: RwsegErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RwsegError';
    this.code = code;
    this.details = details;
  }
}

/**
 * True for an RwsegError, and for the BackendError of @rwseg/tfjs-training-backends (same fields, its codes a
 * subset of these), so backend failures reach the CLI's exit codes and the server's 4xx like any other.
 */
export function isRwsegError(error: unknown, code?: RwsegErrorCode): error is RwsegError {
  const known = error instanceof RwsegError || error instanceof BackendError;
  return known && (code === undefined || error.code === code);
}

/** An error as it crosses a worker-thread boundary (structured clone keeps no class): code, message, details. */
export interface SerializedError {
  code: string | undefined;
  message: string;
  details: Record<string, unknown>;
}

export function serializeError(error: unknown): SerializedError {
  const details = isRwsegError(error)
    ? (JSON.parse(JSON.stringify(error.details ?? {})) as Record<string, unknown>)
    : {};
  return {
    code: isRwsegError(error) ? error.code : undefined,
    message: (error as Error)?.message ?? String(error),
    details,
  };
}
