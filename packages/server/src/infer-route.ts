/**
 * `POST /v2/models/{name}[/versions/{version}]/infer`: the work of an inference request (shared by fastify's route
 * and the lean route) and the lean route itself, which node's 'request' listener calls before fastify sees the
 * request. fastify's lifecycle (hooks, a request and reply object, a child logger, the body parser chain) cost
 * about as much CPU as the rest of a small binary request; the lean route runs the same gate, accounting, body
 * reader, codec and error answers (request-gate.ts, request-tracker.ts, body-reader.ts, error-answer.ts) on
 * node's request and response directly. URLs it does not take as plain (percent-encoding, a trailing slash) go
 * to fastify's route, whose answers are the same.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { readBody } from './body-reader.js';
import { errorAnswer, logErrorAnswer } from './error-answer.js';
import { clip, HttpError } from './http-error.js';
import { decodeRequest, encodeResponse, splitBody, type EncodedResponse } from './inference-codec.js';
import type { ServerLog } from './log.js';
import type { ModelStore, ModelVersion } from './models.js';
import type { RequestContext } from './request-context.js';
import type { RequestGate } from './request-gate.js';
import type { RequestTracker, TrackedRequest } from './request-tracker.js';

export const INFER_ROUTE = '/v2/models/:name/infer';
export const VERSION_INFER_ROUTE = '/v2/models/:name/versions/:version/infer';

const INFER_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/octet-stream']);
const JSON_TYPE = 'application/json; charset=utf-8';

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Only the protocol's two body types, so a cross-site form or text/plain POST cannot start inference. A request
 * with no Content-Type at all is taken: Triton's own Python client and tests send none.
 */
export function inferContentTypeRefusal(headers: IncomingHttpHeaders): HttpError | undefined {
  const header = headers['content-type'];
  if (header === undefined) return undefined;
  // The common case without a split: exactly one of the two types.
  if (header === 'application/octet-stream' || header === 'application/json') return undefined;
  const type = header.split(';')[0].trim().toLowerCase();
  if (INFER_CONTENT_TYPES.has(type)) return undefined;
  return new HttpError(
    415,
    `Content-Type '${clip(type, 60)}' is not accepted on infer: send application/json, ` +
      'or application/octet-stream with Inference-Header-Content-Length (binary tensor extension)',
  );
}

/** Decodes, runs and encodes one inference request on a model version. */
export async function answerInfer(
  mv: ModelVersion,
  body: Buffer | undefined,
  headers: IncomingHttpHeaders,
  context: RequestContext | undefined,
  maxElements: number,
): Promise<EncodedResponse> {
  if (mv.state !== 'ready') await mv.ensureReady();
  if (!body || body.length === 0)
    throw new HttpError(400, 'empty request body: send an $inference_request JSON object');
  const { json, binary } = splitBody(body, headerValue(headers['inference-header-content-length']));
  const decoded = decodeRequest(json, binary, mv.inputs, mv.outputs, { maxElements });
  const fetches = decoded.outputs.map((o) => o.name);
  const results = await mv.infer(decoded.feeds, fetches, undefined, context);
  return encodeResponse(mv.model.name, mv.version, decoded, results);
}

/** The headers an encoded answer needs besides its length. */
export function encodedHeaders(encoded: EncodedResponse, headers: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  if (encoded.headerLength !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    headers['inference-header-content-length'] = String(encoded.headerLength);
  } else headers['content-type'] = JSON_TYPE;
  return headers;
}

/**
 * Writes an answer: the status line and headers, then its buffers without joining them (the JSON text, then the
 * output tensors' own bytes), all leaving in one writev; or a stream, piped. While draining, the answer closes its
 * connection, so keep-alive clients cannot hold the shutdown open.
 */
export function writeAnswer(
  response: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: Buffer[] | Readable,
  draining: boolean,
): void {
  if (draining) headers.connection = 'close';
  if (!Array.isArray(body)) {
    response.writeHead(status, headers);
    body.once('error', (error) => response.destroy(error));
    body.pipe(response);
    return;
  }
  let length = 0;
  for (let i = 0; i < body.length; i++) length += body[i].length;
  headers['content-length'] = length;
  response.writeHead(status, headers);
  response.cork();
  for (let i = 0; i < body.length - 1; i++) response.write(body[i]);
  // end() uncorks fully: status line, headers and every buffer leave in one write.
  response.end(body[body.length - 1]);
}

