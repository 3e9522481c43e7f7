/**
 * The training loop: epochs x iterations of AdamW steps on batches from a BatchSource, the loss fed the epoch,
 * deep supervision over the model's heads, gradient-norm clipping, validation every N epochs with sliding-window
 * inference, and results that survive a kill -9: atomic checkpoints (optimizer state and RNG included), a JSONL
 * history, plots, and the resolved config, all in one output folder per run.
 *
 * Output folder:
 *   config.json             resolved configuration (when given)
 *   history.jsonl           one line per completed epoch (validationLoss: the training loss on the validation
 *                           cases, validation-loss.ts, on epochs that validated)
 *   checkpoints/epoch-NNNN.ckpt   last two epochs; best.ckpt: best validation Dice; stopped.ckpt: a run stopped
 *                           mid-epoch by `stop` (removed once that epoch completes)
 *   model/                  final model (best by validation Dice when validated, else last), TF.js layout, and
 *                           its artifact rwseg.json (artifact/schema.ts) with the metrics of those weights
 *   plots/loss.svg, plots/validation-dice.svg, plots/validation-hd95.svg, plots/overlays/<case>.png
 *   summary.json            schema rwseg-run-summary/2 (artifact/run-folder.ts): the validation of model/'s
 *                           weights, best epoch, stability figure
 *
 * Epochs are 1-based in files, events and messages (epoch 1 is the first completed one, checkpoint epoch-0001);
 * the loop index, `openData(epoch)` and the loss's `context.epoch` are 0-based indices.
 */
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Batch, BatchSource } from '../data/batch.js';
import { isRwsegError, RwsegError } from '../errors.js';
import type { Loss } from '../plugins/api.js';
import type { BoundMapGenerator } from '../plugins/registry.js';
import { systemClock, type Clock } from '../services/clock.js';
import { deepSupervisionWeights } from '../losses/deep-supervision.js';
import { overlayFigurePng } from '../plots/overlay.js';
import { trainingCurveSvgs } from '../plots/training-curves.js';
import { tf } from '../tf.js';
import { writeFileAtomic } from '../io/files.js';
import { artifactMetrics, buildModelArtifact, type ArtifactFacts } from '../artifact/build.js';
import { readRunHistory, RUN_SUMMARY_SCHEMA } from '../artifact/run-folder.js';
import {
  checkpointName,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContent,
} from './checkpoint.js';
import { checkCheckpointFitsModel } from './checkpoint-fit.js';
import { saveModelDir } from './model-files.js';
import { GradientWorkers, type DataParallelOptions } from './data-parallel.js';
import { lossAndGradients, type LossAndGradients } from './gradients.js';
import { AdamW, clipByGlobalNorm } from './optimizer.js';
import { deriveSeed } from '../data/random.js';
import { learningRateAt, type LrSchedule } from './schedules.js';
import { plateauState, type PlateauRule } from './plateau.js';
import { stabilityFigure, type StabilityFigure } from './stability.js';
import { validate, type MetricsFunction, type ValidationCase, type ValidationResult } from './validation.js';
import { ValidationLoss } from './validation-loss.js';

