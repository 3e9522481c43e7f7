/**
 * One request's accounting, for fastify's routes and the lean infer route alike: its context (the one deadline,
 * the client-gone signal, the size caps), the body deadline (408), and, when its response closes, sent or not, the
 * in-flight gauge, requests_total, the latency histogram and the abort log line. 'close' fires once per response
 * whatever happened, so it is the one place that counts every request, aborted ones too. One close listener and
 * one timer callback serve every request (the state rides on the response), so accounting costs no closures.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clip, HttpError } from './http-error.js';
import type { ServerLog } from './log.js';
import type { ServerMetrics } from './metrics.js';
import { ClientGoneError, ClientGoneSignal, type RequestContext, type RequestLimits } from './request-context.js';
import { CLIENT_GONE } from './error-answer.js';

/** pino's level check, where the logger has one (a test's plain logger logs everything). */
export type LevelCheck = (level: string) => boolean;

export interface TrackedRequest extends RequestContext {
  readonly signal: ClientGoneSignal;
  /** performance.now() when the request's headers were read. */
  readonly started: number;
  /** The matched route's pattern, the metrics' label ('unmatched' when none). */
  route: string;
  readonly method: string;
  readonly url: string;
  /** The request's logger (with its request id where request logging is on). */
  readonly log: ServerLog;
  /** Log 'request completed' when the answer is sent (the lean route's share of fastify's request log). */
  logCompletion: boolean;
  bodyPending: boolean;
  bodyTimer: NodeJS.Timeout | undefined;
  readonly tracker: RequestTracker;
}

const STATE = Symbol('rwseg.request');
type TrackedResponse = ServerResponse & { [STATE]?: TrackedRequest };

function onResponseClose(this: TrackedResponse): void {
  const state = this[STATE];
  if (state) state.tracker.closed(this, state);
}

function onBodyDeadline(state: TrackedRequest, request: IncomingMessage, response: ServerResponse): void {
  // The body already arrived (or its reader is gone): nothing to cut short.
  if (!state.bodyPending || request.listenerCount('error') === 0) return;
  // The answer is the 408, then the connection closes: the rest of the body will never be read.
  response.setHeader('connection', 'close');
  const message = `the request body did not arrive within the ${state.timeoutMs} ms deadline (--timeout-ms)`;
  request.emit('error', new HttpError(408, message));
}

export class RequestTracker {
  constructor(
    private readonly metrics: ServerMetrics,
    private readonly limits: RequestLimits,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Starts accounting for a request whose headers were just read; its answer is `response`. */
  open(response: ServerResponse, route: string | undefined, method: string, url: string, log: ServerLog) {
    const started = performance.now();
    const state: TrackedRequest = {
      deadline: this.requestTimeoutMs > 0 ? started + this.requestTimeoutMs : Infinity,
      timeoutMs: this.requestTimeoutMs,
      signal: new ClientGoneSignal(),
      limits: this.limits,
      workStarted: false,
      started,
      route: route ?? 'unmatched',
      method,
      url,
      log,
      logCompletion: false,
      bodyPending: false,
      bodyTimer: undefined,
      tracker: this,
    };
    (response as TrackedResponse)[STATE] = state;
    this.metrics.inFlight.inc();
    response.once('close', onResponseClose);
    return state;
  }

  /** The state `open` attached to a response. */
  of(response: ServerResponse): TrackedRequest | undefined {
    return (response as TrackedResponse)[STATE];
  }

  /** A body still arriving at the deadline ends the request with 408 (through the body reader's error path). */
  startBodyDeadline(state: TrackedRequest, request: IncomingMessage, response: ServerResponse): void {
    if (!Number.isFinite(state.deadline)) return;
    const hasBody =
      request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return;
    state.bodyPending = true;
    const wait = Math.max(0, state.deadline - performance.now());
    state.bodyTimer = setTimeout(onBodyDeadline, wait, state, request, response);
  }

  /** The body arrived (or failed): the body deadline no longer applies. */
  endBodyDeadline(state: TrackedRequest): void {
    state.bodyPending = false;
    if (state.bodyTimer) {
      clearTimeout(state.bodyTimer);
      state.bodyTimer = undefined;
    }
  }

  closed(response: ServerResponse, state: TrackedRequest): void {
    if (state.bodyTimer) clearTimeout(state.bodyTimer);
    const { metrics } = this;
    metrics.inFlight.dec();
    // Answered once the whole response was handed to the socket (end() called), whether or not the client read it.
    const finished = response.writableEnded;
    const elapsed = performance.now() - state.started;
    const status = finished ? response.statusCode : CLIENT_GONE;
    metrics.requests.inc({ route: state.route, method: state.method, status: String(status) });
    metrics.latency.observe({ route: state.route, method: state.method }, elapsed / 1000);
    if (!finished) {
      state.signal.abort(new ClientGoneError());
      state.log.info(
        { url: clip(state.url, 200), elapsedMs: Math.round(elapsed) },
        'request aborted: the client closed the connection before the answer was sent',
      );
    } else if (state.logCompletion) {
      state.log.info({ res: { statusCode: status }, responseTime: elapsed }, 'request completed');
    }
  }
}
