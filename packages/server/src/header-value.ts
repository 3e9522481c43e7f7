/**
 * JSON for an HTTP header value. Header values are Latin-1 on the wire and Node refuses anything else
 * (ERR_INVALID_CHAR), so every character outside printable ASCII is written as a JSON \uXXXX escape: the value
 * is pure ASCII, and JSON.parse on the client gives back exactly the original strings, whatever their script.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