export interface TrainingOptions {
  readonly model: tfl.LayersModel;
  readonly loss: Loss;
  /** Opens the batch stream of one epoch; `seed` is derived from the run seed and the epoch, so a resumed run sees the same batches. */
  readonly openData: (epoch: number, seed: number) => BatchSource | Promise<BatchSource>;
  readonly epochs: number;
  readonly iterationsPerEpoch: number;
  readonly learningRate: number;
  readonly schedule?: LrSchedule;
  readonly weightDecay?: number;
  /** Maximum global gradient norm (nnU-Net: 12); 0 disables clipping. */
  readonly clipNorm?: number;
  /** Weights of the deep-supervision heads, full resolution first (default nnU-Net's: 1/2^s, the coarsest 0, normalized). */
  readonly deepSupervisionWeights?: readonly number[];
  readonly seed: number;
  readonly outDir: string;
  /** Resume from the newest checkpoint in outDir (true) or from this checkpoint file. */
  readonly resume?: boolean | string;
  readonly validation?: {
    readonly cases: readonly ValidationCase[];
    readonly every: number;
    readonly patch: readonly number[];
    readonly overlap?: number;
    /** A 2D patch on 3D cases: validation predicts slice by slice along this axis (validation.ts, the inference engine). */
    readonly sliceAxis?: number;
    readonly numClasses: number;
    readonly metrics: MetricsFunction;
    /** How many cases get a PNG overlay (default 3). */
    readonly overlays?: number;
    /**
     * Generators of the loss's maps (the registry's `createMapGenerator` for each of `loss.requiredMaps`), for the
     * validation loss. A loss that needs maps gets no validation loss without them; one that needs none always does.
     */
    readonly maps?: readonly BoundMapGenerator[];
  };
  /** The resolved configuration, saved as config.json. */
  readonly config?: unknown;
  /**
   * What the model artifact (model/rwseg.json) records besides the metrics, which the trainer adds for the
   * weights it saves. Absent: model/ holds the TF.js files only (library use without a pipeline).
   */
  readonly artifact?: Omit<ArtifactFacts, 'metrics'>;
  /**
   * Data-parallel training over worker threads (training/data-parallel.ts; docs/training.md): each step's batch is
   * split over `threads` compute threads. Absent or threads 1: the training thread alone.
   */
  readonly dataParallel?: DataParallelOptions;
  /** Where epoch durations are read from (default the system clock; the pipeline passes its container's). */
  readonly clock?: Clock;
  readonly onEvent?: (event: TrainingEvent) => void;
  /**
   * A stop request (an AbortSignal fits), checked at every step boundary: once `aborted`, the trainer finishes the
   * step, writes a checkpoint (checkpoints/stopped.ckpt mid-epoch, the epoch's own at an epoch's end) and returns
   * with `stopped` set, without model/ or summary.json. Resuming continues at the next step and ends exactly
   * where an uninterrupted run ends (the epoch's loader is reopened with its seed and the batches done are skipped).
   */
  readonly stop?: { readonly aborted: boolean; readonly reason?: unknown };
  /**
   * End the run before `epochs` once validation Dice has plateaued (training/plateau.ts); the summary records the
   * epoch and the rule. Needs `validation`.
   */
  readonly plateau?: PlateauRule;
}

/** The mid-epoch checkpoint a stop request writes. */
export const STOPPED_CHECKPOINT = 'stopped.ckpt';

export type TrainingEvent =
  | { type: 'start'; startEpoch: number; epochs: number; iterationsPerEpoch: number; resumedFrom?: string }
  | { type: 'iteration'; epoch: number; iteration: number; loss: number; seconds: number }
  /** Validation finished case `case` (0-based) of `cases`, whose id is `id`. */
  | { type: 'validation'; epoch: number; case: number; cases: number; id: string }
  | { type: 'epoch'; entry: HistoryEntry };

export interface HistoryEntry {
  /** 1-based: the epoch this line completes. */
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  readonly seconds: number;
  /** The training loss on the validation cases (validation-loss.ts), on epochs that validated. */
  readonly validationLoss?: number;
  readonly validation?: { meanDice: number; classes: ValidationResult['classes'] };
}

