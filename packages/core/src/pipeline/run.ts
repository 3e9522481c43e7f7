/**
 * Runs a pipeline: data, model, loss and training as the YAML says, once, or over a sweep of losses x seeds
 * with a comparison table (comparison.ts: per loss and class, Dice, HD95 and HD mean +- sd over seeds), then the
 * export step (`export:`, export/run-export.ts) for every run. The CLI and other callers are thin wrappers.
 *
 * Output layout: <out>/ holds the run (see training/trainer.ts); with a sweep, <out>/<loss name>/seed-<n>/ per
 * run (<out>/<loss name>/seed-<n>/fold-<k>/ with `sweep.folds`) and <out>/comparison.md + comparison.csv +
 * comparison-tests.csv (paired tests against `sweep.reference`). A folder that holds a run is continued only with
 * `resume` (same settings) and replaced only with `force` (artifact/run-folder.ts prepareRunFolder).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  checkTrainingKernels,
  describeBackend,
  useBackend,
  type BackendDescription,
  type BackendName,
} from '@rwseg/tfjs-training-backends';
import type { Container } from 'inversify';
import type { BackendSelection } from '../services/backend-selection.js';
import type { Clock } from '../services/clock.js';
import { createServices, resolveRegistry } from '../services/container.js';
import { TOKENS } from '../services/tokens.js';
import { buildLoss } from '../losses/combine.js';
import { lossSpec } from '../losses/loss-spec.js';
import { silentLogger, type Logger } from '../logger.js';
import { RwsegError } from '../errors.js';
import { buildUNet } from '../models/unet.js';
import { unetConfigSchema } from '../models/unet-config.js';
import {
  prepareRunFolder,
  readRunConfig,
  resumeDifferences,
  RUN_FILES,
  runFolderHoldsRun,
} from '../artifact/run-folder.js';
import { exportRun, type RunExport } from '../export/run-export.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { createLoader } from '../data/loader.js';
import { deriveSeed } from '../data/random.js';
import { checkThreads, resolveThreads } from '../training/data-parallel.js';
import { formatDuration } from '../training/progress.js';
import { listCheckpoints } from '../training/checkpoint.js';
import {
  STOPPED_CHECKPOINT,
  train,
  type TrainingEvent,
  type TrainingOptions,
  type TrainingResult,
} from '../training/trainer.js';
import type { LossConfig } from '../losses/loss-config.js';
import type { Loss } from '../plugins/api.js';
import { computeSegmentationMetrics } from '../metrics/segmentation-metrics.js';
import type { MetricsFunction } from '../training/validation.js';
import { compareLosses, pairedTests, writeComparison } from './comparison.js';
import type { LossComparison, PairedComparison } from './comparison.js';
import { loadDataset, type PipelineData } from './datasets.js';
import { loadPipeline, parsePipeline, type PipelineConfig } from './schema.js';

export interface RunPipelineOptions {
  /** `key.path=value` overrides applied to the YAML before validation. */
  readonly set?: readonly string[];
  /** Output folder (overrides the file's `output`). */
  readonly out?: string;
  readonly backend?: PipelineConfig['backend'];
  /** Continue each run from its newest checkpoint (true), or a single run from this checkpoint file. */
  readonly resume?: boolean | string;
  /** Resume despite different settings or no checkpoint, or start over in a folder that holds a run. */
  readonly force?: boolean;
  readonly registry?: PluginRegistry;
  /** Plugin specifiers (package names or paths) the loader's worker threads load their map plugins from. */
  readonly plugins?: readonly string[];
  readonly metrics?: MetricsFunction;
  /** Ignored when `services` is given: its logger is used. */
  readonly logger?: Logger;
  /**
   * The services container (services/container.ts) the logger, clock, backend selection and, unless `registry` is
   * given, the plugin registry are resolved from (default: one with `logger`).
   */
  readonly services?: Container;
  readonly onEvent?: (run: string, event: TrainingEvent) => void;
  /** A stop request (SIGUSR1/SIGTERM in the CLI): the current run checkpoints at its next step and the sweep ends. */
  readonly stop?: TrainingOptions['stop'];
}

