/**
 * The served models: one onnxruntime session per model version, loaded lazily on first use or eagerly at
 * start, each behind its own dynamic batcher.
 */
import * as ort from 'onnxruntime-node';
import { isRwsegError, RwsegError } from '@rwseg/core';
import { DynamicBatcher, type HostTensor, type TensorMap } from './batcher.js';
import { v2FromOrt } from './datatypes.js';
import { HttpError, notFound } from './http-error.js';
import type { ServerLog } from './log.js';
import { isSafeName } from './model-name.js';
import { modelPath, scanRepository, type RepositoryModel } from './model-repository.js';
import { createSessionWithFallback, type ProviderAttempt } from './providers.js';

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
  maxBatchSize: number;
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
    return { name: m.name, datatype: v2FromOrt(m.type) ?? m.type.toUpperCase(), shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
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

  /** Rows one session.run may take: the server's limit, capped by config.pbtxt's max_batch_size. */
  get maxBatchSize(): number {
    const fromConfig = this.model.config.maxBatchSize;
    return Math.max(1, fromConfig && fromConfig > 0 ? Math.min(fromConfig, this.options.maxBatchSize) : this.options.maxBatchSize);
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
      const { session, provider, failed } = await createSessionWithFallback(modelPath(this.model, this.version), this.options.providers, {
        strict: this.options.strictProvider,
        log: this.options.log,
        label: this.label,
        sessionOptions: this.options.sessionOptions,
      });
      this.session = session;
      this.provider = provider;
      this.failedProviders = failed;
      this.inputs = specsFrom(session.inputMetadata);
      this.outputs = specsFrom(session.outputMetadata);
      // Merge requests only when every input's first axis is the (dynamic) batch axis.
      const batchable = this.model.config.maxBatchSize !== 0 && this.inputs.every((i) => i.shape.length > 0 && i.shape[0] === -1);
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
      this.options.log.info({ model: this.model.name, version: this.version, provider, batchable, inputs: this.inputs, outputs: this.outputs }, `loaded ${this.label} on ${provider}`);
    } catch (error) {
      this.state = 'failed';
      this.error = (error as Error).message;
      this.loading = undefined;
      this.options.log.error({ model: this.model.name, version: this.version, err: this.error }, `could not load ${this.label}`);
      throw error;
    }
  }

  private async runSession(feeds: TensorMap, fetches: readonly string[]): Promise<TensorMap> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    this.runs++;
    const result = await this.session!.run(ortFeeds, fetches as string[]);
    const out: TensorMap = {};
    for (const name of fetches) {
      const t = result[name];
      out[name] = { type: t.type, dims: [...t.dims], data: t.data as HostTensor['data'] };
    }
    return out;
  }

  /** Runs one request through the batcher, loading the session first when it is lazy. */
  async infer(feeds: TensorMap, fetches: readonly string[], timeoutMs?: number): Promise<TensorMap> {
    await this.ensureReady();
    return this.batcher!.submit(feeds, fetches, timeoutMs);
  }

  async ensureReady(): Promise<void> {
    try {
      await this.load();
    } catch (error) {
      throw new HttpError(503, `model '${this.label}' is not available: ${isRwsegError(error) ? error.message : (error as Error).message}`);
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
    this.options.log.info({ repository: this.options.repository, models: [...this.models.keys()] }, `found ${this.models.size} model(s)`);
    if (this.options.eager) {
      for (const version of this.allVersions()) {
        try {
          await version.load();
        } catch (error) {
          if (this.options.strictProvider) throw error;
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
    if (!entry) throw notFound(`unknown model '${name.slice(0, 80)}'; models: ${this.names().join(', ') || '(none)'}`);
    const chosen = version ?? entry.model.versions[entry.model.versions.length - 1];
    const found = entry.versions.get(chosen);
    if (!found) throw notFound(`model '${name}' has no version '${chosen.slice(0, 40)}'; versions: ${entry.model.versions.join(', ')}`);
    return found;
  }

  /**
   * Ready when every eagerly loaded version loaded; lazy models count as ready until they fail. A model whose
   * folder is bad or incomplete is reported not ready on its own route and does not hold back the others.
   */
  ready(): boolean {
    return this.allVersions().filter((v) => !v.model.problem).every((v) => (this.options.eager ? v.state === 'ready' : v.state !== 'failed'));
  }

  async idle(): Promise<void> {
    await Promise.all(this.allVersions().map((v) => v.idle()));
  }

  async close(): Promise<void> {
    await Promise.all(this.allVersions().map((v) => v.close()));
  }
}