export interface TrainingResult {
  readonly outDir: string;
  readonly epochsRun: number;
  readonly startEpoch: number;
  readonly history: readonly HistoryEntry[];
  /** 1-based epoch of the best validation mean Dice. */
  readonly bestEpoch?: number;
  readonly bestDice?: number;
  /** 1-based epoch whose weights model/ holds (the best one when validated, else the last). */
  readonly modelEpoch?: number;
  /** Validation of the weights model/ holds: what the summary and the console report. */
  readonly finalValidation?: ValidationResult;
  /** Validation of the last epoch's weights, when model/ holds an earlier (better) epoch. */
  readonly lastEpochValidation?: ValidationResult;
  readonly stability?: StabilityFigure;
  /** Set when the plateau rule ended the run before `epochs`: the last epoch trained, and the rule. */
  readonly plateau?: { readonly epoch: number } & PlateauRule;
  /**
   * Set when `stop` ended the run early: the 1-based epoch in progress, the steps of it done (0: stopped at the
   * epoch's start, i.e. after epoch - 1 completed), and the checkpoint that resumes it.
   */
  readonly stopped?: {
    readonly epoch: number;
    readonly iteration: number;
    readonly checkpoint: string;
    readonly reason?: string;
  };
}

export async function train(options: TrainingOptions): Promise<TrainingResult> {
  // Data-parallel workers are terminated however the run ends (an error included), so the process can exit.
  const openWorkers: GradientWorkers[] = [];
  try {
    return await runTraining(options, openWorkers);
  } catch (error) {
    throw withCheckpointNote(error, path.join(options.outDir, 'checkpoints'));
  } finally {
    await Promise.all(openWorkers.map((w) => w.close()));
  }
}

/** A dead worker thread stops the run: say which checkpoint survives, so the user knows --resume loses little. */
function withCheckpointNote(error: unknown, checkpointDir: string): unknown {
  if (!isRwsegError(error, 'WORKER_FAILED')) return error;
  const latest = listCheckpoints(checkpointDir)[0];
  const note = latest
    ? `training stopped; the last checkpoint ${latest} is intact and --resume continues from it`
    : 'training stopped before its first checkpoint';
  const details = { ...error.details, ...(latest ? { checkpoint: latest } : {}) };
  return new RwsegError(error.code, `${error.message}; ${note}`, details, { cause: error });
}

