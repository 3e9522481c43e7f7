/**
 * The rwseg inference server: the Open Inference Protocol REST API (KServe V2 / Triton HTTP) with Triton's
 * binary tensor data extension, a segmentation route for PNG/NIfTI images, Prometheus metrics, bearer-token
 * auth and graceful shutdown, over a Triton-layout model repository served by onnxruntime-node.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isRwsegError, RWSEG_VERSION } from '@rwseg/core';
import { TokenChecker } from './auth.js';
import { QueueFullError, QueueTimeoutError, RunTimeoutError } from './batcher.js';
import { BODY_TOO_LARGE, readBody } from './body-reader.js';
import { corsPolicy } from './cors.js';
import { clip, HttpError, MAX_ERROR_LENGTH } from './http-error.js';
import { decodeRequest, encodeResponse, splitBody } from './inference-codec.js';
import type { ServerLog } from './log.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { ModelStore, type ModelVersion } from './models.js';
import { defaultProviders } from './providers.js';
import { ClientGoneError, DEFAULT_MAX_VOXELS, runInRequest } from './request-context.js';
import type { RequestContext, RequestLimits } from './request-context.js';
import { RouteTable } from './route-table.js';
import { registerSegmentRoutes, type SegmentOptions } from './segment-route.js';

export interface ServerOptions {
  /** The model repository folder. */
  models: string;
  host?: string;
  port?: number;
  /** Execution providers, tried one at a time in order. */
  providers?: readonly string[];
  /** Fail instead of falling back when a provider cannot load a model. */
  strictProvider?: boolean;
  /** Load every model version at start instead of on first use. */
  eager?: boolean;
  /**
   * Rows merged into one session.run at most (capped by config.pbtxt's max_batch_size). Default: 1 on the CPU
   * provider (merging costs CPU there), 8 on the others.
   */
  maxBatchSize?: number;
  /** How long the oldest queued request waits for others to merge with (default 0: merge only what is queued). */
  maxQueueDelayMs?: number;
  /** Requests waiting per model before new ones get 503 + Retry-After. */
  maxQueue?: number;
  /** Largest request body in bytes (413 beyond it). */
  bodyLimit?: number;
  /**
   * One deadline for the whole request, from when its headers are read: a body still arriving then is 408,
   * inference that never started 503, inference that started 504 (both with Retry-After). 0: none.
   */
  requestTimeoutMs?: number;
  /** Most voxels a decoded /segment image, or elements an infer input tensor, may have (413 beyond). */
  maxVoxels?: number;
  /**
   * On close (SIGTERM), how long the listener stays open answering 503 + Connection: close to new requests while
   * readiness is 503, so a load balancer sees the replica leave before its connections are refused (default 5000).
   */
  drainMs?: number;
  /** Origins allowed cross-origin access ('*' for any); CORS is off without it. */
  corsOrigins?: readonly string[];
  /** Bearer tokens; auth is on when non-empty. Health routes stay open for probes. */
  tokens?: readonly string[];
  /** fastify/pino logger settings: false for silence, or a level. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logStream?: NodeJS.WritableStream;
  segment?: SegmentOptions;
  /** onnxruntime intra-op threads per session (0: onnxruntime's choice, one per core). */
  threads?: number;
  /**
   * Let onnxruntime's idle worker threads spin-wait for the next run (its default). Off by default here: spinning
   * threads take the cores the HTTP event loop and the clients need, which costs more than the wake-up saves.
   */
  spinning?: boolean;
  /** Node's default process metrics at /metrics (on by default). */
  defaultMetrics?: boolean;
}

