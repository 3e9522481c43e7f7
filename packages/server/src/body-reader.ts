/**
 * Reads a request body into one Buffer, sized from Content-Length up front and placed so that the binary tensor
 * extension's tensors start 8-byte aligned: onnxruntime then gets a typed-array view on the body itself, with no
 * copy, whatever the JSON header's length (datatypes.ts copies only when an offset is still misaligned).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** The widest element the extension carries (FP64, INT64): the alignment the first tensor gets. */
const ALIGN = 8;
/** Bytes reserved before any arrive (most inference bodies fit); more as they come. */
const PREALLOCATE = 1 << 20;

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
  const known = Number.isSafeInteger(declared) && declared >= 0;
  // Memory follows the bytes that arrived, not the bytes announced: a client that declares 64 MB and sends one
  // byte costs at most PREALLOCATE; beyond it the buffer doubles (never past the declared length), so a body costs
  // at most twice its size and about one extra copy.
  let store: Buffer | undefined = known ? Buffer.allocUnsafeSlow(shift + Math.min(declared, PREALLOCATE)) : undefined;
  let received = 0;

  const finish = (error: Error | null, body?: Buffer) => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
    done(error, body);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const needed = received + bytes.length;
    if (needed > limit) return finish(bodyError(413, BODY_TOO_LARGE, 'request body too large'));
    if (known && needed > declared) return finish(invalidLength());
    if (!store || shift + needed > store.length) {
      const size = Math.min(known ? declared : limit, Math.max(needed, 2 * received, 16_384));
      const grown = Buffer.allocUnsafeSlow(shift + size);
      if (store) store.copy(grown, 0, 0, shift + received);
      store = grown;
    }
    bytes.copy(store, shift + received);
    received = needed;
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
