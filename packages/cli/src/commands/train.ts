import { Flags } from '@oclif/core';
import { BACKEND_CHOICES, RwsegError } from '@rwseg/core';
import {
  applyOverrides,
  datasetSectionFor,
  describeTrainPreset,
  loadPipeline,
  parsePipeline,
  runPipelineConfig,
  TRAIN_PRESET,
  trainPresetPipeline,
  type DatasetSectionOptions,
  type PipelineConfig,
} from '@rwseg/core/pipeline';
import { createProgressWriter } from '@rwseg/core/training';
import { RwsegCommand } from '../base-command.js';
import { LABEL_MAP_HELP, parseLabelMapFlag } from '../label-map-flag.js';
import { describeResult, resumeOption, runFolderFlags, summarizeResult } from './pipeline/run.js';

export default class Train extends RwsegCommand {
  static override summary =
    'Train a U-Net on a dataset (--data PATH or --synthetic) or as a pipeline file (--config) says, with flags for ' +
    'the usual knobs.';
  static override description = `Trains one run. Without --config, the flags override core's training preset: ${describeTrainPreset()}; with --config, they override the file. Any other value: --set key.path=value. Kill it any time: --resume continues from the last checkpoint, losing at most the current epoch. A folder that already holds a run needs --resume or --force.`;
  static override examples = [
    '<%= config.bin %> train --synthetic --epochs 10 --out runs/synthetic',
    '<%= config.bin %> train --data ../shared/data/isbi2012-em-membrane --label-map \'{"0": 1, "255": 0}\' --patch ' +
      '128,128 --loss-config \'{"combine": ["rrw", "dice"]}\' --out runs/isbi',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --epochs 20 --out runs/rrw-dice',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --loss dice --lr 0.001 --backend wasm',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --backend wasm --threads 2',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --out runs/rrw-dice --resume',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --out runs/rrw-dice --resume-from ' +
      'runs/rrw-dice/checkpoints/epoch-0002.ckpt',
  ];
  static override flags = {
    config: Flags.string({ description: 'pipeline YAML with dataset, model, loss and training sections' }),
    data: Flags.string({
      description: 'dataset folder: MSD / nnU-Net (dataset.json) or a folder pair (images/ + labels/, any formats)',
      exclusive: ['synthetic'],
    }),
    synthetic: Flags.boolean({ description: 'train on the built-in synthetic 2D dataset' }),
    'label-map': Flags.string({ description: `folder pairs: ${LABEL_MAP_HELP}` }),
    'num-classes': Flags.integer({
      min: 2,
      aliases: ['classes'],
      description: 'folder pairs without --label-map: classes stored as 0..K-1 (also --classes)',
    }),
    images: Flags.string({ description: 'folder pairs: image sub-folder (default images)' }),
    labels: Flags.string({ description: 'folder pairs: mask sub-folder (default labels), e.g. 1st_manual' }),
    'image-suffix': Flags.string({ description: 'folder pairs: image name part after the case id, e.g. _training' }),
    'mask-suffix': Flags.string({
      description: 'folder pairs: mask name = case id + this (any format), e.g. _manual1',
    }),
    'image-glob': Flags.string({
      description: 'folder pairs: which files of images/ are images, e.g. "*_training.tif"',
    }),
    'loss-config': Flags.string({
      description: 'loss configuration as JSON, e.g. \'{"combine": ["rrw", "dice"], "weights": "equal"}\'',
      exclusive: ['loss'],
    }),
    patch: Flags.string({
      description:
        "patch size, e.g. 64,64 or 32,48,32 (default: the images' size rounded to the U-Net grid, at most 128 / 64)",
    }),
    out: Flags.string({ description: 'output folder for this run' }),
    loss: Flags.string({ description: "loss name (replaces the file's loss section), e.g. rrw, dice, cross-entropy" }),
    epochs: Flags.integer({ min: 1, description: `epochs (preset: ${TRAIN_PRESET.training.epochs})` }),
    iterations: Flags.integer({
      min: 1,
      description: `iterations per epoch (preset: ${TRAIN_PRESET.training.iterationsPerEpoch})`,
    }),
    'batch-size': Flags.integer({ min: 1, description: `batch size (preset: ${TRAIN_PRESET.training.batchSize})` }),
    lr: Flags.string({ description: 'initial learning rate (preset: the pipeline default, 0.01)' }),
    threads: Flags.string({
      description:
        'compute threads per training step (training.threads): N splits each batch over N threads, each with its ' +
        'own TF.js engine (wasm or cpu backend); auto: the CPU cores, at most the batch size, on wasm and 1 ' +
        'elsewhere. Default 1',
    }),
    seed: Flags.integer(),
    set: Flags.string({ description: 'override a value: key.path=value (repeatable)', multiple: true }),
    backend: Flags.option({ options: BACKEND_CHOICES as string[] })(),
    ...runFolderFlags,
  };

