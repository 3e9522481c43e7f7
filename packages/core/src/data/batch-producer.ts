/**
 * Makes batch number i of a loader's stream. Everything random about sample s of batch i derives from
 * (seed, i * batchSize + s), so a batch is the same bytes whichever worker makes it and however many there are.
 * Runs inside each worker thread (and in the main thread when the loader has no workers).
 */
import { RwsegError, isRwsegError } from '../errors.js';
import type { PluginSpec } from '../plugins/config.js';
import type { BoundMapGenerator } from '../plugins/registry.js';
import { resolveAugment, type AugmentOptions } from './augment.js';
import type { Batch } from './batch.js';
import { buildBatch } from './batch-builder.js';
import { loadCase, type CaseRef, type DatasetInfo } from './dataset.js';
import { preprocessCase, type PreprocessOptions } from './preprocess.js';
import { createRandom } from './random.js';
import { drawSample, prepareCase, type PreparedCase, type SampleOptions } from './sampler.js';

/** Where workers load map plugins from: what createRegistry takes, restricted to what can cross a thread. */
export interface LoaderRegistryOptions {
  plugins?: readonly (string | PluginSpec)[];
  baseDir?: string;
  builtins?: boolean;
  packageJson?: boolean;
}

/** Everything a producer needs; plain data so it can be sent to a worker. */
export interface ProducerConfig {
  dataset: DatasetInfo;
  cases: readonly CaseRef[];
  patchShape: readonly number[];
  batchSize: number;
  seed: number;
  sliceAxis: number;
  foregroundFraction: number;
  preprocess: PreprocessOptions;
  augment: AugmentOptions | false;
  maps: readonly { map: string; options: Readonly<Record<string, unknown>> }[];
  scales: number;
  registry: LoaderRegistryOptions;
  /** Bytes of preprocessed cases kept in memory per producer (least recently used go first). */
  cacheBytes: number;
}

/** Prefixes the case to an error that does not name it yet, keeping its code. */
export function caseError(error: unknown, caseId: string): RwsegError {
  const message = (error as Error)?.message ?? String(error);
  const text = message.includes(caseId) ? message : `case ${caseId}: ${message}`;
  return new RwsegError(
    isRwsegError(error) ? error.code : 'IO_ERROR',
    text,
    { ...(isRwsegError(error) ? error.details : {}), caseId },
    { cause: error },
  );
}

export class BatchProducer {
  private readonly cache = new Map<string, { bytes: number; prepared: Promise<PreparedCase> }>();
  private cachedBytes = 0;
  private readonly sampleOptions: SampleOptions;

  private constructor(
    private readonly config: ProducerConfig,
    private readonly maps: BoundMapGenerator[],
  ) {
    this.sampleOptions = {
      patchShape: config.patchShape,
      sliceAxis: config.sliceAxis,
      augment: resolveAugment(config.augment, config.patchShape.length),
    };
  }

  static async create(config: ProducerConfig): Promise<BatchProducer> {
    let maps: BoundMapGenerator[] = [];
    if (config.maps.length > 0) {
      // Loaded only when maps are asked for: the registry pulls in the plugins (and TF.js through them).
      const { createRegistry } = await import('../services/container.js');
      const registry = await createRegistry({ ...config.registry });
      maps = config.maps.map((m) => registry.createMapGenerator(m.map, { ...m.options }));
    }
    return new BatchProducer(config, maps);
  }

  private prepared(ref: CaseRef): Promise<PreparedCase> {
    const hit = this.cache.get(ref.id);
    if (hit) {
      this.cache.delete(ref.id);
      this.cache.set(ref.id, hit);
      return hit.prepared;
    }
    const entry = { bytes: 0, prepared: Promise.resolve(undefined as unknown as PreparedCase) };
    entry.prepared = loadCase(this.config.dataset, ref).then((c) => {
      const prepared = prepareCase(
        preprocessCase(c, this.config.preprocess),
        this.config.dataset.numClasses,
        createRandom(this.config.seed, 'prepare', ref.id),
      );
      entry.bytes = prepared.case.image.data.byteLength + (prepared.case.label?.data.byteLength ?? 0);
      this.cachedBytes += entry.bytes;
      this.evict(ref.id);
      return prepared;
    });
    // A failed read is not cached: the next attempt reads the file again.
    entry.prepared.catch(() => this.cache.delete(ref.id));
    this.cache.set(ref.id, entry);
    return entry.prepared;
  }

  private evict(keep: string): void {
    for (const [id, entry] of this.cache) {
      if (this.cachedBytes <= this.config.cacheBytes) return;
      if (id === keep || entry.bytes === 0) continue;
      this.cache.delete(id);
      this.cachedBytes -= entry.bytes;
    }
  }

  /** Batch number `index` of the stream. */
  async produce(index: number): Promise<Batch> {
    const { batchSize: B, cases, seed, foregroundFraction } = this.config;
    const samples = [];
    for (let s = 0; s < B; s++) {
      const rng = createRandom(seed, 'sample', index * B + s);
      const ref = cases[rng.int(cases.length)]!;
      try {
        const prepared = await this.prepared(ref);
        // nnU-Net: the last round(B * fraction) samples of every batch are forced onto foreground.
        const foreground = s >= Math.round(B * (1 - foregroundFraction));
        samples.push(drawSample(prepared, this.sampleOptions, rng, foreground));
      } catch (error) {
        throw caseError(error, ref.id);
      }
    }
    const channels = samples[0]!.image.length / samples[0]!.labels.length;
    const odd = samples.find((x) => x.image.length / x.labels.length !== channels);
    if (odd)
      throw new RwsegError(
        'INVALID_INPUT',
        `case ${odd.caseId} has ${odd.image.length / odd.labels.length} image channels but case ${samples[0]!.caseId} has ${channels}`,
        { caseId: odd.caseId },
      );
    return buildBatch(samples, {
      numClasses: this.config.dataset.numClasses,
      channels,
      patchShape: this.config.patchShape,
      maps: this.maps,
      scales: this.config.scales,
    });
  }
}