async function runTraining(options: TrainingOptions, openWorkers: GradientWorkers[]): Promise<TrainingResult> {
  const { model, loss, outDir } = options;
  const checkpointDir = path.join(outDir, 'checkpoints');
  const plotDir = path.join(outDir, 'plots');
  mkdirSync(checkpointDir, { recursive: true });
  mkdirSync(path.join(plotDir, 'overlays'), { recursive: true });
  if (options.config !== undefined)
    writeFileAtomic(path.join(outDir, 'config.json'), JSON.stringify(options.config, null, 2));

  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new AdamW(variables, { weightDecay: options.weightDecay ?? 0 });
  const schedule = options.schedule ?? { name: 'poly', power: 0.9 };
  const clipNorm = options.clipNorm ?? 12;
  const heads = model.outputs.length;
  const clock = options.clock ?? systemClock;
  const dsWeights = options.deepSupervisionWeights ?? deepSupervisionWeights(heads);
  if (dsWeights.length !== heads) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `deepSupervisionWeights has ${dsWeights.length} entries but the model has ${heads} output head(s)`,
      {},
    );
  }

  let startEpoch = 0;
  let best: { epoch: number; dice: number } | undefined;
  let resumedFrom: string | undefined;
  // Mid-epoch state of a stopped run: steps done in epoch `startEpoch`, and their loss and norm sums.
  let resumeStep = { iteration: 0, lossSum: 0, normSum: 0, seconds: 0 };
  const historyFile = path.join(outDir, 'history.jsonl');
  const stoppedFile = path.join(checkpointDir, STOPPED_CHECKPOINT);
  if (options.resume) {
    const found =
      typeof options.resume === 'string'
        ? { file: options.resume, content: readCheckpoint(options.resume) }
        : newestResumePoint(checkpointDir, stoppedFile);
    if (found) {
      const meta = found.content.meta;
      if (typeof meta.iteration === 'number') {
        resumeStep = {
          iteration: meta.iteration,
          lossSum: Number(meta.lossSum),
          normSum: Number(meta.normSum),
          seconds: Number(meta.seconds ?? 0),
        };
      }
      restoreCheckpoint(found.content, found.file, model, optimizer);
      startEpoch = found.content.epoch;
      best = found.content.meta.best as typeof best;
      // Checkpoints of rwseg 0.1 recorded the best epoch 0-based.
      if (best && found.content.meta.epochBase !== 1) best = { ...best, epoch: best.epoch + 1 };
      resumedFrom = found.file;
    }
  }
  // History beyond the checkpoint belongs to an epoch that is being redone.
  const history = readHistory(historyFile).filter((e) => e.epoch <= startEpoch);
  writeFileAtomic(historyFile, history.map((e) => JSON.stringify(e) + '\n').join(''));
  options.onEvent?.({
    type: 'start',
    startEpoch,
    epochs: options.epochs,
    iterationsPerEpoch: options.iterationsPerEpoch,
    resumedFrom,
  });

  // Started after the checkpoint restore: workers get the current weights with every step.
  const workers =
    (options.dataParallel?.threads ?? 1) > 1 && startEpoch < options.epochs
      ? await GradientWorkers.start(model, dsWeights, options.dataParallel!, loss)
      : undefined;
  if (workers) openWorkers.push(workers);
  const gradients: StepContext['gradients'] = workers
    ? (batch, ctx) => workers.lossAndGradients(model, loss, batch, ctx)
    : (batch, ctx) => lossAndGradients(model, loss, batch, ctx);
  let lastValidation: ValidationResult | undefined;
  let bestValidation: ValidationResult | undefined;
  const validationLoss = validationLossOf(options);
  // The last epoch this invocation trains: `epochs`, or earlier where the plateau rule ends the run (a resumed
  // run whose history already reached it trains no further).
  const plateau = options.plateau && options.validation ? options.plateau : undefined;
  let endEpoch =
    plateau && plateauState(history, plateau).reached ? Math.min(startEpoch, options.epochs) : options.epochs;
  for (let epoch = startEpoch; epoch < endEpoch; epoch++) {
    const resumed = epoch === startEpoch ? resumeStep : { iteration: 0, lossSum: 0, normSum: 0, seconds: 0 };
    const started = clock.now() - resumed.seconds * 1000;
    const lr = learningRateAt(schedule, options.learningRate, epoch, options.epochs);
    const source = await options.openData(epoch, deriveSeed(options.seed, 'data', epoch));
    let lossSum = resumed.lossSum;
    let normSum = resumed.normSum;
    try {
      // The epoch's loader draws the same batches again: skipping those already trained on keeps the run exact.
      for (let skipped = 0; skipped < resumed.iteration; skipped++) await source.next();
      for (let iteration = resumed.iteration; iteration < options.iterationsPerEpoch; iteration++) {
        const batch = await source.next();
        const step = await trainStep(loss, optimizer, batch, {
          epoch,
          iteration,
          lr,
          clipNorm,
          dsWeights,
          variables,
          gradients,
        });
        lossSum += step.loss;
        normSum += step.gradNorm;
        const seconds = (clock.now() - started) / 1000;
        options.onEvent?.({ type: 'iteration', epoch: epoch + 1, iteration, loss: step.loss, seconds });
        // A step can run on microtasks alone (cpu backend, in-thread data): let signal handlers run before the check.
        if (options.stop) await new Promise((resolve) => setImmediate(resolve));
        if (options.stop?.aborted && iteration + 1 < options.iterationsPerEpoch) {
          const state = { best, lr, epochBase: 1, iteration: iteration + 1, lossSum, normSum, seconds };
          writeCheckpoint(stoppedFile, await checkpointContent(epoch, model, optimizer, state));
          optimizer.dispose();
          return stoppedResult(options, startEpoch, history, {
            epoch: epoch + 1,
            iteration: iteration + 1,
            checkpoint: stoppedFile,
          });
        }
      }
    } finally {
      await source.close();
    }

    let validation: HistoryEntry['validation'];
    let valLoss: number | undefined;
    let validatedNow: ValidationResult | undefined;
    const v = options.validation;
    if (v && ((epoch + 1) % v.every === 0 || epoch === options.epochs - 1)) {
      const { result, predictions } = await validate(model, v.cases, {
        patch: v.patch,
        overlap: v.overlap,
        sliceAxis: v.sliceAxis,
        numClasses: v.numClasses,
        metrics: v.metrics,
        onCase: validationProgress(options, epoch + 1),
        ...(validationLoss ? { loss: { loss: validationLoss, epoch } } : {}),
      });
      lastValidation = result;
      validatedNow = result;
      validation = { meanDice: result.meanDice, classes: result.classes };
      valLoss = result.loss;
      predictions.slice(0, v.overlays ?? 3).forEach((p, i) => {
        const c = v.cases[i]!;
        // The case's own Dice per class in the key, the dataset's class names (plots/overlay.ts).
        const dice: number[] = [];
        for (const m of result.cases[i]?.metrics ?? []) dice[m.classIndex] = m.dice;
        const { png } = overlayFigurePng({
          image: c.image.data,
          channels: c.image.channels,
          prediction: p.labels,
          reference: c.labels.data,
          shape: p.shape,
          title: `${p.id}, epoch ${epoch + 1}`,
          classNames: options.artifact?.classNames,
          dice,
        });
        writeFileAtomic(path.join(plotDir, 'overlays', `${safeName(p.id)}.png`), png);
      });
    }

    const entry: HistoryEntry = {
      epoch: epoch + 1,
      loss: lossSum / options.iterationsPerEpoch,
      lr,
      gradNorm: normSum / options.iterationsPerEpoch,
      seconds: (clock.now() - started) / 1000,
      ...(valLoss !== undefined ? { validationLoss: valLoss } : {}),
      ...(validation ? { validation } : {}),
    };
    history.push(entry);
    const improved =
      validation !== undefined && Number.isFinite(validation.meanDice) && (!best || validation.meanDice > best.dice);
    if (improved) {
      best = { epoch: epoch + 1, dice: validation!.meanDice };
      bestValidation = validatedNow;
    }

    // The history line goes first: killed before the checkpoint lands, the run resumes from the previous one
    // and drops this line as an epoch being redone; the other order would leave a hole in the history.
    appendFileSync(historyFile, JSON.stringify(entry) + '\n');
    const content = await checkpointContent(epoch + 1, model, optimizer, { best, lr, epochBase: 1 });
    writeCheckpoint(path.join(checkpointDir, checkpointName(epoch + 1)), content);
    if (improved) writeCheckpoint(path.join(checkpointDir, 'best.ckpt'), content);
    for (const old of listCheckpoints(checkpointDir).slice(2)) rmSync(old, { force: true });
    rmSync(stoppedFile, { force: true });
    writePlots(plotDir, history, options.artifact?.classNames);
    options.onEvent?.({ type: 'epoch', entry });
    await pauseForKillTest(outDir, epoch + 1);
    if (plateau && plateauState(history, plateau).reached) {
      endEpoch = epoch + 1;
      break;
    }
    if (options.stop?.aborted && epoch + 1 < options.epochs) {
      optimizer.dispose();
      const checkpoint = path.join(checkpointDir, checkpointName(epoch + 1));
      return stoppedResult(options, startEpoch, history, { epoch: epoch + 2, iteration: 0, checkpoint });
    }
  }

  // Resumed after the last epoch's checkpoint (a finished run, or one killed before its summary was written):
  // the restored weights are the final epoch's, so validate them once rather than report no final validation.
  const v = options.validation;
  const lastEpoch = Math.max(startEpoch, endEpoch);
  // `weightsEpoch`: 1-based, the epoch whose weights the model holds (its schedule weights the validation loss).
  const validateNow = async (weightsEpoch: number) => {
    const { patch, overlap, sliceAxis, numClasses, metrics } = v!;
    const onCase = validationProgress(options, lastEpoch);
    const loss = validationLoss ? { loss: { loss: validationLoss, epoch: weightsEpoch - 1 } } : {};
    const settings = { patch, overlap, sliceAxis, numClasses, metrics, onCase, ...loss };
    return (await validate(model, v!.cases, settings)).result;
  };
  if (lastValidation === undefined && startEpoch >= endEpoch && v) lastValidation = await validateNow(lastEpoch);

  // The model a user gets is the best validated one when there is one; the summary reports that model's metrics
  // (validated again when the best epoch was before this invocation, e.g. after a resume).
  const bestFile = path.join(checkpointDir, 'best.ckpt');
  const holdsBest = best !== undefined && best.epoch !== lastEpoch && existsSync(bestFile);
  if (holdsBest) restoreCheckpoint(readCheckpoint(bestFile), bestFile, model);
  const modelEpoch = holdsBest ? best!.epoch : lastEpoch;
  const modelValidation = !holdsBest
    ? lastValidation
    : (bestValidation ?? (v ? await validateNow(best!.epoch) : undefined));
  const selection = best?.epoch === modelEpoch ? 'best-validation-dice' : 'last-epoch';
  const metrics = artifactMetrics(modelEpoch, modelValidation, selection);
  const artifact = options.artifact && buildModelArtifact({ ...options.artifact, metrics });
  await saveModelDir(model, path.join(outDir, 'model'), { bestEpoch: best?.epoch, bestDice: best?.dice }, artifact);
  const diceCurve = history.filter((e) => e.validation).map((e) => e.validation!.meanDice);
  const stability = diceCurve.length > 0 ? stabilityFigure(diceCurve) : undefined;
  const result: TrainingResult = {
    outDir,
    startEpoch,
    epochsRun: endEpoch - startEpoch,
    history,
    bestEpoch: best?.epoch,
    bestDice: best?.dice,
    modelEpoch,
    finalValidation: modelValidation,
    ...(holdsBest && lastValidation ? { lastEpochValidation: lastValidation } : {}),
    stability,
    ...(plateau && endEpoch < options.epochs ? { plateau: { epoch: lastEpoch, ...plateau } } : {}),
  };
  const summary = {
    schema: RUN_SUMMARY_SCHEMA,
    ...result,
    epochs: options.epochs,
    epochsRun: Math.max(0, result.epochsRun),
    history: undefined,
    bestEpoch: best?.epoch ?? null,
    bestDice: best?.dice ?? null,
    finalValidation: modelValidation ?? null,
    stability: stability ?? null,
  };
  writeFileAtomic(path.join(outDir, 'summary.json'), JSON.stringify(summary, jsonNumbers, 2));
  optimizer.dispose();
  return result;
}