export interface PipelineRun {
  readonly name: string;
  readonly lossName: string;
  readonly seed: number;
  /** The k-fold fold this run validates on (`split`), when there is one. */
  readonly fold?: number;
  readonly outDir: string;
  readonly result: TrainingResult;
  /** The export step's result (`export.onnx: true`). */
  readonly export?: RunExport;
}

export interface PipelineResult {
  readonly name: string;
  readonly outDir: string;
  readonly backend: BackendName;
  /** The backend's facts (the WebGPU adapter's vendor, architecture and driver; wasm SIMD...), also in config.json. */
  readonly backendInfo?: BackendDescription;
  readonly runs: readonly PipelineRun[];
  /** Per loss (sweeps): the comparison table's rows, and every seed's validation cases pooled. */
  readonly comparison?: readonly LossComparison[];
  /** Sweeps: each loss against the reference, paired per validation case (comparison.md's second table). */
  readonly pairedTests?: PairedComparison;
  /** The run a stop request ended (its checkpoint resumes it); the runs after it did not start. */
  readonly stopped?: string;
}

/**
 * One run of a pipeline: a sweep's (loss, seed, fold), or the pipeline's only run. `index` is its task number
 * (losses x seeds x folds, fold fastest), as `rwseg sweep plan` numbers them.
 */
export interface PlannedRun {
  readonly index: number;
  /** `<loss>/seed-<n>[/fold-<k>]` in a sweep, else the pipeline's name. */
  readonly name: string;
  readonly lossName: string;
  readonly loss: LossConfig;
  /** Where the loss sits in the YAML, for errors. */
  readonly lossPath: string;
  readonly seed: number;
  readonly fold?: number;
  readonly dir: string;
}

/** The runs of a pipeline, numbered: losses x seeds x folds in a sweep, else one. */
export function planPipelineRuns(config: PipelineConfig, outDir: string): PlannedRun[] {
  const sweep = config.sweep;
  if (!sweep) {
    const fold = config.split?.fold;
    return [
      {
        index: 0,
        name: config.name,
        lossName: lossLabel(config.loss),
        loss: config.loss,
        lossPath: 'loss',
        seed: config.seed,
        ...(fold !== undefined ? { fold } : {}),
        dir: outDir,
      },
    ];
  }
  const seeds = sweep.seeds ?? [config.seed];
  const folds: (number | undefined)[] = sweep.folds ?? [undefined];
  return sweep.losses
    .flatMap((l, li) =>
      seeds.flatMap((seed) =>
        folds.map((fold) => {
          const rel = [l.name, `seed-${seed}`, ...(fold !== undefined ? [`fold-${fold}`] : [])];
          return {
            lossName: l.name,
            loss: l.loss,
            lossPath: `sweep.losses[${li}].loss`,
            seed,
            ...(fold !== undefined ? { fold } : {}),
            name: rel.join('/'),
            dir: path.join(outDir, ...rel),
          };
        }),
      ),
    )
    .map((p, index) => ({ index, ...p }));
}

/** The pipeline one planned run is: sweep gone, its loss, seed and fold in place (saved as its config.json). */
export function plannedRunConfig(
  config: PipelineConfig,
  run: PlannedRun,
  extra: { backend?: string; backendInfo?: unknown; configFile?: string; validationCases?: readonly string[] } = {},
): PipelineConfig {
  const split = config.split && {
    ...config.split,
    fold: run.fold ?? config.split.fold,
    ...(extra.validationCases ? { validationCases: [...extra.validationCases] } : {}),
  };
  return {
    ...config,
    sweep: undefined,
    loss: run.loss,
    seed: run.seed,
    ...(split ? { split } : {}),
    ...(extra.backend !== undefined ? { backend: extra.backend as PipelineConfig['backend'] } : {}),
    ...(extra.backendInfo !== undefined ? { backendInfo: extra.backendInfo } : {}),
    ...(extra.configFile !== undefined ? { configFile: extra.configFile } : {}),
  };
}

