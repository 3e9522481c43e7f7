/**
 * The pipeline file: one YAML document describing a whole experiment. Validated with zod; every error names the
 * YAML path (and line) of the offending value. Paths to data are options (overridable with --set), never fixed.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BACKEND_CHOICES, type BackendChoice } from '@rwseg/tfjs-training-backends/names';
import { isSafeName } from '../artifact/model-name.js';
import { augmentOptionsSchema } from '../data/augment.js';
import { RwsegError } from '../errors.js';
import { parseLossConfig, type LossConfig } from '../losses/loss-config.js';
import { checkPatchShape, unetConfigSchema } from '../models/unet-config.js';
import { DEFAULT_PROGRESS_INTERVAL_SECONDS } from '../training/progress.js';
import { plateauSchema } from '../training/plateau.js';
import { lrScheduleSchema } from '../training/schedules.js';

const positiveInt = z.number().int().positive();

const syntheticDataset = z
  .object({
    kind: z.literal('synthetic'),
    /** [H, W] or [D, H, W]; the data module's generator (data/synthetic.ts) draws the images. */
    shape: z.array(positiveInt).min(2).max(3),
    numClasses: z.number().int().min(2).max(8).default(3),
    train: positiveInt.default(32),
    validation: positiveInt.default(8),
    /** Gaussian noise relative to the contrast between classes (the generator's default 0.15). */
    noise: z.number().nonnegative().optional(),
    objects: positiveInt.optional(),
    objectScale: z.number().positive().optional(),
    classWeights: z.array(z.number().nonnegative()).optional(),
    seed: z.number().int().optional(),
  })
  .strict();

const msdDataset = z
  .object({
    kind: z.literal('msd'),
    /** Folder holding dataset.json, imagesTr/ and labelsTr/. */
    root: z.string().min(1),
    validationFraction: z.number().gt(0).lt(1).default(0.2),
    limit: positiveInt.optional(),
  })
  .strict();

const folderDataset = z
  .object({
    kind: z.literal('folder'),
    /** Folder holding the images/ and labels/ sub-folders (their names: `images`, `labels`). */
    path: z.string().min(1).optional(),
    /** Folder of images (any format rwseg reads) and a folder of masks; relative to `path` when given. */
    images: z.string().min(1).optional(),
    labels: z.string().min(1).optional(),
    /** Pairing (data/folder.ts): id = image name less `imageSuffix`; mask = id + `maskSuffix`, any extension. */
    imageSuffix: z.string().min(1).optional(),
    maskSuffix: z.string().min(1).optional(),
    /** Which files of the image folder are images, e.g. "*_training.tif". */
    imageGlob: z.string().min(1).optional(),
    numClasses: z.number().int().min(2),
    /** Label values in class order when the files are not stored as 0..K-1 (e.g. [0, 255]; [255, 0] inverts). */
    labelValues: z.array(z.number()).optional(),
    /** Stored value -> class index, e.g. { 0: 1, 255: 0 } (the alternative to labelValues). */
    labelMap: z.record(z.string(), z.number().int().nonnegative()).optional(),
    validationFraction: z.number().gt(0).lt(1).default(0.2),
    limit: positiveInt.optional(),
  })
  .strict();

