/**
 * The served models: one onnxruntime session per model version, loaded lazily on first use or eagerly at
 * start, each behind its own dynamic batcher.
 */
import * as ort from 'onnxruntime-node';
import { isRwsegError, RwsegError } from '@rwseg/core';
import { DynamicBatcher, QueueTimeoutError, RunTimeoutError, type HostTensor, type TensorMap } from './batcher.js';
import { v2FromOrt } from './datatypes.js';
import { clip, HttpError, notFound } from './http-error.js';
import type { ServerLog } from './log.js';
import { isSafeName } from './model-name.js';
import { modelPath, scanRepository, type RepositoryModel } from './model-repository.js';
import { createSessionWithFallback, type ProviderAttempt } from './providers.js';
import { currentRequest, type RequestContext } from './request-context.js';
import { checkSizeGrid, sizeGridOf } from './size-grid.js';

export interface TensorSpec {
  name: string;
  datatype: string;
  /** -1 marks a dynamic axis, as the protocol's metadata does. */
  shape: number[];
}

export interface ModelStoreOptions {
  repository: string;
  providers: readonly string[];
  strictProvider: boolean;
  eager: boolean;
  /** Rows per session.run; undefined: the provider's default (defaultMaxBatchSize). */
  maxBatchSize?: number;
  maxQueueDelayMs: number;
  maxQueue: number;
  log: ServerLog;
  onBatch?: (model: string, requests: number, rows: number) => void;
  onQueueDepth?: (model: string, depth: number) => void;
  /** Test hook: onnxruntime session options (thread counts). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

type State = 'unloaded' | 'loading' | 'ready' | 'failed';

function specsFrom(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return metadata.map((m) => {
    if (!m.isTensor) return { name: m.name, datatype: 'UNKNOWN', shape: [] };
    return {
      name: m.name,
      datatype: v2FromOrt(m.type) ?? m.type.toUpperCase(),
      shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
    };
  });
}

/**
 * Rows per session.run when the server is given no limit. On the CPU provider a merged run costs as much or more
 * CPU per row than separate runs (a 256x256 U-Net in onnxruntime: 20 ms per row alone, 26.5 ms per row in runs of
 * 8; bench/server.mjs), so nothing is merged there; on GPU providers a larger batch costs little more than one row.
 */
export function defaultMaxBatchSize(provider: string | undefined): number {
  return provider === 'cpu' ? 1 : 8;
}

export class ModelVersion {
  state: State = 'unloaded';
  provider: string | undefined;
  failedProviders: ProviderAttempt[] = [];
  error: string | undefined;
  inputs: TensorSpec[] = [];
  outputs: TensorSpec[] = [];
  /** session.run calls so far (tests assert batching through this and through the metric). */
  runs = 0;
  private session: ort.InferenceSession | undefined;
  private batcher: DynamicBatcher | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    readonly model: RepositoryModel,
    readonly version: string,
    private readonly options: ModelStoreOptions,
  ) {}

  get label(): string {
    return `${this.model.name}/${this.version}`;
  }

  get queueDepth(): number {
    return this.batcher?.depth ?? 0;
  }

  /**
   * Rows one session.run may take: the server's limit (else the provider's default), capped by config.pbtxt's
   * max_batch_size.
   */
  get maxBatchSize(): number {
    const fromConfig = this.model.config.maxBatchSize;
    const limit = this.options.maxBatchSize ?? defaultMaxBatchSize(this.provider);
    return Math.max(1, fromConfig && fromConfig > 0 ? Math.min(fromConfig, limit) : limit);
  }

