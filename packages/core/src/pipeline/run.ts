/**
 * Runs a pipeline: data, model, loss and training as the YAML says, once, or over a sweep of losses x seeds
 * with a comparison table (comparison.ts: per loss and class, Dice, HD95 and HD mean +- sd over seeds), then the
 * export step (`export:`, export/run-export.ts) for every run. The CLI and other callers are thin wrappers.
 *
 * Output layout: <out>/ holds the run (see training/trainer.ts); with a sweep, <out>/<loss name>/seed-<n>/ per
 * run and <out>/comparison.md + comparison.csv. A folder that holds a run is continued only with `resume` (same
 * settings) and replaced only with `force` (artefact/run-folder.ts prepareRunFolder).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describeBackend, useBackend, type BackendDescription, type BackendName } from '../backend.js';
import type { Container } from 'inversify';
import type { BackendSelection } from '../services/backend-selection.js';
import type { Clock } from '../services/clock.js';
import { createServices, resolveRegistry } from '../services/container.js';
import { TOKENS } from '../services/tokens.js';
import { buildLoss } from '../losses/combine.js';
import { lossSpec } from '../losses/loss-spec.js';
import { silentLogger, type Logger } from '../logger.js';
import { RwsegError } from '../errors.js';
import { checkTrainingKernels } from '../backends/check-training-kernels.js';
import { buildUNet, unetConfigSchema } from '../models/unet.js';
import { prepareRunFolder } from '../artefact/run-folder.js';
import { exportRun, type RunExport } from '../export/run-export.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { createLoader } from '../data/loader.js';
import { deriveSeed } from '../data/random.js';
import { checkThreads, resolveThreads } from '../training/data-parallel.js';
import { train, type TrainingEvent, type TrainingResult } from '../training/trainer.js';
import { computeSegmentationMetrics } from '../metrics/segmentation-metrics.js';
import type { MetricsFunction } from '../training/validation.js';
import { compareLosses, writeComparison, type LossComparison } from './comparison.js';
import { loadDataset } from './datasets.js';
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
}

export interface PipelineRun {
  readonly name: string;
  readonly lossName: string;
  readonly seed: number;
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
}

export async function runPipeline(file: string, options: RunPipelineOptions = {}): Promise<PipelineResult> {
  const config = loadPipeline(file, options.set ?? []);
  return runPipelineConfig(config, { ...options, configFile: file });
}

export async function runPipelineConfig(config: PipelineConfig, options: RunPipelineOptions & { configFile?: string } = {}): Promise<PipelineResult> {
  const services = options.services ?? createServices({ logger: options.logger ?? silentLogger });
  const logger = services.get<Logger>(TOKENS.Logger);
  const clock = services.get<Clock>(TOKENS.Clock);
  const backend = await services.get<BackendSelection>(TOKENS.Backend).use(options.backend ?? config.backend);
  const backendInfo = describeBackend() ?? undefined;
  const registry = options.registry ?? (await resolveRegistry(services));
  const metrics = options.metrics ?? computeSegmentationMetrics;
  const outDir = path.resolve(options.out ?? config.output ?? path.join('runs', config.name));
  mkdirSync(outDir, { recursive: true });
  const patch = config.preprocessing.patch;

  const plan = config.sweep
    ? config.sweep.losses.flatMap((l) => (config.sweep!.seeds ?? [config.seed]).map((seed) => ({ lossName: l.name, loss: l.loss, seed, dir: path.join(outDir, l.name, `seed-${seed}`) })))
    : [{ lossName: lossLabel(config.loss), loss: config.loss, seed: config.seed, dir: outDir }];
  if (config.sweep && typeof options.resume === 'string') {
    const message = '--resume-from names one checkpoint, and this pipeline is a sweep: use --resume to continue every run';
    throw new RwsegError('INVALID_OPTIONS', message, { option: 'resume-from' });
  }
  // The resolved config each run saves as config.json (itself a pipeline that reproduces the run).
  const runConfigOf = (p: (typeof plan)[number]) => ({
    ...config,
    sweep: undefined,
    loss: p.loss,
    seed: p.seed,
    backend,
    backendInfo,
    configFile: options.configFile,
  });
  // Before any data is read: a run folder that would be overwritten, or a resume that does not fit, stops here.
  const modes = plan.map((p) => {
    const resolved = parsePipeline(JSON.parse(JSON.stringify(runConfigOf(p))), 'the resolved pipeline');
    return prepareRunFolder(p.dir, resolved, { resume: options.resume, force: options.force, logger });
  });
  const data = await loadDataset(config);

  // Validate every loss before the first epoch: a typo in the last sweep entry should not cost a night.
  const losses = plan.map((p, i) => buildLoss(registry, p.loss, config.sweep ? `sweep.losses[${Math.floor(i / (config.sweep.seeds?.length ?? 1))}].loss` : 'loss'));

  const threads = resolveThreads(config.training.threads, backend, config.training.batchSize);
  checkThreads(threads, backend, config.training.batchSize);
  if (config.training.threads === 'auto') {
    logger.info(`training threads: ${threads} (auto: ${backend === 'wasm' ? 'CPU cores, at most the batch size' : `1 on ${backend}, which does not gain from worker threads`})`);
  }

  const firstImage = data.validation[0]?.image;
  const runs: PipelineRun[] = [];
  for (const [i, p] of plan.entries()) {
    const loss = losses[i]!;
    const heads = config.model.deepSupervision ?? 1;
    const unet = unetConfigSchema.parse({
      ...config.model,
      dims: patch.length as 2 | 3,
      inputChannels: data.channels,
      numClasses: data.numClasses,
      seed: deriveSeed(p.seed, 'init'),
    });
    const model = buildUNet(unet, patch);
    // A kernel the backend lacks should fail now, naming it, not at the first backward pass (once per pipeline:
    // every run of a sweep has the same layers). The check reads gradients synchronously, which webgpu cannot do
    // in Node (no OffscreenCanvas); its kernel set is complete and checked against cpu by the lavapipe tests.
    if (i === 0 && backend !== 'webgpu') {
      const check = checkTrainingKernels(model);
      if (check.unchecked.length > 0) logger.debug(`kernel check on ${check.backend}: no probe for ${check.unchecked.join(', ')}`);
    }
    const name = config.sweep ? `${p.lossName}/seed-${p.seed}` : config.name;
    logger.info(`run ${name}: loss ${loss.name}, ${data.train.length} training and ${data.validation.length} validation cases, patch [${patch.join(', ')}], backend ${backend}${threads > 1 ? `, ${threads} compute threads` : ''}`);
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
      seed: p.seed,
      outDir: p.dir,
      resume: modes[i] === 'resume' ? options.resume : false,
      config: runConfigOf(p),
      artefact: {
        config: runConfigOf(p),
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
        metrics,
        overlays: config.evaluation.overlays,
      },
      ...(threads > 1 ? { dataParallel: { threads, ...lossSpec(p.loss, options.plugins ?? []) } } : {}),
      clock,
      onEvent: (event) => options.onEvent?.(name, event),
    });
    model.dispose();
    runs.push({ name, lossName: p.lossName, seed: p.seed, outDir: p.dir, result });
  }

  const comparison = config.sweep ? compareLosses(runs) : undefined;
  if (comparison) writeComparison(outDir, comparison);
  const exported = config.export.onnx ? await exportRuns(config, runs, logger) : runs;
  return { name: config.name, outDir, backend, backendInfo, runs: exported, comparison };
}

/**
 * The export step: each run as `rwseg export` would write it, <run>/model.onnx + <run>/rwseg.json, or with
 * `export.format: triton` a model repository in <run>/model_repository. The run folder is the pipeline's own
 * output (its policy was applied before training), so an earlier export there is replaced.
 */
async function exportRuns(config: PipelineConfig, runs: readonly PipelineRun[], logger: Logger): Promise<PipelineRun[]> {
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