type ValidationCallback = (index: number, id: string) => void;

/** What a stopped run returns: the history so far, no model or summary (the run is not finished). */
function stoppedResult(
  options: TrainingOptions,
  startEpoch: number,
  history: readonly HistoryEntry[],
  at: { epoch: number; iteration: number; checkpoint: string },
): TrainingResult {
  const reason = options.stop?.reason;
  const stopped = { ...at, ...(reason !== undefined ? { reason: String(reason) } : {}) };
  return { outDir: options.outDir, startEpoch, epochsRun: history.length - startEpoch, history, stopped };
}

/**
 * The checkpoint --resume continues from: a stopped run's mid-epoch checkpoint when it is newer than the newest
 * epoch checkpoint (it records the completed epochs before the steps it adds), else the newest epoch checkpoint.
 */
function newestResumePoint(
  checkpointDir: string,
  stoppedFile: string,
): { file: string; content: CheckpointContent } | undefined {
  const latest = latestCheckpoint(checkpointDir);
  if (!existsSync(stoppedFile)) return latest;
  const stopped = readCheckpoint(stoppedFile);
  return !latest || stopped.epoch >= latest.content.epoch ? { file: stoppedFile, content: stopped } : latest;
}

/**
 * The validation loss, where it can be computed: a loss that needs no maps always, one that needs maps when the
 * caller gave their generators (the pipeline does; a library caller may not).
 */