export interface RwsegServer {
  app: FastifyInstance;
  store: ModelStore;
  metrics: ServerMetrics;
  /** The execution providers tried for each model, in order. */
  providers: readonly string[];
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: readiness 503 and new requests 503 for the drain period, then the listener closes, every
   * request already received is answered, keep-alive connections close after their response, sessions are
   * released. `drainMs` overrides the server's drain period; a second call with 0 cuts a running drain short.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

const PUBLIC_ROUTES = new Set(['/v2/health/live', '/v2/health/ready']);
/** Routes that still answer normally while draining: probes, and metrics so the drain itself can be watched. */
const DRAIN_OPEN_ROUTES = new Set([...PUBLIC_ROUTES, '/metrics']);
/**
 * Longest URL path segment the router takes. Larger than any valid model name, so every name reaches the one
 * rule in model-name.ts (names that are fine on disk are fine on the route); beyond it, 414.
 */
const MAX_PARAM_LENGTH = 1024;
const INFER_CONTENT_TYPES = new Set(['application/json', 'application/octet-stream']);

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The answer fastify would otherwise write itself for a malformed request, in this server's {"error"} form. */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request did not arrive in time (--timeout-ms)']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts']
        : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: message });
  if (socket.writable) {
    const head = `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`;
    socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

export async function createServer(options: ServerOptions): Promise<RwsegServer> {
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const drainMs = options.drainMs ?? 5_000;
  const limits: RequestLimits = { maxVoxels: options.maxVoxels ?? DEFAULT_MAX_VOXELS };
  const app = Fastify({
    bodyLimit,
    logger: {
      level: options.logLevel ?? 'info',
      // Tokens must never reach a log line, whatever a serializer or a handler adds.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
      // fastify's request fields, with the URL clipped: a 16 KB URL must not make a 16 KB log line.
      serializers: {
        req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: req.method,
          url: clip(req.url, 300),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    } as never,
    // Node's own per-request timer, a backstop behind the server's deadline (which answers first, in {"error"}).
    requestTimeout: requestTimeoutMs > 0 ? requestTimeoutMs + 5_000 : 0,
    // Draining is the server's own (below): fastify's would refuse new requests only once the listener closed.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler,
    frameworkErrors: (error, _request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const message = tooLong
        ? `a path segment is longer than ${MAX_PARAM_LENGTH} characters (model names and versions have at most 200)`
        : 'the URL is not valid (malformed percent-encoding)';
      (reply as FastifyReply).code(tooLong ? 414 : 400).send({ error: message });
    },
  });
  const log = app.log as unknown as ServerLog;
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics });
  let providers = options.providers;
  if (!providers) {
    const chosen = await defaultProviders();
    if (chosen.skippedWebGpu)
      log.info(
        { reason: chosen.skippedWebGpu },
        `execution provider 'webgpu' left out of the default order: ${chosen.skippedWebGpu}`,
      );
    providers = chosen.providers;
  }
  const store = new ModelStore({
    repository: options.models,
    providers,
    strictProvider: options.strictProvider ?? false,
    eager: options.eager ?? false,
    maxBatchSize: options.maxBatchSize,
    maxQueueDelayMs: options.maxQueueDelayMs ?? 0,
    maxQueue: options.maxQueue ?? 256,
    log,
    onBatch: (model, requests, rows) => {
      metrics.batchRequests.observe({ model }, requests);
      metrics.batchSize.observe({ model }, rows);
    },
    onQueueDepth: (model, depth) => metrics.queueDepth.set({ model }, depth),
    sessionOptions: {
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
    },
  });
  await store.init();
  const tokens = options.tokens && options.tokens.length > 0 ? new TokenChecker(options.tokens) : undefined;
  const cors = options.corsOrigins && options.corsOrigins.length > 0 ? corsPolicy(options.corsOrigins) : undefined;
  const routes = new RouteTable(app);
  let draining = false;

  // Route handlers registered elsewhere (the segment routes) run inside their request's context, so deadlines,
  // cancellation and size caps reach the model store and the image decoder without being passed along. This
  // file's own routes pass the context explicitly: AsyncLocalStorage on Node 20 makes every promise in the
  // process pay for async hooks from its first use (about 7% of the CPU of a small binary infer request).
  const contexts = new WeakMap<FastifyRequest, RequestContext & { bodyPending: boolean; bodyTimer?: NodeJS.Timeout }>();
  app.addHook('onRoute', (route) => {
    if ((route.config as { explicitContext?: boolean } | undefined)?.explicitContext) return;
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const context = contexts.get(request);
      if (!context) return handler.call(this, request, reply);
      return runInRequest(context, () => handler.call(this, request, reply));
    } as typeof handler;
  });

  // Every body arrives as bytes, read once into one pre-sized Buffer: inference bodies may carry binary tensors
  // after the JSON (placed so onnxruntime can take a view on them), segment bodies are images.
  app.removeAllContentTypeParsers();
  type BodyDone = (error: Error | null, body?: Buffer) => void;
  app.addContentTypeParser('*', (request: FastifyRequest, payload: IncomingMessage, done: BodyDone) =>
    readBody(request.raw, payload, bodyLimit, done),
  );

  // Hooks are callback-style: no promise per hook per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    const controller = new AbortController();
    const started = performance.now();
    const context = {
      deadline: requestTimeoutMs > 0 ? started + requestTimeoutMs : Infinity,
      timeoutMs: requestTimeoutMs,
      signal: controller.signal,
      limits,
      workStarted: false,
      bodyPending: false,
      bodyTimer: undefined as NodeJS.Timeout | undefined,
    };
    contexts.set(request, context);
    metrics.inFlight.inc();
    // 'close' fires once per response, sent or not: the one place that counts every request, aborted ones too.
    reply.raw.once('close', () => {
      if (context.bodyTimer) clearTimeout(context.bodyTimer);
      metrics.inFlight.dec();
      // Answered once the whole response was handed to the socket (end() called), whether or not the client read it.
      const finished = reply.raw.writableEnded;
      const route = request.routeOptions.url ?? 'unmatched';
      // 499: nginx's code for a client that closed the connection before the answer.
      metrics.requests.inc({ route, method: request.method, status: finished ? String(reply.raw.statusCode) : '499' });
      metrics.latency.observe({ route, method: request.method }, (performance.now() - started) / 1000);
      if (!finished) {
        controller.abort(new ClientGoneError());
        request.log.info(
          { url: clip(request.url, 200), elapsedMs: Math.round(performance.now() - started) },
          'request aborted: the client closed the connection before the answer was sent',
        );
      }
    });
    const route = request.routeOptions.url;
    if (draining && !DRAIN_OPEN_ROUTES.has(route ?? '')) {
      reply.header('connection', 'close');
      return done(new HttpError(503, 'the server is shutting down; retry on another replica', { 'retry-after': '1' }));
    }
    if (cors) {
      cors.decorate(request, reply);
      // Preflights carry no credentials; they are answered by the not-found handler's route lookup.
      if (request.method === 'OPTIONS') return done();
    }
    const authorization = headerValue(request.headers.authorization);
    if (!tokens || PUBLIC_ROUTES.has(route ?? '') || tokens.check(authorization)) return done();
    reply.header('WWW-Authenticate', 'Bearer realm="rwseg"');
    const reason = authorization ? 'invalid bearer token' : 'missing bearer token (send Authorization: Bearer <token>)';
    done(new HttpError(401, reason));
  });
  app.addHook('preParsing', (request, reply, payload, done) => {
    const context = contexts.get(request);
    const { headers } = request;
    const hasBody = headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined;
    if (context && hasBody && Number.isFinite(context.deadline)) {
      context.bodyPending = true;
      // A body still trickling in at the deadline ends the request with 408 (answered, then the connection closes).
      context.bodyTimer = setTimeout(
        () => {
          if (!context.bodyPending || request.raw.listenerCount('error') === 0) return;
          reply.header('connection', 'close');
          const message = `the request body did not arrive within the ${requestTimeoutMs} ms deadline (--timeout-ms)`;
          request.raw.emit('error', new HttpError(408, message));
        },
        Math.max(0, context.deadline - performance.now()),
      );
    }
    done(null, payload);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const context = contexts.get(request);
    if (context?.bodyTimer) {
      context.bodyPending = false;
      clearTimeout(context.bodyTimer);
      context.bodyTimer = undefined;
    }
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, answers close their connection, so keep-alive clients cannot hold the shutdown open.
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    let status = 500;
    let message = error.message;
    if (error instanceof HttpError) {
      status = error.statusCode;
      reply.headers(error.headers);
    } else if (error instanceof QueueFullError || error instanceof QueueTimeoutError) {
      status = 503;
      reply.header('Retry-After', '1');
    } else if (error instanceof RunTimeoutError) {
      status = 504;
      reply.header('Retry-After', '1');
    } else if (error instanceof ClientGoneError) {
      // Nobody is listening; the close listener has counted and logged it.
      return reply.code(499).send({ error: message });
    } else if (isRwsegError(error)) {
      status = error.code === 'BACKEND_ERROR' ? 503 : 400;
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 600) {
      status = error.statusCode;
      if (error.code === BODY_TOO_LARGE)
        message = `request body larger than the ${bodyLimit}-byte limit (--body-limit)`;
    }
    message = clip(message, MAX_ERROR_LENGTH);
    if (status === 500) request.log.error({ err: error }, 'request failed');
    else if (status >= 500) request.log.warn({ status, reason: message }, 'request refused');
    else request.log.info({ status, reason: message }, 'request rejected');
    reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const methods = routes.methodsFor(path);
    // A path some route has for this very method, but the router refused (such as '..'), is simply not found.
    if (methods.length === 0 || methods.includes(request.method)) {
      return reply.code(404).send({ error: `no route ${request.method} ${clip(path, 200)}` });
    }
    if (request.method === 'OPTIONS' && cors) return cors.preflight(request, reply);
    const allow = methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods;
    reply.header('allow', allow.join(', '));
    const message = `method ${request.method} is not allowed on ${clip(path, 200)}; use ${allow.join(', ')}`;
    return reply.code(405).send({ error: message });
  });

  // Health (Kubernetes probes): 200 means true, 4xx false, as the protocol says; 503 while draining.
  // This file's routes, which take their request context explicitly (see the onRoute hook).
  const own = { config: { explicitContext: true } };
  app.get('/v2/health/live', own, async () => ({ live: true }));
  app.get('/v2/health/ready', own, async (_request, reply) => {
    if (draining) return reply.code(503).send({ ready: false });
    const ready = store.ready();
    return reply.code(ready ? 200 : 400).send({ ready });
  });
  app.get('/v2', own, async () => ({
    name: 'rwseg',
    version: RWSEG_VERSION,
    extensions: ['binary_tensor_data', 'rwseg_segment'],
  }));

  type Params = { name: string; version?: string };
  const modelOf = (request: FastifyRequest) => {
    const { name, version } = request.params as Params;
    return store.get(name, version);
  };

  const modelMetadata = async (request: FastifyRequest) => {
    const mv = modelOf(request);
    await mv.ensureReady();
    return {
      name: mv.model.name,
      versions: mv.model.versions,
      platform: 'onnxruntime_onnx',
      inputs: mv.inputs,
      outputs: mv.outputs,
      // rwseg's own fields: where it runs and what the segment route does with it.
      rwseg: {
        version: mv.version,
        provider: mv.provider,
        failedProviders: mv.failedProviders,
        maxBatchSize: mv.maxBatchSize,
        classes: mv.model.metadata.classes,
        normalization: mv.model.metadata.normalization,
        patchSize: mv.model.metadata.patchSize,
        spacing: mv.model.metadata.spacing,
        rwsegVersion: mv.model.metadata.rwsegVersion,
        loss: mv.model.metadata.loss,
      },
    };
  };
  const modelReady = async (request: FastifyRequest, reply: FastifyReply) => {
    const mv = modelOf(request);
    let ready = true;
    try {
      await mv.load();
    } catch {
      ready = false;
    }
    // Not ready: say why (a bad or incomplete model folder, or a session that failed to load).
    return reply.code(ready ? 200 : 400).send({ name: mv.model.name, ready, ...(ready ? {} : { reason: mv.error }) });
  };
  // Only the protocol's two body types, so a cross-site form or text/plain POST cannot start inference. A request
  // with no Content-Type at all is taken: Triton's own Python client and tests send none.
  const inferContentType = async (request: FastifyRequest) => {
    const header = headerValue(request.headers['content-type']);
    if (header === undefined) return;
    const type = header.split(';')[0].trim().toLowerCase();
    if (!INFER_CONTENT_TYPES.has(type)) {
      throw new HttpError(
        415,
        `Content-Type '${clip(type, 60)}' is not accepted on infer: send application/json, ` +
          'or application/octet-stream with Inference-Header-Content-Length (binary tensor extension)',
      );
    }
  };
  const infer = async (request: FastifyRequest, reply: FastifyReply) => {
    const mv = modelOf(request);
    await mv.ensureReady();
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (body.length === 0) throw new HttpError(400, 'empty request body: send an $inference_request JSON object');
    const { json, binary } = splitBody(body, headerValue(request.headers['inference-header-content-length']));
    const decoded = decodeRequest(json, binary, mv.inputs, mv.outputs, { maxElements: limits.maxVoxels });
    const results = await mv.infer(
      decoded.feeds,
      decoded.outputs.map((o) => o.name),
      undefined,
      contexts.get(request),
    );
    const encoded = encodeResponse(mv.model.name, mv.version, decoded, results);
    if (encoded.headerLength !== undefined) {
      reply.header('Inference-Header-Content-Length', String(encoded.headerLength));
      reply.type('application/octet-stream');
    } else reply.type('application/json; charset=utf-8');
    if (!Array.isArray(encoded.body)) return reply.send(encoded.body);
    sendBuffers(reply, encoded.body);
    return reply;
  };
  /**
   * Writes an answer made of several buffers (the JSON text, then the output tensors' own bytes) without joining
   * them: the headers fastify would send, then every buffer, flushed together in one writev. fastify's onResponse
   * hooks and the request log still run; the onSend work (Connection: close while draining) is done here.
   */
  const sendBuffers = (reply: FastifyReply, buffers: Buffer[]) => {
    let length = 0;
    for (const b of buffers) length += b.length;
    if (draining) reply.header('connection', 'close');
    reply.header('content-length', String(length));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, reply.getHeaders() as Record<string, string>);
    res.cork();
    for (let i = 0; i < buffers.length - 1; i++) res.write(buffers[i]);
    // end() uncorks fully: status line, headers and every buffer leave in one write.
    res.end(buffers[buffers.length - 1]);
  };

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, own, modelMetadata);
    app.get(`${prefix}/ready`, own, modelReady);
    app.post(`${prefix}/infer`, { ...own, onRequest: inferContentType }, infer);
  }
  registerSegmentRoutes(app, store, { ...options.segment, requestTimeoutMs });

  app.get('/metrics', own, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  let closing: Promise<void> | undefined;
  let endDrain: (() => void) | undefined;
  return {
    app,
    store,
    metrics,
    providers,
    async listen() {
      return app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8000 });
    },
    close(closeOptions = {}) {
      const wait = closeOptions.drainMs ?? drainMs;
      if (closing) {
        if (wait === 0) endDrain?.();
        return closing;
      }
      closing = (async () => {
        draining = true;
        log.info({ drainMs: wait }, `draining for ${wait} ms: readiness and new requests answer 503`);
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            endDrain = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        // The listener closes and idle keep-alive connections with it; requests already received finish (their
        // answers carry Connection: close), then the sessions are released.
        await app.close();
        await store.close();
      })();
      return closing;
    },
  };
}

export interface ModelDescription {
  name: string;
  version: string;
  state: string;
  provider?: string;
  /** Why the version is not ready: a bad model folder, or the load failure. */
  reason?: string;
}

/** Lists every model version with its load state and provider (for the CLI's start-up report). */
export function describeModels(store: ModelStore): ModelDescription[] {
  return store.allVersions().map((v: ModelVersion) => {
    const reason = v.model.problem ?? (v.state === 'failed' ? v.error : undefined);
    return {
      name: v.model.name,
      version: v.version,
      state: v.state,
      provider: v.provider,
      ...(reason ? { reason } : {}),
    };
  });
}
