/** An error that carries the HTTP status the protocol prescribes; the error handler sends {"error": message}. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);

/** Longest error message sent or logged; anything a client sent is cut well before this. */
export const MAX_ERROR_LENGTH = 1000;

/** A client-supplied string cut to `max` characters, so echoing it costs a bounded number of bytes. */
export function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/**
 * A short description of any JSON value for an error message: scalars as JSON (strings clipped), containers by
 * kind and size only, so a deeply nested or huge value can neither overflow the stack nor bloat the answer.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, 40));
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** A shape as `[a,b,c]` when it is a short list of numbers, else its description. */
export function describeShape(shape: unknown): string {
  if (Array.isArray(shape) && shape.length <= 16 && shape.every((d) => typeof d === 'number'))
    return `[${shape.join(',')}]`;
  return describeValue(shape);
}
