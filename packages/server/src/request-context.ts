/**
 * Per-request limits that every route inherits without passing them along: the request's one deadline, the
 * signal that fires when its client goes away, and the caps on decoded size. The server enters the context
 * around each route handler (AsyncLocalStorage), and the model store and image decoder read it, so a route
 * written without knowing about deadlines still has its queued work canceled and its time bounded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestLimits {
  /** Most voxels (pixels) a decoded image, or elements an input tensor, may have (413 beyond). */
  maxVoxels: number;
}

export interface RequestContext {
  /** performance.now() at which the request must be answered; Infinity without a timeout. */
  deadline: number;
  /** The request's time limit in ms (0: none), for messages. */
  timeoutMs: number;
  /** Aborted when the client closes the connection before the answer is sent. */
  signal: AbortSignal;
  limits: RequestLimits;
  /** Set once any of the request's inference work started, so a later deadline is a 504, not a 503. */
  workStarted: boolean;
}

/** 2^25 voxels: a 512 x 512 x 128 volume, or a 5792 x 5792 image. */
export const DEFAULT_MAX_VOXELS = 2 ** 25;

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the request being handled, or undefined outside a request (library callers, tests). */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** The limits in force: the request's, else the defaults. */
export function currentLimits(): RequestLimits {
  return storage.getStore()?.limits ?? { maxVoxels: DEFAULT_MAX_VOXELS };
}

/** The client closed its connection; nothing can be answered, so work on its behalf stops. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection before the answer was ready');
    this.name = 'ClientGoneError';
  }
}