/** The output folder a pipeline writes to: --out, the file's `output`, else runs/<name>. */
export function pipelineOutDir(config: PipelineConfig, out?: string): string {
  return path.resolve(out ?? config.output ?? path.join('runs', config.name));
}

/** What every run of one pipeline shares: the backend, the registry, the compute threads, the data per fold. */
interface PipelineContext {
  readonly config: PipelineConfig;
  readonly options: RunPipelineOptions & { configFile?: string };
  readonly logger: Logger;
  readonly backend: BackendName;
  readonly backendInfo: BackendDescription | undefined;
  readonly registry: PluginRegistry;
  readonly metrics: MetricsFunction;
  readonly clock: Clock;
  readonly threads: number;
  /** Loaded once per fold (the validation cases in memory); the only entry without k-fold is keyed -1. */
  readonly data: Map<number, Promise<PipelineData>>;
  kernelsChecked: boolean;
}

async function openPipeline(
  config: PipelineConfig,
  options: RunPipelineOptions & { configFile?: string },
): Promise<PipelineContext> {
  const services = options.services ?? createServices({ logger: options.logger ?? silentLogger });
  const logger = services.get<Logger>(TOKENS.Logger);
  const clock = services.get<Clock>(TOKENS.Clock);
  const backend = await services.get<BackendSelection>(TOKENS.Backend).use(options.backend ?? config.backend);
  const backendInfo = describeBackend() ?? undefined;
  const registry = options.registry ?? (await resolveRegistry(services));
  const metrics = options.metrics ?? computeSegmentationMetrics;
  const threads = resolveThreads(config.training.threads, backend, config.training.batchSize);
  checkThreads(threads, backend, config.training.batchSize);
  if (config.training.threads === 'auto') {
    logger.info(
      `training threads: ${threads} (auto: ${backend === 'wasm' ? 'CPU cores, at most the batch size' : `1 on ${backend}, which does not gain from worker threads`})`,
    );
  }
  return {
    config,
    options,
    logger,
    backend,
    backendInfo,
    registry,
    metrics,
    clock,
    threads,
    data: new Map(),
    kernelsChecked: false,
  };
}

function dataOf(ctx: PipelineContext, run: PlannedRun): Promise<PipelineData> {
  const key = run.fold ?? -1;
  if (!ctx.data.has(key)) {
    const split = ctx.config.split && { ...ctx.config.split, fold: run.fold ?? ctx.config.split.fold };
    ctx.data.set(key, loadDataset({ ...ctx.config, ...(split ? { split } : {}) }));
  }
  return ctx.data.get(key)!;
}

/**
 * Before any data is read: 'resume' or 'fresh' for the run's folder, or an error when a run would be overwritten or
 * a resume does not fit (artifact/run-folder.ts prepareRunFolder). A run stopped in its first epoch holds only
 * checkpoints/stopped.ckpt, which --resume continues too; a resumed fold must be the folder's fold; and under
 * --resume a sweep's runs that never started start.
 */
