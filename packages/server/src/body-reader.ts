/**
 * Reads a request body into one Buffer, sized from Content-Length up front and placed so that the binary tensor
 * extension's tensors start 8-byte aligned: onnxruntime then gets a typed-array view on the body itself, with no
 * copy, whatever the JSON header's length (datatypes.ts copies only when an offset is still misaligned).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** The widest element the extension carries (FP64, INT64): the alignment the first tensor gets. */
const ALIGN = 8;

/** An error fastify's error handler maps to a status, as its own body parser's errors are. */
function bodyError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

export const BODY_TOO_LARGE = 'FST_ERR_CTP_BODY_TOO_LARGE';

/**
 * Collects `payload` (the request stream) and calls `done` once with the body or an error: 413 over `limit`
 * bytes, 400 when fewer or more bytes arrive than Content-Length says, the stream's own error otherwise (the
 * server's 408 deadline arrives that way).
 */
export function readBody(
  request: IncomingMessage,
  payload: Readable,
  limit: number,
  done: (error: Error | null, body?: Buffer) => void,
): void {
  const header = request.headers['content-length'];
  const declared = header === undefined ? NaN : Number(header);
  if (declared > limit) return done(bodyError(413, BODY_TOO_LARGE, 'request body too large'));
  // The JSON header's length decides where the binary part begins; place the body so that offset is aligned.
  const headerLength = Number(request.headers['inference-header-content-length']);
  const shift = Number.isSafeInteger(headerLength) && headerLength >= 0 ? (ALIGN - (headerLength % ALIGN)) % ALIGN : 0;
  let store = Number.isSafeInteger(declared) && declared >= 0 ? Buffer.allocUnsafeSlow(declared + shift) : undefined;
  let received = 0;

  const finish = (error: Error | null, body?: Buffer) => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
    done(error, body);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (received + bytes.length > limit) return finish(bodyError(413, BODY_TOO_LARGE, 'request body too large'));
    if (!store || shift + received + bytes.length > store.length) {
      if (store && !Number.isNaN(declared)) return finish(invalidLength());
      // No Content-Length (chunked upload): grow by doubling.
      const grown = Buffer.allocUnsafeSlow(Math.max(shift + (received + bytes.length) * 2, 16_384));
      if (store) store.copy(grown, 0, 0, shift + received);
      store = grown;
    }
    bytes.copy(store, shift + received);
    received += bytes.length;
  };
  const onEnd = () => {
    if (!Number.isNaN(declared) && received !== declared) return finish(invalidLength());
    finish(null, store ? store.subarray(shift, shift + received) : Buffer.alloc(0));
  };
  const onError = (error: Error & { statusCode?: number }) => {
    if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
    finish(error);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
  payload.resume();
}

function invalidLength(): Error {
  return bodyError(400, 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'Request body size did not match Content-Length');
}