function validationLossOf(options: TrainingOptions): ValidationLoss | undefined {
  const v = options.validation;
  if (!v) return undefined;
  const given = new Set((v.maps ?? []).map((m) => m.key));
  if (!options.loss.requiredMaps.every((m) => given.has(m.key))) return undefined;
  return new ValidationLoss({ loss: options.loss, maps: v.maps ?? [], numClasses: v.numClasses });
}

/** Forwards validate()'s per-case callback as 'validation' events (progress.ts prints them). */
function validationProgress(options: TrainingOptions, epoch: number): ValidationCallback | undefined {
  const onEvent = options.onEvent;
  const cases = options.validation?.cases.length ?? 0;
  return onEvent && ((index, id) => onEvent({ type: 'validation', epoch, case: index, cases, id }));
}

export interface StepContext {
  epoch: number;
  iteration: number;
  lr: number;
  clipNorm: number;
  dsWeights: readonly number[];
  variables: readonly tf.Variable[];
  /** The batch's loss and gradients: `lossAndGradients` on the training thread, or over data-parallel workers. */
  gradients: (
    batch: Batch,
    ctx: { epoch: number; dsWeights: readonly number[]; variables: readonly tf.Variable[] },
  ) => Promise<LossAndGradients>;
}

/** One optimizer step: loss and gradients of the batch, the non-finite checks, clipping, AdamW. */
export async function trainStep(
  loss: Loss,
  optimizer: AdamW,
  batch: Batch,
  ctx: StepContext,
): Promise<{ loss: number; gradNorm: number }> {
  const { value: lossValue, perScale, grads: gradList } = await ctx.gradients(batch, ctx);
  if (!Number.isFinite(lossValue)) {
    tf.dispose(gradList);
    throw nonFiniteLossError(loss, batch, ctx, lossValue, perScale);
  }
  const { grads: clipped, norm } =
    ctx.clipNorm > 0 ? await clipByGlobalNorm(gradList, ctx.clipNorm) : { grads: gradList, norm: Number.NaN };
  if (ctx.clipNorm > 0 && !Number.isFinite(norm)) {
    tf.dispose(gradList);
    throw new RwsegError(
      'NUMERICAL_ERROR',
      `gradients of loss '${loss.name}' are not finite (norm ${norm}) at epoch ${ctx.epoch + 1}, iteration ${ctx.iteration}; cases ${batch.caseIds.join(', ')}`,
      { epoch: ctx.epoch + 1 },
    );
  }
  optimizer.apply(clipped, ctx.lr);
  tf.dispose([...gradList, ...clipped]);
  return { loss: lossValue, gradNorm: norm };
}

