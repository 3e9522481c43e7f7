/**
 * The model artifact: the one description of a trained model that training writes and export, predict, evaluate
 * and serve read (docs/export.md, "rwseg.json"). Versioned by `schema`; validated with zod so a hand-edited file
 * with a wrong field fails naming the file and the field (read.ts).
 *
 * Where it lives: `<run>/model/rwseg.json` beside the TF.js model.json (written by the trainer), and beside every
 * exported model.onnx (the same document plus an `export` section). Epochs are 1-based everywhere: epoch 1 is the
 * first completed epoch, as the console prints it and as checkpoints are named (epoch-0001.ckpt).
 */
import { z } from 'zod';

export const MODEL_ARTIFACT_FILE = 'rwseg.json';
export const MODEL_ARTIFACT_SCHEMA = 'rwseg-model/2';
/** The exporter's format before the artifact existed (read with migration, migrate.ts). */
export const LEGACY_EXPORT_SCHEMA = 'rwseg-model-metadata/1';

const finite = z.number().finite();
/** One value per input channel, or one value for all channels. */
const perChannel = z.array(finite).min(1);

/**
 * How an image is normalized before it enters the model, per channel. `per-image-and-channel`: the statistics are
 * computed on each image (what rwseg's training does, data/preprocess.ts), so no statistics are stored; `fixed`: the
 * stored statistics (one per channel, or one for all) are applied to every image, as for CT in Hounsfield units.
 */
export const normalizationSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('none') }).strict(),
  z
    .object({
      method: z.literal('zscore'),
      scope: z.enum(['per-image-and-channel', 'fixed']).default('per-image-and-channel'),
      mean: perChannel.optional(),
      std: z.array(z.number().positive()).min(1).optional(),
    })
    .strict(),
  z
    .object({
      method: z.literal('percentile'),
      scope: z.literal('per-image-and-channel').default('per-image-and-channel'),
      /** Clip to these percentiles (0..100) of the image, then z-score it. */
      percentiles: z.tuple([z.number().min(0).max(100), z.number().min(0).max(100)]).default([0.5, 99.5]),
    })
    .strict(),
  z
    .object({
      method: z.literal('minmax'),
      scope: z.enum(['per-image-and-channel', 'fixed']).default('per-image-and-channel'),
      min: perChannel.optional(),
      max: perChannel.optional(),
    })
    .strict(),
]);

export type ArtifactNormalization = z.output<typeof normalizationSchema>;

const metricSummarySchema = z
  .object({ mean: finite.nullable(), sd: finite.nullable(), n: z.number().int().nonnegative() })
  .strict();

const classMetricsSchema = z
  .object({
    index: z.number().int().nonnegative(),
    dice: metricSummarySchema,
    hd: metricSummarySchema,
    hd95: metricSummarySchema,
    assd: metricSummarySchema,
  })
  .strict();