  async run() {
    const { flags } = await this.parse(Train);
    const set = [
      ...(flags.loss ? [`loss=${flags.loss}`] : []),
      ...(flags['loss-config'] ? [`loss=${parseJsonFlag('--loss-config', flags['loss-config'])}`] : []),
      ...(flags.patch ? [`preprocessing.patch=${patchValue(flags.patch)}`] : []),
      ...(flags.epochs ? [`training.epochs=${flags.epochs}`] : []),
      ...(flags.iterations ? [`training.iterationsPerEpoch=${flags.iterations}`] : []),
      ...(flags['batch-size'] ? [`training.batchSize=${flags['batch-size']}`] : []),
      ...(flags.lr ? [`training.learningRate=${flags.lr}`] : []),
      ...(flags.threads ? [`training.threads=${flags.threads}`] : []),
      ...(flags.seed !== undefined ? [`seed=${flags.seed}`] : []),
      ...(flags.set ?? []),
    ];
    const config = flags.config
      ? loadPipeline(flags.config, [...(await this.dataOverrides(flags)), ...set])
      : await this.configFromFlags(flags, set);
    if (flags.config && config.sweep) {
      throw new RwsegError(
        'INVALID_CONFIG',
        `${flags.config} has a sweep section: run it with 'rwseg pipeline run ${flags.config}', or remove the ` +
          `sweep to train one run`,
        {},
      );
    }
    const registry = await this.loadRegistry(flags.plugin);
    const progress = createProgressWriter(process.stderr, '', {
      intervalSeconds: config.training.progressIntervalSeconds,
    });
    const result = await runPipelineConfig(config, {
      ...(flags.config ? { configFile: flags.config } : {}),
      out: flags.out,
      backend: flags.backend as never,
      resume: resumeOption(flags),
      force: flags.force,
      services: this.services(flags.plugin),
      registry,
      plugins: flags.plugin,
      logger: this.logger,
      onEvent: (_run, event) => progress(event),
    });
    if (!this.jsonEnabled()) this.log(describeResult(result));
    const summary = summarizeResult(result);
    return {
      ...summary.runs[0],
      backend: summary.backend,
      backendInfo: summary.backendInfo,
      onnx: result.runs[0]?.export?.onnx,
    };
  }

  /** --data / --synthetic with --config: the dataset section is replaced by the one the path describes. */
  private async dataOverrides(flags: TrainFlags): Promise<string[]> {
    const source = flags.synthetic ? 'synthetic' : flags.data;
    if (!source) return [];
    return [`dataset=${JSON.stringify(datasetSectionFor(source, datasetFlagOptions(flags)))}`];
  }

  /** Without --config: the pipeline a YAML file would hold, from the flags. */
  private async configFromFlags(flags: TrainFlags, set: readonly string[]): Promise<PipelineConfig> {
    const source = flags.synthetic ? 'synthetic' : flags.data;
    if (!source)
      throw new RwsegError(
        'INVALID_OPTIONS',
        'rwseg train needs --data PATH (an MSD or images/ + labels/ folder), --synthetic, or --config FILE',
        { option: 'data' },
      );
    const raw = await trainPresetPipeline(source, { ...datasetFlagOptions(flags), patch: flags.patch !== undefined });
    applyOverrides(raw, set);
    return parsePipeline(raw, 'rwseg train flags');
  }
}

type TrainFlags = {
  data?: string;
  synthetic?: boolean;
  'label-map'?: string;
  'num-classes'?: number;
  patch?: string;
  images?: string;
  labels?: string;
  'image-suffix'?: string;
  'mask-suffix'?: string;
  'image-glob'?: string;
};

function datasetFlagOptions(flags: TrainFlags): DatasetSectionOptions {
  return {
    ...(flags.images ? { images: flags.images } : {}),
    ...(flags.labels ? { labels: flags.labels } : {}),
    ...(flags['image-suffix'] ? { imageSuffix: flags['image-suffix'] } : {}),
    ...(flags['mask-suffix'] ? { maskSuffix: flags['mask-suffix'] } : {}),
    ...(flags['image-glob'] ? { imageGlob: flags['image-glob'] } : {}),
    ...(flags['label-map'] ? { labelMap: parseLabelMapFlag(flags['label-map']) } : {}),
    ...(flags['num-classes'] ? { numClasses: flags['num-classes'] } : {}),
  };
}

/** Checks a JSON flag and returns it as text (YAML reads JSON, so it can go through --set). */
function parseJsonFlag(flag: string, text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch (error) {
    throw new RwsegError('INVALID_OPTIONS', `${flag}: not valid JSON (${(error as Error).message}): ${text}`, {
      option: flag,
    });
  }
}

function patchValue(text: string): string {
  const sizes = text
    .replace(/^\[|\]$/g, '')
    .split(/[,x ]+/)
    .filter(Boolean)
    .map(Number);
  if (sizes.length < 2 || sizes.length > 3 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RwsegError('INVALID_OPTIONS', `--patch: expected 2 or 3 positive integers like 64,64, got '${text}'`, {
      option: 'patch',
    });
  }
  return `[${sizes.join(',')}]`;
}