function runFolderMode(ctx: PipelineContext, run: PlannedRun): 'resume' | 'fresh' {
  const { options, logger } = ctx;
  const resolved = parsePipeline(
    JSON.parse(
      JSON.stringify(plannedRunConfig(ctx.config, run, { backend: ctx.backend, configFile: options.configFile })),
    ),
    'the resolved pipeline',
  );
  if (options.resume && existsSync(path.join(run.dir, RUN_FILES.config))) {
    const previous = readRunConfig(run.dir).split;
    const same = (s: typeof previous) => JSON.stringify(s && [s.folds, s.fold, s.seed, s.test ?? []]);
    if (same(previous) !== same(resolved.split) && !options.force) {
      const show = (s: typeof previous) => (s ? `fold ${s.fold} of ${s.folds}, seed ${s.seed}` : 'none');
      const message = `--resume: the split differs from the run in ${path.join(run.dir, RUN_FILES.config)} (was ${show(previous)}, now ${show(resolved.split)}); use the run's settings, another --out, or --force`;
      throw new RwsegError('INVALID_OPTIONS', message, { option: 'resume' });
    }
  }
  // --resume of a sweep that was stopped part-way: its runs that never started simply start.
  if (ctx.config.sweep && options.resume === true && !runFolderHoldsRun(run.dir)) return 'fresh';
  const stoppedOnly =
    options.resume === true && existsSync(path.join(run.dir, RUN_FILES.checkpoints, STOPPED_CHECKPOINT));
  if (stoppedOnly && listCheckpoints(path.join(run.dir, RUN_FILES.checkpoints)).length === 0) {
    // prepareRunFolder counts epoch checkpoints only; the same settings check, for a run stopped in its first epoch.
    const differences = existsSync(path.join(run.dir, RUN_FILES.config))
      ? resumeDifferences(readRunConfig(run.dir), resolved)
      : [];
    if (differences.length > 0 && !options.force) {
      const message = `--resume: the settings differ from the run in ${path.join(run.dir, RUN_FILES.config)}: ${differences.join('; ')}. Use the run's settings, another --out, or --force to resume anyway`;
      throw new RwsegError('INVALID_OPTIONS', message, { option: 'resume', differences });
    }
    return 'resume';
  }
  return prepareRunFolder(run.dir, resolved, { resume: options.resume, force: options.force, logger });
}

/** Trains one planned run in its folder (the same code for `pipeline run`'s every run and `sweep run-task`). */
async function trainPlannedRun(
  ctx: PipelineContext,
  run: PlannedRun,
  mode: 'resume' | 'fresh',
  loss: Loss,
): Promise<PipelineRun> {
  const { config, options, logger, backend, threads } = ctx;
  const patch = config.preprocessing.patch;
  const data = await dataOf(ctx, run);
  const heads = config.model.deepSupervision ?? 1;
  const unet = unetConfigSchema.parse({
    ...config.model,
    dims: patch.length as 2 | 3,
    inputChannels: data.channels,
    numClasses: data.numClasses,
    seed: deriveSeed(run.seed, 'init'),
  });
  const model = buildUNet(unet, patch);
  // A kernel the backend lacks should fail now, naming it, not at the first backward pass (once per pipeline:
  // every run of a sweep has the same layers). The check reads gradients synchronously, which webgpu cannot do
  // in Node (no OffscreenCanvas); its kernel set is complete and checked against cpu by the lavapipe tests.
  if (!ctx.kernelsChecked && backend !== 'webgpu') {
    const check = checkTrainingKernels(model);
    if (check.unchecked.length > 0)
      logger.debug(`kernel check on ${check.backend}: no probe for ${check.unchecked.join(', ')}`);
  }
  ctx.kernelsChecked = true;
  const validationCases = config.split ? data.validation.map((c) => c.id) : undefined;
  const runConfig = plannedRunConfig(config, run, {
    backend,
    backendInfo: ctx.backendInfo,
    configFile: options.configFile,
    validationCases,
  });
  const firstImage = data.validation[0]?.image;
  const foldText = run.fold !== undefined ? `fold ${run.fold} of ${config.split!.folds}, ` : '';
  logger.info(
    `run ${run.name}: loss ${loss.name}, ${foldText}${data.train.length} training and ${data.validation.length} validation cases, patch [${patch.join(', ')}], backend ${backend}${threads > 1 ? `, ${threads} compute threads` : ''}`,
  );
  const result = await train({
    model,
    loss,
    // One loader per epoch, seeded by the epoch: a resumed run sees the same batches as an uninterrupted one.
    openData: (_epoch, seed) =>
      createLoader({
        dataset: data.info,
        cases: data.train,
        patchShape: patch,
        batchSize: config.training.batchSize,
        seed,
        sliceAxis: config.preprocessing.sliceAxis,
        foregroundFraction: config.preprocessing.foregroundFraction,
        preprocess: data.preprocess,
        augment: config.augmentation,
        maps: loss.requiredMaps,
        scales: heads,
        registry: { plugins: options.plugins ?? [] },
        ...(config.training.workers !== undefined ? { workers: config.training.workers } : {}),
      }),
    epochs: config.training.epochs,
    iterationsPerEpoch: config.training.iterationsPerEpoch,
    learningRate: config.training.learningRate,
    weightDecay: config.training.weightDecay,
    schedule: config.training.schedule,
    clipNorm: config.training.clipNorm,
    seed: run.seed,
    outDir: run.dir,
    resume: mode === 'resume' ? (options.resume ?? true) : false,
    config: runConfig,
    artifact: {
      config: runConfig,
      dataDims: firstImage ? firstImage.shape.length - (firstImage.channels !== undefined ? 1 : 0) : patch.length,
      inputChannels: data.channels,
      classNames: classNamesOf(data.info.classNames, data.numClasses),
      ...(data.info.labelMap ? { labelMap: data.info.labelMap } : {}),
      unet,
    },
    validation: {
      cases: data.validation,
      every: config.evaluation.every,
      patch,
      overlap: config.evaluation.overlap,
      sliceAxis: config.preprocessing.sliceAxis,
      numClasses: data.numClasses,
      metrics: ctx.metrics,
      overlays: config.evaluation.overlays,
      // The validation loss computes the loss's maps on the validation windows, with the loader's generators.
      maps: loss.requiredMaps.map((m) => ctx.registry.createMapGenerator(m.map, { ...m.options })),
    },
    ...(threads > 1 ? { dataParallel: { threads, ...lossSpec(run.loss, options.plugins ?? []) } } : {}),
    ...(options.stop ? { stop: options.stop } : {}),
    ...(config.training.plateau ? { plateau: config.training.plateau } : {}),
    clock: ctx.clock,
    onEvent: (event) => options.onEvent?.(run.name, event),
  });
  model.dispose();
  return {
    name: run.name,
    lossName: run.lossName,
    seed: run.seed,
    ...(run.fold !== undefined ? { fold: run.fold } : {}),
    outDir: run.dir,
    result,
  };
}

