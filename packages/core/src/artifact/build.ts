/**
 * Builds the model artifact from what training knows: the resolved pipeline config, the dataset's description
 * (class names, label map), the model's interface and the metrics of the weights saved. The trainer's caller
 * (pipeline/run.ts) builds it once per run; old run folders are migrated through the same function (migrate.ts).
 */
import type { DatasetInfo } from '../data/dataset.js';
import type { ValidationResult } from '../training/validation.js';
import { RWSEG_VERSION } from '../version.js';
import type { ArtifactMetrics, ArtifactNormalization, ModelArtifact } from './schema.js';
import { MODEL_ARTIFACT_SCHEMA } from './schema.js';

/** The part of a resolved pipeline config the artifact records (PipelineConfig satisfies it). */
export interface ArtifactRunConfig {
  readonly seed?: number;
  readonly preprocessing: {
    readonly normalization: 'zscore' | 'percentile' | 'none';
    readonly patch: readonly number[];
    readonly sliceAxis?: number;
  };
  readonly model?: Readonly<Record<string, unknown>>;
  readonly loss?: unknown;
  readonly training?: { readonly epochs?: number };
  readonly dataset?: { readonly kind: string; readonly shape?: readonly number[] };
}

export interface ArtifactFacts {
  readonly config: ArtifactRunConfig;
  /** Spatial dimensions of the training cases (3 with a 2D patch: slice-wise training). */
  readonly dataDims: number;
  readonly inputChannels: number;
  readonly classNames: readonly string[];
  /** Stored label value -> class index (DatasetInfo.labelMap), when the labels were mapped. */
  readonly labelMap?: Readonly<Record<string, number>>;
  /** The U-Net's options as built (depth, filters, heads...). */
  readonly unet: Readonly<Record<string, unknown>> & { readonly depth?: number; readonly deepSupervision?: number };
  readonly metrics: ArtifactMetrics;
  /** Spacing every case was resampled to; omitted or null: none (see the schema's `spacing`). */
  readonly spacing?: readonly number[] | null;
}

/** How training normalized its inputs (data/preprocess.ts normalizeChannels), in the artifact's terms. */
export function artifactNormalization(
  method: 'zscore' | 'percentile' | 'none',
  percentiles: [number, number] = [0.5, 99.5],
): ArtifactNormalization {
  if (method === 'none') return { method: 'none' };
  if (method === 'percentile') return { method: 'percentile', scope: 'per-image-and-channel', percentiles };
  return { method: 'zscore', scope: 'per-image-and-channel' };
}

/** Class index -> the stored value it was read from; the smallest value when several map to one class. */
export function labelValuesOf(
  labelMap: Readonly<Record<string, number>> | undefined,
  numClasses: number,
): number[] | null {
  if (!labelMap) return null;
  const values: (number | undefined)[] = new Array(numClasses).fill(undefined);
  for (const [stored, cls] of Object.entries(labelMap)) {
    const v = Number(stored);
    if (cls < numClasses && (values[cls] === undefined || v < values[cls]!)) values[cls] = v;
  }
  return values.every((v) => v !== undefined) ? (values as number[]) : null;
}

/** Metrics of a validation result in the artifact's form (NaN -> null: JSON has no NaN). */
export function artifactMetrics(
  epoch: number | null,
  validation: ValidationResult | undefined,
  selection: ArtifactMetrics['selection'],
): ArtifactMetrics {
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  const summary = (s: { mean: number; sd: number; n: number }) => ({ mean: num(s.mean), sd: num(s.sd), n: s.n });
  return {
    epoch,
    selection,
    meanDice: validation ? num(validation.meanDice) : null,
    classes: validation
      ? validation.classes.map((c) => ({
          index: c.classIndex,
          dice: summary(c.dice),
          hd: summary(c.hd),
          hd95: summary(c.hd95),
          assd: summary(c.assd),
        }))
      : null,
  };
}

export function buildModelArtifact(facts: ArtifactFacts): ModelArtifact {
  const { config } = facts;
  const patch = [...config.preprocessing.patch];
  const dims = patch.length as 2 | 3;
  const depth = typeof facts.unet.depth === 'number' ? facts.unet.depth : 4;
  const numClasses = facts.classNames.length;
  // The synthetic generator draws on a 1 mm grid; other datasets are not resampled (no target spacing exists yet).
  const spacing =
    facts.spacing !== undefined ? facts.spacing : config.dataset?.kind === 'synthetic' ? patch.map(() => 1) : null;
  return {
    schema: MODEL_ARTIFACT_SCHEMA,
    rwsegVersion: RWSEG_VERSION,
    createdAt: new Date().toISOString(),
    dims,
    inputChannels: facts.inputChannels,
    classes: facts.classNames.map((name, index) => ({ index, name })),
    patchSize: patch,
    sizeGrid: patch.map(() => 2 ** (depth - 1)),
    normalization: artifactNormalization(config.preprocessing.normalization),
    spacing: spacing ? [...spacing] : null,
    sliceAxis: facts.dataDims > dims ? (config.preprocessing.sliceAxis ?? 0) : null,
    labelValues: labelValuesOf(facts.labelMap, numClasses),
    architecture: { kind: 'unet', config: { ...facts.unet }, heads: facts.unet.deepSupervision ?? 1 },
    training: {
      loss: config.loss ?? null,
      seed: config.seed ?? null,
      epochs: config.training?.epochs ?? null,
      config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
    },
    metrics: facts.metrics,
  };
}

/** The facts a dataset description gives (class names, label map, channels). */
export function datasetFacts(info: DatasetInfo): Pick<ArtifactFacts, 'classNames' | 'labelMap'> {
  return { classNames: info.classNames, ...(info.labelMap ? { labelMap: info.labelMap } : {}) };
}
