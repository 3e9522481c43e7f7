/**
 * The rwseg inference server: the Open Inference Protocol REST API (KServe V2 / Triton HTTP) with Triton's
 * binary tensor data extension, a segmentation route for PNG/NIfTI images, Prometheus metrics, bearer-token
 * auth and graceful shutdown, over a Triton-layout model repository served by onnxruntime-node.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isRwsegError, RWSEG_VERSION } from '@rwseg/core';
import { TokenChecker } from './auth.js';
import { QueueFullError, QueueTimeoutError, RunTimeoutError } from './batcher.js';
import { HttpError } from './http-error.js';
import { decodeRequest, encodeResponse, splitBody } from './inference-codec.js';
import type { ServerLog } from './log.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { ModelStore, type ModelVersion } from './models.js';
import { defaultProviders } from './providers.js';
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
  /** Rows merged into one session.run at most (capped by config.pbtxt's max_batch_size). */
  maxBatchSize?: number;
  /** How long the oldest queued request waits for others to merge with (default 0: merge only what is queued). */
  maxQueueDelayMs?: number;
  /** Requests waiting per model before new ones get 503 + Retry-After. */
  maxQueue?: number;
  /** Largest request body in bytes (413 beyond it). */
  bodyLimit?: number;
  /** Longest a request may take, queueing included (503 when it never started, 504 when it overran). */
  requestTimeoutMs?: number;
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
  /** Stops accepting, lets in-flight requests finish, then releases the sessions. */
  close(): Promise<void>;
}

const PUBLIC_ROUTES = new Set(['/v2/health/live', '/v2/health/ready']);

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function createServer(options: ServerOptions): Promise<RwsegServer> {
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    bodyLimit,
    logger: {
      level: options.logLevel ?? 'info',
      // Tokens must never reach a log line, whatever a serializer or a handler adds.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    } as never,
    // Slow clients that never finish sending get 408 rather than holding a socket forever.
    requestTimeout: requestTimeoutMs > 0 ? requestTimeoutMs + 5_000 : 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const log = app.log as unknown as ServerLog;
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics });
  let providers = options.providers;
  if (!providers) {
    const chosen = await defaultProviders();
    if (chosen.skippedWebGpu) log.info({ reason: chosen.skippedWebGpu }, `execution provider 'webgpu' left out of the default order: ${chosen.skippedWebGpu}`);
    providers = chosen.providers;
  }
  const store = new ModelStore({
    repository: options.models,
    providers,
    strictProvider: options.strictProvider ?? false,
    eager: options.eager ?? false,
    maxBatchSize: options.maxBatchSize ?? 8,
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
  let draining = false;

  // Every body arrives as bytes: inference bodies may carry binary tensors after the JSON, segment bodies are images.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    metrics.inFlight.inc();
    if (!tokens || PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    if (!tokens.check(headerValue(request.headers.authorization))) {
      reply.header('WWW-Authenticate', 'Bearer realm="rwseg"');
      throw new HttpError(401, request.headers.authorization ? 'invalid bearer token' : 'missing bearer token (send Authorization: Bearer <token>)');
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.inFlight.dec();
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    // While draining, answers close their connection, so keep-alive clients cannot hold the shutdown open.
    if (draining) reply.header('connection', 'close');
    return payload;
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    let status = 500;
    let message = error.message;
    if (error instanceof HttpError) {
      status = error.statusCode;
      reply.headers(error.headers);
    } else if (error instanceof QueueFullError) {
      status = 503;
      reply.header('Retry-After', '1');
    } else if (error instanceof QueueTimeoutError) {
      status = 503;
      reply.header('Retry-After', '1');
    } else if (error instanceof RunTimeoutError) {
      status = 504;
    } else if (isRwsegError(error)) {
      status = error.code === 'BACKEND_ERROR' ? 503 : 400;
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 600) {
      status = error.statusCode;
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `request body larger than the ${bodyLimit}-byte limit (--body-limit)`;
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ status, reason: message }, 'request rejected');
    reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  // Health (Kubernetes probes): 200 means true, 4xx false, as the protocol says.
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    const ready = !draining && store.ready();
    return reply.code(ready ? 200 : 400).send({ ready });
  });
  app.get('/v2', async () => ({ name: 'rwseg', version: RWSEG_VERSION, extensions: ['binary_tensor_data', 'rwseg_segment'] }));

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
  const infer = async (request: FastifyRequest, reply: FastifyReply) => {
    const mv = modelOf(request);
    await mv.ensureReady();
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (body.length === 0) throw new HttpError(400, 'empty request body: send an $inference_request JSON object');
    const { json, binary } = splitBody(body, headerValue(request.headers['inference-header-content-length']));
    const decoded = decodeRequest(json, binary, mv.inputs, mv.outputs);
    const results = await mv.infer(decoded.feeds, decoded.outputs.map((o) => o.name), requestTimeoutMs);
    const encoded = encodeResponse(mv.model.name, mv.version, decoded, results);
    if (encoded.headerLength !== undefined) {
      reply.header('Inference-Header-Content-Length', String(encoded.headerLength));
      reply.type('application/octet-stream');
    }
    return reply.send(encoded.body);
  };

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, modelMetadata);
    app.get(`${prefix}/ready`, modelReady);
    app.post(`${prefix}/infer`, infer);
  }
  registerSegmentRoutes(app, store, { ...options.segment, requestTimeoutMs });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    metrics,
    providers,
    async listen() {
      return app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8000 });
    },
    close() {
      closing ??= (async () => {
        draining = true;
        // fastify stops accepting, answers 503 to new requests on open sockets, and waits for in-flight ones.
        await app.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** Lists every model version with its load state and provider (for the CLI's start-up report). */
export function describeModels(store: ModelStore): { name: string; version: string; state: string; provider?: string }[] {
  return store.allVersions().map((v: ModelVersion) => ({ name: v.model.name, version: v.version, state: v.state, provider: v.provider }));
}