export async function runPipeline(file: string, options: RunPipelineOptions = {}): Promise<PipelineResult> {
  const config = loadPipeline(file, options.set ?? []);
  return runPipelineConfig(config, { ...options, configFile: file });
}

export async function runPipelineConfig(
  config: PipelineConfig,
  options: RunPipelineOptions & { configFile?: string } = {},
): Promise<PipelineResult> {
  const ctx = await openPipeline(config, options);
  const { logger, backend, backendInfo } = ctx;
  const outDir = pipelineOutDir(config, options.out);
  mkdirSync(outDir, { recursive: true });
  const plan = planPipelineRuns(config, outDir);
  if (config.sweep && typeof options.resume === 'string') {
    const message =
      '--resume-from names one checkpoint, and this pipeline is a sweep: use --resume to continue every run';
    throw new RwsegError('INVALID_OPTIONS', message, { option: 'resume-from' });
  }
  // Before any data is read: a run folder that would be overwritten, or a resume that does not fit, stops here.
  const modes = plan.map((p) => runFolderMode(ctx, p));
  await dataOf(ctx, plan[0]!);
  // Validate every loss before the first epoch: a typo in the last sweep entry should not cost a night.
  const losses = plan.map((p) => buildLoss(ctx.registry, p.loss, p.lossPath));

  const runs: PipelineRun[] = [];
  const progress = runProgress(plan.length);
  for (const [i, p] of plan.entries()) {
    if (plan.length > 1) logger.info(progress.starting(i));
    const started = Date.now();
    const run = await trainPlannedRun(ctx, p, modes[i]!, losses[i]!);
    progress.finished((Date.now() - started) / 1000);
    runs.push(run);
    if (run.result.stopped) {
      logger.warn(
        `run ${run.name} stopped at epoch ${run.result.stopped.epoch}, step ${run.result.stopped.iteration}: --resume continues it from ${run.result.stopped.checkpoint}`,
      );
      return { name: config.name, outDir, backend, backendInfo, runs, stopped: run.name };
    }
  }

  const comparison = config.sweep ? compareLosses(runs) : undefined;
  const tests = config.sweep ? pairedTests(runs, { reference: config.sweep.reference }) : undefined;
  if (comparison) writeComparison(outDir, comparison, tests);
  const exported = config.export.onnx ? await exportRuns(config, runs, logger) : runs;
  return { name: config.name, outDir, backend, backendInfo, runs: exported, comparison, pairedTests: tests };
}