/** Names the epoch, the loss, the scale and any map holding non-finite values: the usual culprit. */
function nonFiniteLossError(
  loss: Loss,
  batch: Batch,
  ctx: StepContext,
  value: number,
  perScale: readonly number[],
): RwsegError {
  const badMaps: string[] = [];
  batch.scales.forEach((s, i) => {
    for (const [key, map] of Object.entries(s.maps))
      if (map.some((x) => !Number.isFinite(x))) badMaps.push(i === 0 ? key : `${key} (scale ${i})`);
  });
  const badScales = perScale.map((v, s) => (Number.isFinite(v) ? -1 : s)).filter((s) => s >= 0);
  const requested = loss.requiredMaps.map((m) => m.key);
  const mapText = badMaps.length
    ? `; non-finite values in map(s) ${badMaps.join(', ')}`
    : requested.length
      ? `; its maps (${requested.join(', ')}) are finite, so the loss itself overflowed`
      : '; it uses no maps';
  return new RwsegError(
    'NUMERICAL_ERROR',
    `loss '${loss.name}' is ${value} at epoch ${ctx.epoch + 1}, iteration ${ctx.iteration} (output head(s) ${badScales.join(', ') || '?'})${mapText}; cases ${batch.caseIds.join(', ')}. Training stopped; the last checkpoint is intact.`,
    { epoch: ctx.epoch + 1, iteration: ctx.iteration, loss: loss.name, maps: badMaps, value },
  );
}

