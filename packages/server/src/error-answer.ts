/**
 * The one mapping from a thrown error to the server's answer ({"error": message}, a status, its headers) and its
 * log line, used by fastify's error handler and the lean infer route alike: client input is a 4xx with the
 * reason, overload and deadlines 503/504 with Retry-After, anything else a logged 500.
 */
import { isRwsegError } from '@rwseg/core';
import { QueueFullError, QueueTimeoutError, RunTimeoutError } from './batcher.js';
import { BODY_TOO_LARGE } from './body-reader.js';
import { clip, HttpError, MAX_ERROR_LENGTH } from './http-error.js';
import type { ServerLog } from './log.js';
import { ClientGoneError } from './request-context.js';

export interface ErrorAnswer {
  status: number;
  message: string;
  headers: Readonly<Record<string, string>>;
}

const NO_HEADERS: Readonly<Record<string, string>> = {};
const RETRY_AFTER: Readonly<Record<string, string>> = { 'Retry-After': '1' };

/** 499: nginx's code for a client that closed the connection before the answer (nobody reads it). */
export const CLIENT_GONE = 499;

export function errorAnswer(error: Error & { statusCode?: number; code?: string }, bodyLimit: number): ErrorAnswer {
  let status = 500;
  let message = error.message;
  let headers = NO_HEADERS;
  if (error instanceof HttpError) {
    status = error.statusCode;
    headers = error.headers;
  } else if (error instanceof QueueFullError || error instanceof QueueTimeoutError) {
    status = 503;
    headers = RETRY_AFTER;
  } else if (error instanceof RunTimeoutError) {
    status = 504;
    headers = RETRY_AFTER;
  } else if (error instanceof ClientGoneError) {
    status = CLIENT_GONE;
  } else if (isRwsegError(error)) {
    status = error.code === 'BACKEND_ERROR' ? 503 : 400;
  } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 600) {
    status = error.statusCode;
    if (error.code === BODY_TOO_LARGE) message = `request body larger than the ${bodyLimit}-byte limit (--body-limit)`;
  }
  return { status, message: clip(message, MAX_ERROR_LENGTH), headers };
}

/** Logs an answered error: 500s with the error, other 5xx as warnings, 4xx as information. */
export function logErrorAnswer(log: ServerLog, answer: ErrorAnswer, error: Error): void {
  const { status, message } = answer;
  // The close listener has counted and logged a request whose client went away.
  if (status === CLIENT_GONE) return;
  if (status === 500) log.error({ err: error }, 'request failed');
  else if (status >= 500) log.warn({ status, reason: message }, 'request refused');
  else log.info({ status, reason: message }, 'request rejected');
}