/**
 * Runs the planned run number `index` of a pipeline exactly as runPipelineConfig runs it within the sweep (its
 * export step included), without the others and without the comparison: what a cluster task calls.
 */
export async function runPlannedTask(
  config: PipelineConfig,
  index: number,
  options: RunPipelineOptions & { configFile?: string } = {},
): Promise<{ backend: BackendName; run: PipelineRun }> {
  const outDir = pipelineOutDir(config, options.out);
  const plan = planPipelineRuns(config, outDir);
  const p = plan[index];
  if (!p)
    throw new RwsegError(
      'INVALID_OPTIONS',
      `task ${index} is out of range: the sweep has ${plan.length} task(s), 0..${plan.length - 1}`,
      { option: 'task' },
    );
  const ctx = await openPipeline(config, options);
  const mode = runFolderMode(ctx, p);
  const loss = buildLoss(ctx.registry, p.loss, p.lossPath);
  const run = await trainPlannedRun(ctx, p, mode, loss);
  if (run.result.stopped || !config.export.onnx) return { backend: ctx.backend, run };
  const [exported] = await exportRuns(config, [run], ctx.logger);
  return { backend: ctx.backend, run: exported! };
}

/** "run k of N" lines with an ETA from the mean time of the runs finished so far. */
export function runProgress(total: number, done: { count: number; seconds: number } = { count: 0, seconds: 0 }) {
  let count = done.count;
  let seconds = done.seconds;
  return {
    starting(index: number): string {
      const left = total - index;
      const eta =
        count > 0
          ? `, ETA ${formatDuration((seconds / count) * left)} (${formatDuration(seconds / count)} per run)`
          : '';
      return `run ${index + 1} of ${total}${eta}`;
    },
    finished(runSeconds: number) {
      count += 1;
      seconds += runSeconds;
    },
  };
}

/**
 * The export step: each run as `rwseg export` would write it, <run>/model.onnx + <run>/rwseg.json, or with
 * `export.format: triton` a model repository in <run>/model_repository. The run folder is the pipeline's own
 * output (its policy was applied before training), so an earlier export there is replaced.
 */
async function exportRuns(
  config: PipelineConfig,
  runs: readonly PipelineRun[],
  logger: Logger,
): Promise<PipelineRun[]> {
  // The parity reference is TF.js on the exact cpu backend, whatever backend trained the model.
  await useBackend('cpu', { logger: silentLogger });
  const out: PipelineRun[] = [];
  for (const run of runs) {
    const format = config.export.format;
    const target = format === 'triton' ? path.join(run.outDir, 'model_repository') : run.outDir;
    const { name, tolerance } = config.export;
    const exported = await exportRun(run.outDir, target, { format, name, tolerance, force: true, logger });
    out.push({ ...run, export: exported });
  }
  return out;
}

/** The dataset's class names, or background, class 1, ... when it names a different number of classes. */
function classNamesOf(names: readonly string[], numClasses: number): readonly string[] {
  if (names.length === numClasses) return names;
  return Array.from({ length: numClasses }, (_, k) => (k === 0 ? 'background' : `class ${k}`));
}

function lossLabel(loss: PipelineConfig['loss']): string {
  if (typeof loss === 'string') return loss;
  if ('loss' in loss) return loss.loss;
  return loss.name ?? `combine(${loss.combine.map(lossLabel).join('+')})`;
}
