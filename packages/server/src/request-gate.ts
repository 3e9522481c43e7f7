/**
 * What every request passes before its route runs, in this order: the drain (503 + Connection: close while the
 * server shuts down), CORS headers, bearer-token auth. Written on node's request and response, so fastify's
 * onRequest hook and the lean infer route (infer-route.ts) run this one implementation.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { TokenChecker } from './auth.js';
import type { CorsPolicy } from './cors.js';
import { HttpError } from './http-error.js';

export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/v2/health/live', '/v2/health/ready']);
/** Routes that still answer normally while draining: probes, and metrics so the drain itself can be watched. */
const DRAIN_OPEN_ROUTES: ReadonlySet<string> = new Set([...PUBLIC_ROUTES, '/metrics']);

const RETRY_AFTER = { 'retry-after': '1' };

export class RequestGate {
  /** Set on close (SIGTERM): new requests are refused and answers close their connection. */
  draining = false;

  constructor(
    private readonly tokens: TokenChecker | undefined,
    readonly cors: CorsPolicy | undefined,
  ) {}

  /**
   * The refusal for a request to `route` (its pattern, such as '/v2/models/:name/infer'; undefined when no route
   * matched), or undefined when it may go on. Headers the answer needs either way are set on `response`.
   */
  refuse(
    route: string | undefined,
    method: string,
    headers: IncomingHttpHeaders,
    response: ServerResponse,
  ): HttpError | undefined {
    if (this.draining && !DRAIN_OPEN_ROUTES.has(route ?? '')) {
      response.setHeader('connection', 'close');
      return new HttpError(503, 'the server is shutting down; retry on another replica', RETRY_AFTER);
    }
    if (this.cors) {
      this.cors.decorate(headers, response);
      // Preflights carry no credentials; they are answered by the not-found handler's route lookup.
      if (method === 'OPTIONS') return undefined;
    }
    if (!this.tokens || PUBLIC_ROUTES.has(route ?? '')) return undefined;
    const authorization = headers.authorization;
    if (this.tokens.check(authorization)) return undefined;
    response.setHeader('WWW-Authenticate', 'Bearer realm="rwseg"');
    const reason = authorization ? 'invalid bearer token' : 'missing bearer token (send Authorization: Bearer <token>)';
    return new HttpError(401, reason);
  }
}