/** The export step's part: which file holds the ONNX model, its interface, and the parity measured at export. */
export const exportSectionSchema = z
  .object({
    format: z.enum(['onnx', 'triton']),
    /** The ONNX file, relative to the folder holding this rwseg.json. */
    file: z.string().min(1),
    /** SHA-256 of that file: a model.onnx that does not match is an interrupted export, never served. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    exportedAt: z.string(),
    converter: z.string(),
    opset: z.number().int().positive(),
    layout: z.literal('channels-last'),
    /** The ONNX graph's inputs and outputs as the converter reports them (name, dtype, shape, named dynamic axes). */
    inputs: z.array(z.looseObject({ name: z.string() })).min(1),
    outputs: z.array(z.looseObject({ name: z.string() })).min(1),
    parity: z.object({ maxAbsError: finite, maxRelError: finite, tolerance: z.unknown() }).loose().nullable(),
    /** Deep-supervision heads left out (only the full-resolution head is a prediction). */
    droppedDeepSupervisionHeads: z.number().int().nonnegative(),
    /**
     * Set when the graph is self-contained (`rwseg export --self-contained`): it takes raw whole images of any size,
     * normalizes them as `normalization` says and pads to `sizeGrid` itself, so a client (or /segment) sends the
     * image as it is, in one piece. `labels` names the uint8 arg-max output, if there is one.
     */
    selfContained: z
      .object({
        dynamicSpatial: z.enum(['any', 'grid', 'fixed']),
        sizeGrid: z.array(z.number().int().positive()),
        normalization: z.unknown(),
        labels: z.string().nullable(),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .loose();

export const modelArtifactSchema = z
  .object({
    schema: z.literal(MODEL_ARTIFACT_SCHEMA),
    rwsegVersion: z.string(),
    createdAt: z.string(),
    /** Spatial dimensions of the model's input: 2 (a 2D model, also slice by slice on 3D images) or 3. */
    dims: z.union([z.literal(2), z.literal(3)]),
    inputChannels: z.number().int().positive(),
    /** Output channel `index` is class `name`; index 0 is the background. */
    classes: z.array(z.object({ index: z.number().int().nonnegative(), name: z.string().min(1) }).strict()).min(2),
    /** The training patch (spatial axes): the sliding window's size. null: not recorded (use the whole image). */
    patchSize: z.array(z.number().int().positive()).nullable(),
    /**
     * Every spatial input size must be a multiple of this, per axis (the U-Net: 2^(depth-1)); an inference engine
     * pads to it. null: any size the model accepts.
     */
    sizeGrid: z.array(z.number().int().positive()).nullable(),
    normalization: normalizationSchema,
    /**
     * Spacing (mm, the input's spatial axis order) every training image was resampled to, so inputs must be
     * resampled to it first. null: training used each image at its own spacing (no resampling), so an input goes
     * in as it is and its own spacing is used only for distances in mm.
     */
    spacing: z.array(z.number().positive()).nullable(),
    /** A 2D model trained on slices of 3D volumes: the axis the slices were taken along. null otherwise. */
    sliceAxis: z.number().int().min(0).max(2).nullable(),
    /**
     * Stored label value of each class, by class index (a folder dataset's label map, inverted): predicted labels
     * are written back as these values. null: labels are stored as the class indices 0..K-1.
     */
    labelValues: z.array(finite).nullable(),
    /** The network: its kind and the resolved U-Net options, and its softmax heads (deep supervision). */
    architecture: z
      .object({
        kind: z.literal('unet'),
        config: z.record(z.string(), z.unknown()),
        heads: z.number().int().positive(),
      })
      .strict()
      .nullable(),
    /** What made the model: the loss configuration, the run's seed and the resolved pipeline config (config.json). */
    training: z
      .object({
        loss: z.unknown(),
        seed: z.number().int().nullable(),
        epochs: z.number().int().nonnegative().nullable(),
        config: z.record(z.string(), z.unknown()).nullable(),
      })
      .strict(),
    /** Validation metrics of the weights this model holds (not of the last epoch when an earlier one was better). */
    metrics: z
      .object({
        /** 1-based epoch the weights come from; null when not known. */
        epoch: z.number().int().positive().nullable(),
        /** How the weights were chosen: the best validation mean Dice, or the last epoch (no validation). */
        selection: z.enum(['best-validation-dice', 'last-epoch', 'unknown']),
        meanDice: finite.nullable(),
        classes: z.array(classMetricsSchema).nullable(),
      })
      .strict(),
    export: exportSectionSchema.optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    a.classes.forEach((c, i) => {
      if (c.index !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['classes', i, 'index'],
          message: `expected ${i}: classes are listed in output-channel order`,
        });
    });
    for (const key of ['patchSize', 'sizeGrid', 'spacing'] as const) {
      const v = a[key];
      if (v && v.length !== a.dims)
        ctx.addIssue({ code: 'custom', path: [key], message: `has ${v.length} axes but the model is ${a.dims}D` });
    }
    if (a.labelValues && a.labelValues.length !== a.classes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['labelValues'],
        message: `has ${a.labelValues.length} values for ${a.classes.length} classes`,
      });
    }
    const n = a.normalization;
    if ((n.method === 'zscore' || n.method === 'minmax') && n.scope === 'fixed') {
      const [lo, hi] = n.method === 'zscore' ? (['mean', 'std'] as const) : (['min', 'max'] as const);
      const values = n as unknown as Record<string, number[] | undefined>;
      for (const key of [lo, hi]) {
        const v = values[key];
        if (!v) ctx.addIssue({ code: 'custom', path: ['normalization', key], message: `required with scope 'fixed'` });
        else if (v.length !== 1 && v.length !== a.inputChannels)
          ctx.addIssue({
            code: 'custom',
            path: ['normalization', key],
            message: `needs 1 or ${a.inputChannels} values (one per channel)`,
          });
      }
    }
  });

export type ModelArtifact = z.output<typeof modelArtifactSchema>;
export type ModelArtifactInput = z.input<typeof modelArtifactSchema>;
export type ArtifactExport = z.output<typeof exportSectionSchema>;
export type ArtifactMetrics = ModelArtifact['metrics'];