  load(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    this.loading ??= this.doLoad();
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    this.state = 'loading';
    try {
      // A bad or incomplete model folder (model-repository.ts) never gets a session: it fails with the reason.
      if (this.model.problem) throw new RwsegError('INVALID_CONFIG', this.model.problem, { model: this.model.name });
      const { session, provider, failed } = await createSessionWithFallback(
        modelPath(this.model, this.version),
        this.options.providers,
        {
          strict: this.options.strictProvider,
          log: this.options.log,
          label: this.label,
          sessionOptions: this.options.sessionOptions,
        },
      );
      this.session = session;
      this.provider = provider;
      this.failedProviders = failed;
      this.inputs = specsFrom(session.inputMetadata);
      this.outputs = specsFrom(session.outputMetadata);
      // Merge requests only when every input's first axis is the (dynamic) batch axis.
      const batchable =
        this.model.config.maxBatchSize !== 0 && this.inputs.every((i) => i.shape.length > 0 && i.shape[0] === -1);
      const name = this.model.name;
      this.batcher = new DynamicBatcher((feeds, fetches) => this.runSession(feeds, fetches), {
        maxBatchSize: this.maxBatchSize,
        maxQueueDelayMs: this.options.maxQueueDelayMs,
        maxQueue: this.options.maxQueue,
        batchable,
        onBatch: (requests, rows) => this.options.onBatch?.(name, requests, rows),
        onQueueDepth: (depth) => this.options.onQueueDepth?.(name, depth),
      });
      this.state = 'ready';
      this.options.log.info(
        {
          model: this.model.name,
          version: this.version,
          provider,
          batchable,
          inputs: this.inputs,
          outputs: this.outputs,
        },
        `loaded ${this.label} on ${provider}`,
      );
    } catch (error) {
      this.state = 'failed';
      this.error = (error as Error).message;
      this.loading = undefined;
      this.options.log.error(
        { model: this.model.name, version: this.version, err: this.error },
        `could not load ${this.label}`,
      );
      throw error;
    }
  }

  private async runSession(feeds: TensorMap, fetches: readonly string[]): Promise<TensorMap> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds))
      ortFeeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    this.runs++;
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session!.run(ortFeeds, fetches as string[]);
    } catch (error) {
      throw this.runFailure(feeds, error as Error);
    }
    const out: TensorMap = {};
    for (const name of fetches) {
      const t = result[name];
      out[name] = { type: t.type, dims: [...t.dims], data: t.data as HostTensor['data'] };
    }
    return out;
  }

  /**
   * A failed run on a request that passed every check. With a dynamic non-batch axis the request's shape is the
   * likely cause (a size the graph cannot take), so it is the client's 400, naming the shape; otherwise a 500.
   */
  private runFailure(feeds: TensorMap, error: Error): Error {
    const dynamic = this.inputs.some((i) => i.shape.slice(1).includes(-1));
    const shapes = Object.entries(feeds)
      .map(([name, t]) => `'${name}' [${t.dims.join(',')}]`)
      .join(', ');
    const reason = clip(error.message.split('\n')[0], 300);
    this.options.log.warn({ model: this.label, shapes, err: reason }, `session.run failed for ${this.label}`);
    if (!dynamic) return error;
    return new HttpError(400, `model '${this.label}' cannot run on input ${shapes} (onnxruntime: ${reason})`);
  }

  /**
   * Runs one request through the batcher, loading the session first when it is lazy. Inside a server request it
   * takes the request's remaining time and its client-gone signal, so every route's work is bounded the same way.
   */
  async infer(
    feeds: TensorMap,
    fetches: readonly string[],
    timeoutMs?: number,
    request: RequestContext | undefined = currentRequest(),
  ): Promise<TensorMap> {
    // Loaded (every request after the first): no promise to wait on.
    if (this.state !== 'ready') await this.ensureReady();
    const grid = this.model.metadata.artifact?.sizeGrid;
    for (const spec of this.inputs) {
      const t = feeds[spec.name];
      if (t) checkSizeGrid(this.label, spec, t.dims, sizeGridOf(grid, spec.shape.length));
    }
    let limit = timeoutMs !== undefined && timeoutMs > 0 ? timeoutMs : Infinity;
    if (request) {
      const left = request.deadline - performance.now();
      if (left <= 0) throw this.deadlineError(request.workStarted, request.timeoutMs);
      limit = Math.min(limit, left);
    }
    try {
      return await this.batcher!.submit(feeds, fetches, {
        timeoutMs: limit,
        signal: request?.signal,
        onStart: request ? () => (request.workStarted = true) : undefined,
      });
    } catch (error) {
      // A request whose earlier windows already ran is past the point of a cheap retry elsewhere: 504, not 503.
      const timedOut = error instanceof QueueTimeoutError || error instanceof RunTimeoutError;
      if (request && timedOut) throw this.deadlineError(request.workStarted, request.timeoutMs);
      throw error;
    }
  }

  private deadlineError(started: boolean, timeoutMs: number): Error {
    return started
      ? new RunTimeoutError(`the request did not finish within its ${timeoutMs} ms deadline (--timeout-ms)`)
      : new QueueTimeoutError(
          `the request's ${timeoutMs} ms deadline (--timeout-ms) passed before its inference started`,
        );
  }

  async ensureReady(): Promise<void> {
    try {
      await this.load();
    } catch (error) {
      throw new HttpError(
        503,
        `model '${this.label}' is not available: ${isRwsegError(error) ? error.message : (error as Error).message}`,
      );
    }
  }

  async close(): Promise<void> {
    await this.batcher?.idle();
    await this.session?.release();
    this.session = undefined;
    this.state = 'unloaded';
    this.loading = undefined;
  }

  idle(): Promise<void> {
    return this.batcher?.idle() ?? Promise.resolve();
  }
}