export const pipelineSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore')
      .default('pipeline'),
    description: z.string().optional(),
    seed: z.number().int().default(1),
    backend: z.enum(BACKEND_CHOICES as [BackendChoice, ...BackendChoice[]]).default('auto'),
    /** Output folder (relative to the working directory); --out overrides it. */
    output: z.string().optional(),
    /**
     * Written by rwseg into a run's config.json (the file it came from, the backend's facts); accepted and
     * ignored on input so that a run's config.json is itself a pipeline that reproduces the run.
     */
    configFile: z.string().optional(),
    backendInfo: z.unknown().optional(),
    dataset: z.discriminatedUnion('kind', [syntheticDataset, msdDataset, folderDataset]),
    /**
     * k-fold cross-validation instead of the dataset's own split (data/splits.ts, nnU-Net style): the cases less
     * `test` are shuffled with `seed` (fixed per dataset, not the run seed) and dealt into `folds` parts; the run
     * validates on part `fold`. A synthetic set pools its train and validation cases.
     */
    split: z
      .object({
        method: z.literal('kfold'),
        folds: z.number().int().min(2).default(5),
        fold: z.number().int().nonnegative().default(0),
        seed: z.number().int().default(0),
        test: z.array(z.string().min(1)).optional(),
        /** Written by rwseg into a run's config.json: the ids of the run's validation cases. Ignored on input. */
        validationCases: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    preprocessing: z
      .object({
        normalization: z.enum(['zscore', 'percentile', 'none']).default('zscore'),
        patch: z.array(positiveInt).min(2).max(3),
        foregroundFraction: z
          .number()
          .min(0)
          .max(1)
          .default(1 / 3),
        /** Axis of a 3D volume that 2D patches are sliced along (2D patches from 3D data). */
        sliceAxis: z.number().int().min(0).max(2).default(0),
      })
      .strict(),
    /** The data module's augmentation (data/augment.ts); omitted keys take its defaults, `false` turns it off. */
    augmentation: z.union([z.literal(false), augmentOptionsSchema]).default({}),
    model: unetConfigSchema
      .omit({ dims: true, inputChannels: true, numClasses: true, seed: true })
      .partial()
      .strict()
      .default({}),
    loss: z.unknown(),
    training: z
      .object({
        epochs: positiveInt,
        iterationsPerEpoch: positiveInt,
        batchSize: positiveInt.default(2),
        learningRate: z.number().positive().default(0.01),
        weightDecay: z.number().nonnegative().default(3e-5),
        schedule: lrScheduleSchema.default({ name: 'poly', power: 0.9 }),
        clipNorm: z.number().nonnegative().default(12),
        /** Data loader worker threads (default: CPU cores minus one; 0 loads in the training thread). */
        workers: z.number().int().nonnegative().optional(),
        /**
         * Compute threads per training step (data-parallel: the batch is split over worker threads, each with its
         * own TF.js engine; wasm and cpu backends). 1 (default): the training thread alone. 'auto': the CPU cores,
         * at most the batch size, on wasm; 1 on other backends.
         */
        threads: z
          .union([positiveInt, z.literal('auto')], { error: "expected a positive integer (compute threads) or 'auto'" })
          .default(1),
        /** Seconds between plain progress lines inside an epoch, off a terminal (training/progress.ts). */
        progressIntervalSeconds: z.number().nonnegative().default(DEFAULT_PROGRESS_INTERVAL_SECONDS),
        /** End a run before `epochs` once validation Dice has plateaued (training/plateau.ts). */
        plateau: plateauSchema.optional(),
      })
      .strict(),
    evaluation: z
      .object({
        every: positiveInt.default(1),
        overlap: z.number().min(0).lt(1).default(0.5),
        overlays: z.number().int().nonnegative().default(3),
      })
      .strict()
      .default({ every: 1, overlap: 0.5, overlays: 3 }),
    /** After training: model.onnx + rwseg.json in the run folder (format onnx) or <run>/model_repository (triton). */
    export: z
      .object({
        onnx: z.boolean().default(false),
        format: z.enum(['onnx', 'triton']).default('onnx'),
        /** Triton model name (default: the pipeline's name); the server's model-name rule (artifact/model-name.ts). */
        name: z
          .string()
          .refine(isSafeName, "use letters, digits, '_', '.' and '-' only, not starting with '.'")
          .optional(),
        /** Largest max abs error the parity check against TF.js accepts. */
        tolerance: z.number().positive().default(1e-4),
      })
      .strict()
      .default({ onnx: false, format: 'onnx', tolerance: 1e-4 }),
    sweep: z
      .object({
        losses: z.array(z.object({ name: z.string().regex(/^[A-Za-z0-9._+-]+$/), loss: z.unknown() }).strict()).min(1),
        seeds: z.array(z.number().int()).min(1).optional(),
        /** The loss the comparison's paired tests test every other against (default: the first). */
        reference: z.string().optional(),
        /** k-fold runs: a number (every fold of that many) or a list of folds of `split.folds` (default 5). */
        folds: z.union([z.number().int().min(2), z.array(z.number().int().nonnegative()).min(1)]).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type PipelineConfig = Omit<z.output<typeof pipelineSchema>, 'loss' | 'sweep'> & {
  loss: LossConfig;
  /** `folds` is resolved to the list of fold indices; `split` is then set (kfold). */
  sweep?: { losses: { name: string; loss: LossConfig }[]; seeds?: number[]; reference?: string; folds?: number[] };
};

/** Applies `a.b.c=value` overrides (value parsed as YAML, so numbers and lists work) to a raw document. */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly string[]): void {
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0) throw new RwsegError('INVALID_CONFIG', `--set '${override}': expected key.path=value`, { override });
    const keys = override.slice(0, eq).split('.');
    const value = parseYaml(override.slice(eq + 1)) as unknown;
    let node: Record<string, unknown> = raw;
    keys.slice(0, -1).forEach((key) => {
      if (node[key] === undefined || node[key] === null) node[key] = {};
      if (typeof node[key] !== 'object')
        throw new RwsegError('INVALID_CONFIG', `--set '${override}': '${key}' is not a section`, { override });
      node = node[key] as Record<string, unknown>;
    });
    node[keys.at(-1)!] = value;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** Validates a raw pipeline object; `where` (the file) and `lineOf` (a YAML path -> line) make errors precise. */
export function parsePipeline(
  raw: unknown,
  where = 'pipeline',
  lineOf: (path: readonly PropertyKey[]) => number | undefined = () => undefined,
): PipelineConfig {
  const parsed = pipelineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const yamlPath = formatPath(issue.path);
    const line = lineOf(issue.path);
    throw new RwsegError(
      'INVALID_CONFIG',
      `${where}: ${yamlPath || '(top level)'}${line ? ` (line ${line})` : ''}: ${issue.message}`,
      { path: yamlPath, line, issues: parsed.error.issues },
    );
  }
  const atFile = (error: unknown, path: string) => {
    if (error instanceof RwsegError) {
      const line = lineOf(
        path
          .split(/[.[\]]+/)
          .filter(Boolean)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      );
      return new RwsegError(error.code, `${where}: ${error.message}${line ? ` (line ${line})` : ''}`, error.details);
    }
    return error;
  };
  const data = parsed.data;
  if (data.loss === undefined)
    throw new RwsegError('INVALID_CONFIG', `${where}: loss: required (a loss name or { combine: [...] })`, {
      path: 'loss',
    });
  let loss: LossConfig;
  try {
    loss = parseLossConfig(data.loss, 'loss');
  } catch (error) {
    throw atFile(error, 'loss');
  }
  const sweep = data.sweep && {
    ...data.sweep,
    losses: data.sweep.losses.map((l, i) => {
      try {
        return { name: l.name, loss: parseLossConfig(l.loss, `sweep.losses[${i}].loss`) };
      } catch (error) {
        throw atFile(error, `sweep.losses.${i}.loss`);
      }
    }),
  };
  const names = sweep?.losses.map((l) => l.name) ?? [];
  if (sweep?.reference !== undefined && !names.includes(sweep.reference)) {
    const message = `sweep.reference: '${sweep.reference}' is not one of the sweep's losses (${names.join(', ')})`;
    const error = new RwsegError('INVALID_CONFIG', message, { path: 'sweep.reference', losses: names });
    throw atFile(error, 'sweep.reference');
  }
  let split = data.split;
  if (sweep?.folds !== undefined) {
    const count = typeof sweep.folds === 'number' ? sweep.folds : (split?.folds ?? 5);
    if (typeof sweep.folds === 'number' && split && split.folds !== sweep.folds) {
      throw new RwsegError(
        'INVALID_CONFIG',
        `${where}: sweep.folds: ${sweep.folds} folds, but split.folds is ${split.folds}; give the same count or a list of folds${lineText(lineOf, ['sweep', 'folds'])}`,
        { path: 'sweep.folds' },
      );
    }
    const list =
      typeof sweep.folds === 'number' ? Array.from({ length: count }, (_, k) => k) : [...new Set(sweep.folds)];
    const outside = list.find((k) => k >= count);
    if (outside !== undefined) {
      throw new RwsegError(
        'INVALID_CONFIG',
        `${where}: sweep.folds: fold ${outside} is out of range: with ${count} folds (split.folds), folds are 0..${count - 1}${lineText(lineOf, ['sweep', 'folds'])}`,
        { path: 'sweep.folds' },
      );
    }
    sweep.folds = list;
    split = { method: 'kfold', seed: 0, ...split, folds: count, fold: split?.fold ?? 0 };
  }
  if (split && split.fold >= split.folds) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `${where}: split.fold: fold ${split.fold} is out of range: with ${split.folds} folds, fold is 0..${split.folds - 1}${lineText(lineOf, ['split', 'fold'])}`,
      { path: 'split.fold' },
    );
  }
  const dataset = data.dataset;
  if (dataset.kind === 'synthetic' && data.preprocessing.patch.length > dataset.shape.length) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `${where}: preprocessing.patch: a ${data.preprocessing.patch.length}D patch needs a 3D dataset.shape`,
      { path: 'preprocessing.patch' },
    );
  }
  if (dataset.kind === 'folder' && !dataset.path && !(dataset.images && dataset.labels)) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `${where}: dataset.path: required (the folder with images/ and labels/), or give both dataset.images and dataset.labels`,
      { path: 'dataset.path' },
    );
  }
  if (dataset.kind === 'folder' && dataset.labelValues && dataset.labelMap) {
    throw new RwsegError('INVALID_CONFIG', `${where}: dataset.labelMap: give labelValues or labelMap, not both`, {
      path: 'dataset.labelMap',
    });
  }
  // The U-Net's size grid, checked here so the error names this file and line before any data is read.
  try {
    const { depth } = unetConfigSchema.parse({ ...data.model });
    checkPatchShape(data.preprocessing.patch, depth, data.preprocessing.patch.length);
  } catch (error) {
    const named =
      error instanceof RwsegError
        ? new RwsegError(error.code, `preprocessing.patch: ${error.message}`, error.details)
        : error;
    throw atFile(named, 'preprocessing.patch');
  }
  return { ...data, loss, sweep, split } as PipelineConfig;
}

const lineText = (lineOf: (path: readonly PropertyKey[]) => number | undefined, path: readonly PropertyKey[]) => {
  const line = lineOf(path);
  return line ? ` (line ${line})` : '';
};

/** Reads, overrides and validates a pipeline YAML file. */
export function loadPipeline(file: string, overrides: readonly string[] = []): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RwsegError('IO_ERROR', `cannot read pipeline ${file}: ${(error as Error).message}`, { file });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new RwsegError(
      'INVALID_CONFIG',
      `${file}: YAML syntax error at line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`,
      { file },
    );
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new RwsegError('INVALID_CONFIG', `${file}: expected a mapping at the top level`, { file });
  applyOverrides(raw, overrides);
  const lineOf = (path: readonly PropertyKey[]) => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as
        { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return parsePipeline(raw, file, lineOf);
}