/**
 * TEST-ONLY hook for the kill -9 / resume tests: with RWSEG_TEST_PAUSE_AFTER_EPOCH=N in the environment, once the
 * checkpoint of epoch N is on disk (written atomically and fsynced) the run writes `<outDir>/test-paused-after-epoch-N`
 * and then waits forever, so the test's SIGKILL lands mid-run at a known point instead of racing the training.
 * Not a user feature: nothing else reads this variable.
 */
async function pauseForKillTest(outDir: string, epochsDone: number): Promise<void> {
  const pauseAt = process.env.RWSEG_TEST_PAUSE_AFTER_EPOCH;
  if (pauseAt === undefined || Number(pauseAt) !== epochsDone) return;
  writeFileAtomic(path.join(outDir, `test-paused-after-epoch-${epochsDone}`), String(process.pid));
  // A timer keeps the event loop (and the process) alive until the test kills it.
  await new Promise<never>(() => setInterval(() => {}, 60_000));
}

async function checkpointContent(
  epoch: number,
  model: tfl.LayersModel,
  optimizer: AdamW,
  meta: Record<string, unknown>,
): Promise<CheckpointContent> {
  const weights = await Promise.all(
    model.weights.map(async (w) => ({
      name: w.originalName,
      shape: w.shape as number[],
      data: (await w.read().data()) as Float32Array,
    })),
  );
  const state = optimizer.state();
  const moments = await Promise.all(
    state.tensors.map(async (t, i) => ({
      name: `optimizer/${i}`,
      shape: t.shape,
      data: (await t.data()) as Float32Array,
    })),
  );
  return {
    epoch,
    meta: { ...meta, optimizerStep: state.step, weightCount: weights.length },
    tensors: [...weights, ...moments],
  };
}

/** Loads weights (matched by order and checked by name and shape) and, when given, the optimizer state. */
function restoreCheckpoint(content: CheckpointContent, file: string, model: tfl.LayersModel, optimizer?: AdamW): void {
  const count = Number(content.meta.weightCount);
  const weights = content.tensors.slice(0, count);
  checkCheckpointFitsModel(weights, file, model);
  if (weights.length !== model.weights.length) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `checkpoint ${file} holds ${weights.length} weights but the model has ${model.weights.length}: it was written for another model configuration`,
      { file },
    );
  }
  model.weights.forEach((w, i) => {
    const saved = weights[i]!;
    if (saved.name !== w.originalName || saved.shape.join() !== w.shape.join()) {
      throw new RwsegError(
        'INVALID_CONFIG',
        `checkpoint ${file}: weight ${i} is ${saved.name} [${saved.shape}] but the model expects ${w.originalName} [${w.shape}]`,
        { file },
      );
    }
  });
  tf.tidy(() => model.weights.forEach((w, i) => w.write(tf.tensor(weights[i]!.data, [...weights[i]!.shape]))));
  if (optimizer) {
    const moments = content.tensors.slice(count).map((t) => tf.tensor(t.data, [...t.shape]));
    optimizer.restore(Number(content.meta.optimizerStep), moments);
    tf.dispose(moments);
  }
}

/** history.jsonl as HistoryEntry lines (artifact/run-folder.ts readRunHistory: the one reader). */
export function readHistory(file: string): HistoryEntry[] {
  return readRunHistory(file) as HistoryEntry[];
}

function writePlots(dir: string, history: readonly HistoryEntry[], classNames?: readonly string[]): void {
  const curves = trainingCurveSvgs(history, { classNames });
  for (const [file, svg] of Object.entries(curves)) writeFileAtomic(path.join(dir, file), svg);
}

const safeName = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_');

/** JSON has no NaN: write null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
