/**
 * Per-request limits that every route inherits without passing them along: the request's one deadline, the
 * signal that fires when its client goes away, and the caps on decoded size. The server enters the context
 * around each route handler (AsyncLocalStorage), and the model store and image decoder read it, so a route
 * written without knowing about deadlines still has its queued work canceled and its time bounded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CancelSignal } from './batcher.js';

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
  signal: CancelSignal;
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

/**
 * A request's client-gone signal. Every request gets one and almost none fires, so it is a plain object: node's
 * AbortController and its EventTarget cost about 40 µs per request to create and to add and remove a listener
 * (`node bench/server.mjs --cpu-prof DIR`: createAbortSignal and the EventTarget methods in the server's profile).
 * Like AbortSignal, it fires once, and a listener added after it fired is never called.
 */
export class ClientGoneSignal implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;

  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.aborted) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.listeners!.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const listener of listeners) listener();
  }
}