export class ModelStore {
  private readonly models = new Map<string, { model: RepositoryModel; versions: Map<string, ModelVersion> }>();

  constructor(private readonly options: ModelStoreOptions) {}

  /** Scans the repository; with `eager`, loads every version (a strict provider failure rejects). */
  async init(): Promise<void> {
    for (const model of scanRepository(this.options.repository)) {
      const versions = new Map(model.versions.map((v) => [v, new ModelVersion(model, v, this.options)]));
      this.models.set(model.name, { model, versions });
    }
    this.options.log.info(
      { repository: this.options.repository, models: [...this.models.keys()] },
      `found ${this.models.size} model(s)`,
    );
    if (this.options.eager) {
      for (const version of this.allVersions()) {
        try {
          await version.load();
        } catch (error) {
          // A bad model folder stays that model's problem (not ready, with the reason), even with --strict-provider.
          if (this.options.strictProvider && !version.model.problem) throw error;
        }
      }
    }
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  allVersions(): ModelVersion[] {
    return [...this.models.values()].flatMap((m) => [...m.versions.values()]);
  }

  /** Finds a model version; with no version, the highest. Unknown or unsafe names are 404s. */
  get(name: string, version?: string): ModelVersion {
    const entry = isSafeName(name) ? this.models.get(name) : undefined;
    if (!entry) {
      const known = clip(this.names().join(', '), 300) || '(none)';
      throw notFound(`unknown model '${clip(name)}'; models: ${known}`);
    }
    const chosen = version ?? entry.model.versions[entry.model.versions.length - 1];
    const found = entry.versions.get(chosen);
    if (found) return found;
    const versions = clip(entry.model.versions.join(', '), 200);
    throw notFound(`model '${name}' has no version '${clip(chosen, 40)}'; versions: ${versions}`);
  }

  /**
   * Ready when every eagerly loaded version loaded; lazy models count as ready until they fail. A model whose
   * folder is bad or incomplete is reported not ready on its own route and does not hold back the others.
   */
  ready(): boolean {
    return this.allVersions()
      .filter((v) => !v.model.problem)
      .every((v) => (this.options.eager ? v.state === 'ready' : v.state !== 'failed'));
  }

  async idle(): Promise<void> {
    await Promise.all(this.allVersions().map((v) => v.idle()));
  }

  async close(): Promise<void> {
    await Promise.all(this.allVersions().map((v) => v.close()));
  }
}
