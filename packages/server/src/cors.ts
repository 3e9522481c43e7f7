/**
 * Cross-origin access, off unless origins are configured (`--cors-origin`). Off, a browser on another site gets
 * no Access-Control-* header, so it can neither read an answer nor send a preflighted request (JSON or binary
 * inference); the Content-Type check on infer refuses the form and text/plain requests it could still send.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CorsPolicy {
  /**
   * Sets the headers of an actual request from an allowed origin, on the node response itself, so fastify's routes
   * and the lean infer route (infer-route.ts) share it.
   */
  decorate(headers: IncomingHttpHeaders, response: ServerResponse): void;
  /** Answers a preflight (OPTIONS) request. */
  preflight(request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

const ALLOWED_HEADERS = 'authorization, content-type, inference-header-content-length';
const EXPOSED_HEADERS = 'inference-header-content-length, x-rwseg-classes, retry-after';

/** Parses `--cors-origin`: '*' or a comma-separated list of origins such as https://viewer.example.org. */
export function parseCorsOrigins(text: string): string[] {
  const origins = text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o))
      throw new Error(`invalid --cors-origin '${o}': give '*' or origins like https://host:port, comma-separated`);
  }
  if (origins.length === 0)
    throw new Error(`invalid --cors-origin '${text}': give '*' or a comma-separated list of origins`);
  return origins;
}

export function corsPolicy(origins: readonly string[]): CorsPolicy {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  const allow = (headers: IncomingHttpHeaders, response: ServerResponse): boolean => {
    const origin = headers.origin;
    response.setHeader('vary', 'Origin');
    if (typeof origin !== 'string' || !(any || allowed.has(origin.toLowerCase()))) return false;
    response.setHeader('access-control-allow-origin', any ? '*' : origin);
    return true;
  };
  return {
    decorate(headers, response) {
      if (allow(headers, response)) response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    },
    preflight(request, reply) {
      if (allow(request.headers, reply.raw)) {
        reply.header('access-control-allow-methods', 'GET, POST');
        reply.header('access-control-allow-headers', ALLOWED_HEADERS);
        reply.header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    },
  };
}
