/** Errors a caller can cause, each with a stable code so tools can react without parsing messages. */
export type TfjsToOnnxErrorCode =
  'UNSUPPORTED_LAYER' | 'UNSUPPORTED_CONFIG' | 'INVALID_MODEL' | 'INVALID_OPTION' | 'PARITY_FAILED' | 'IO_ERROR';

export class TfjsToOnnxError extends Error {
  constructor(
    readonly code: TfjsToOnnxErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'TfjsToOnnxError';
  }
}