/** An error's {"error"} answer (with its status and headers), or nothing when the response is already gone. */
export function writeErrorAnswer(
  response: ServerResponse,
  error: Error,
  log: ServerLog,
  bodyLimit: number,
  draining: boolean,
): void {
  const answer = errorAnswer(error, bodyLimit);
  logErrorAnswer(log, answer, error);
  if (response.destroyed) return;
  // An answer already under way cannot become an error answer: cut it, so the client sees it fail.
  if (response.headersSent) return void (response.writableEnded || response.destroy());
  const body = Buffer.from(JSON.stringify({ error: answer.message }));
  writeAnswer(response, answer.status, { ...answer.headers, 'content-type': JSON_TYPE }, [body], draining);
}

export interface InferPath {
  route: string;
  name: string;
  version: string | undefined;
}

/** A path segment the lean route takes as it is: no percent-encoding to decode, at most the router's 1024. */
const SEGMENT = '([A-Za-z0-9_-][A-Za-z0-9_.-]{0,1023})';
const INFER_PATH = new RegExp(`^/v2/models/${SEGMENT}(?:/versions/${SEGMENT})?/infer(?:\\?|$)`);

/** The infer route a URL names in plain form, or undefined (fastify's router then decides). */
export function matchInferPath(url: string): InferPath | undefined {
  if (!url.startsWith('/v2/models/')) return undefined;
  const match = INFER_PATH.exec(url);
  if (!match) return undefined;
  return { route: match[2] === undefined ? INFER_ROUTE : VERSION_INFER_ROUTE, name: match[1], version: match[2] };
}

/** fastify's request log for the lean route (server.ts): 'incoming request' with the fields fastify logs. */
export interface RequestLogger {
  /** The request's logger, with its request id, once 'incoming request' is logged; undefined below info. */
  forRequest(request: IncomingMessage): ServerLog | undefined;
}

export interface LeanInferOptions {
  store: ModelStore;
  gate: RequestGate;
  tracker: RequestTracker;
  log: ServerLog;
  requestLog: RequestLogger;
  bodyLimit: number;
  maxElements: number;
}

/** The lean infer route: the same answers as fastify's infer route, on node's request and response. */
export class LeanInferRoute {
  constructor(private readonly options: LeanInferOptions) {}

  handle(request: IncomingMessage, response: ServerResponse, path: InferPath): void {
    const { gate, tracker } = this.options;
    const requestLog = this.options.requestLog.forRequest(request);
    const state = tracker.open(response, path.route, 'POST', request.url ?? '', requestLog ?? this.options.log);
    state.logCompletion = requestLog !== undefined;
    try {
      const refusal =
        gate.refuse(path.route, 'POST', request.headers, response) ?? inferContentTypeRefusal(request.headers);
      if (refusal) return this.fail(response, state, refusal);
      tracker.startBodyDeadline(state, request, response);
      readBody(request, request, this.options.bodyLimit, (error, body) => {
        tracker.endBodyDeadline(state);
        if (!error) return void this.answer(request, response, state, path, body);
        // The rest of the body may still come and will not be read: close the connection after the answer.
        if (!response.headersSent) response.setHeader('connection', 'close');
        this.fail(response, state, error);
      });
    } catch (error) {
      // Nothing thrown here may reach node's 'request' emitter (an uncaught exception): it is this request's 500.
      this.fail(response, state, error as Error);
    }
  }

  private fail(response: ServerResponse, state: TrackedRequest, error: Error): void {
    try {
      writeErrorAnswer(response, error, state.log, this.options.bodyLimit, this.options.gate.draining);
    } catch (failure) {
      state.log.error({ err: failure }, 'could not answer a failed request');
      response.destroy();
    }
  }

  private async answer(
    request: IncomingMessage,
    response: ServerResponse,
    state: TrackedRequest,
    path: InferPath,
    body: Buffer | undefined,
  ): Promise<void> {
    const { store, gate, maxElements } = this.options;
    try {
      const mv = store.get(path.name, path.version);
      const encoded = await answerInfer(mv, body, request.headers, state, maxElements);
      if (response.destroyed) return;
      writeAnswer(response, 200, encodedHeaders(encoded), encoded.body, gate.draining);
    } catch (error) {
      this.fail(response, state, error as Error);
    }
  }
}
