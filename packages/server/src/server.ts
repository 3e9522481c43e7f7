/**
 * The rwseg inference server: the Open Inference Protocol REST API (KServe V2 / Triton HTTP) with Triton's
 * binary tensor data extension, a segmentation route for PNG/NIfTI images, Prometheus metrics, bearer-token
 * auth and graceful shutdown, over a Triton-layout model repository served by onnxruntime-node.
 */
import type { IncomingMessage, OutgoingHttpHeaders, RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RWSEG_VERSION } from '@rwseg/core';
import { TokenChecker } from './auth.js';
import { readBody } from './body-reader.js';
import { corsPolicy } from './cors.js';
import { errorAnswer, logErrorAnswer } from './error-answer.js';
import { clip } from './http-error.js';
import {
  answerInfer,
  encodedHeaders,
  inferContentTypeRefusal,
  INFER_ROUTE,
  LeanInferRoute,
  matchInferPath,
  VERSION_INFER_ROUTE,
  writeAnswer,
} from './infer-route.js';
import type { ServerLog } from './log.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { ModelStore, type ModelVersion } from './models.js';
import { defaultProviders } from './providers.js';
import { DEFAULT_MAX_VOXELS, runInRequest, type RequestLimits } from './request-context.js';
import { RequestGate } from './request-gate.js';
import { RequestTracker } from './request-tracker.js';
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

/**
 * Longest URL path segment the router takes. Larger than any valid model name, so every name reaches the one
 * rule in model-name.ts (names that are fine on disk are fine on the route); beyond it, 414.
 */
const MAX_PARAM_LENGTH = 1024;

/** fastify's request ids ('req-1', 'req-2', ...), one sequence for its routes and the lean infer route. */
function requestIds(): () => string {
  let next = 0;
  return () => {
    next = (next + 1) & 0x7fffffff;
    return `req-${next.toString(36)}`;
  };
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
  const genReqId = requestIds();
  const app = Fastify({
    genReqId,
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
  const gate = new RequestGate(tokens, cors);
  const tracker = new RequestTracker(metrics, limits, requestTimeoutMs);
  const routes = new RouteTable(app);

  // Route handlers registered elsewhere (the segment routes) run inside their request's context, so deadlines,
  // cancellation and size caps reach the model store and the image decoder without being passed along. This
  // file's own routes pass the context explicitly: AsyncLocalStorage on Node 20 makes every promise in the
  // process pay for async hooks from its first use (about 7% of the CPU of a small binary infer request).
  app.addHook('onRoute', (route) => {
    if ((route.config as { explicitContext?: boolean } | undefined)?.explicitContext) return;
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const context = tracker.of(reply.raw);
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
    const route = request.routeOptions.url;
    tracker.open(reply.raw, route, request.method, request.url, request.log as unknown as ServerLog);
    done(gate.refuse(route, request.method, request.headers, reply.raw));
  });
  app.addHook('preParsing', (request, reply, payload, done) => {
    const state = tracker.of(reply.raw);
    if (state) tracker.startBodyDeadline(state, request.raw, reply.raw);
    done(null, payload);
  });
  app.addHook('preValidation', (_request, reply, done) => {
    const state = tracker.of(reply.raw);
    if (state) tracker.endBodyDeadline(state);
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, answers close their connection, so keep-alive clients cannot hold the shutdown open.
    if (gate.draining) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error: Error, request, reply) => {
    const answer = errorAnswer(error, bodyLimit);
    logErrorAnswer(request.log as unknown as ServerLog, answer, error);
    reply.headers(answer.headers);
    reply.code(answer.status).send({ error: answer.message });
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
    if (gate.draining) return reply.code(503).send({ ready: false });
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
  const inferContentType = async (request: FastifyRequest) => {
    const refusal = inferContentTypeRefusal(request.headers);
    if (refusal) throw refusal;
  };
  // Infer through fastify: what the lean route (below) leaves to fastify's router, and app.inject().
  const infer = async (request: FastifyRequest, reply: FastifyReply) => {
    const mv = modelOf(request);
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const encoded = await answerInfer(mv, body, request.headers, tracker.of(reply.raw), limits.maxVoxels);
    // fastify's onResponse hooks and the request log still run; onSend's work (draining) is writeAnswer's.
    reply.hijack();
    writeAnswer(
      reply.raw,
      200,
      encodedHeaders(encoded, reply.getHeaders() as OutgoingHttpHeaders),
      encoded.body,
      gate.draining,
    );
  };

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, own, modelMetadata);
    app.get(`${prefix}/ready`, own, modelReady);
  }
  for (const route of [INFER_ROUTE, VERSION_INFER_ROUTE])
    app.post(route, { ...own, onRequest: inferContentType }, infer);
  registerSegmentRoutes(app, store, { ...options.segment, requestTimeoutMs });

  app.get('/metrics', own, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // The lean infer route runs from node's 'request' listener, ahead of fastify's, for the URLs it takes as plain.
  const lean = new LeanInferRoute({
    store,
    gate,
    tracker,
    log,
    bodyLimit,
    maxElements: limits.maxVoxels,
    requestLog: {
      forRequest(request) {
        if (!(app.log as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('info'))
          return undefined;
        const child = app.log.child({ reqId: genReqId() });
        const ip = request.socket.remoteAddress;
        // The logger's req serializer (above) writes these as it writes fastify's request.
        const req = {
          method: request.method,
          url: request.url,
          host: request.headers.host,
          ip,
          socket: request.socket,
        };
        child.info({ req }, 'incoming request');
        return child as unknown as ServerLog;
      },
    },
  });
  const fastifyListener = app.server.listeners('request')[0] as RequestListener;
  app.server.removeListener('request', fastifyListener);
  app.server.on('request', (request: IncomingMessage, response) => {
    const path = request.method === 'POST' && request.url ? matchInferPath(request.url) : undefined;
    if (path) lean.handle(request, response, path);
    else fastifyListener(request, response);
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
        gate.draining = true;
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
