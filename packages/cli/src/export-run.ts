/**
 * Exports a training run folder (model/, config.json, summary.json) to ONNX or a Triton model repository with a
 * complete rwseg.json, after a parity check against TF.js. One code path for `rwseg export` and the pipeline's
 * `export:` step, so what a pipeline leaves behind is what `rwseg export` would write.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadDataset, loadModelDir, normalizeChannels, readVolume, RwsegError, RWSEG_VERSION, tf, type Logger, type PipelineConfig, type RwsegErrorCode, type ValidationCase } from '@rwseg/core';
import { exportModel, TfjsToOnnxError, type ExportResult, type ModelMetadataInput, type ParityReport } from '@rwseg/tfjs-to-onnx';
import * as tfl from '@tensorflow/tfjs-layers';

export interface RunExportOptions {
  format?: 'onnx' | 'triton';
  opset?: number;
  /** Triton model name (default: the run's pipeline name, else 'rwseg'). */
  name?: string;
  maxBatchSize?: number;
  /** Run the parity check (default true). */
  parity?: boolean;
  /** Largest max abs error the parity check accepts (default 1e-4). */
  tolerance?: number;
  /** A real image (PNG/NIfTI) to add to the parity check; default: the run's first validation image when the run's dataset can regenerate it. */
  image?: string;
  logger?: Logger;
}

export interface RunExport {
  runDir: string;
  modelDir: string;
  outDir: string;
  format: 'onnx' | 'triton';
  name?: string;
  files: string[];
  onnx: string;
  metadata: string;
  /** Output heads dropped from the export (deep supervision's coarser heads). */
  droppedHeads: number;
  parity: (Pick<ParityReport, 'maxAbsError' | 'maxRelError' | 'tolerance'> & { cases: ParityReport['cases'] }) | null;
}

/** Accepts a run folder or its model/ subfolder; errors say which of the two is missing. */
export function resolveRun(dir: string): { runDir: string; modelDir: string } {
  const abs = path.resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new RwsegError('IO_ERROR', `model folder '${dir}' does not exist (pass a run folder, e.g. runs/quickstart, or its model/ subfolder)`, { dir });
  if (existsSync(path.join(abs, 'model.json'))) return { runDir: path.dirname(abs), modelDir: abs };
  if (existsSync(path.join(abs, 'model', 'model.json'))) return { runDir: abs, modelDir: path.join(abs, 'model') };
  if (existsSync(path.join(abs, 'config.json')) || existsSync(path.join(abs, 'history.jsonl'))) {
    throw new RwsegError('IO_ERROR', `'${dir}' is a run folder without a trained model (no model/model.json): training has not finished; resume it or pass another run`, { dir });
  }
  throw new RwsegError('INVALID_INPUT', `'${dir}' is not a run folder: it holds neither model.json nor model/model.json (rwseg train and rwseg pipeline run write <run>/model)`, { dir });
}

function readJson(file: string): Record<string, any> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  } catch (error) {
    throw new RwsegError('IO_ERROR', `${file} is not valid JSON (${(error as Error).message})`, { file });
  }
}

/** Class names: an MSD dataset.json's labels when the run's data came from one, else background, class 1, ... */
function classNames(config: Record<string, any> | undefined, numClasses: number): string[] {
  const names = Array.from({ length: numClasses }, (_, k) => (k === 0 ? 'background' : `class ${k}`));
  const root = config?.dataset?.kind === 'msd' ? String(config.dataset.root) : undefined;
  const labels = root ? readJson(path.join(root, 'dataset.json'))?.labels : undefined;
  if (labels && typeof labels === 'object') for (const [k, v] of Object.entries(labels)) if (Number(k) < numClasses && typeof v === 'string') names[Number(k)] = v;
  return names;
}

/** rwseg.json fields from the run's resolved config and summary. Normalisation is per image and channel, as in training. */
export function runMetadata(config: Record<string, any> | undefined, summary: Record<string, any> | undefined, numClasses: number, droppedHeads: number): ModelMetadataInput {
  const normalization: string = config?.preprocessing?.normalization ?? 'zscore';
  return {
    classes: classNames(config, numClasses),
    ...spacingOf(config),
    normalisation: normalization === 'none' ? { method: 'none' } : { method: normalization, scope: 'per-image-and-channel', ...(normalization === 'percentile' ? { percentiles: [0.5, 99.5] } : {}) },
    ...(config?.preprocessing?.patch ? { patchSize: config.preprocessing.patch } : {}),
    rwsegVersion: RWSEG_VERSION,
    ...(config?.loss !== undefined ? { loss: lossOf(config.loss) } : {}),
    extra: {
      pipeline: config?.name ?? null,
      seed: config?.seed ?? null,
      modelConfig: config?.model ?? null,
      bestEpoch: summary?.bestEpoch ?? null,
      bestDice: summary?.bestDice ?? null,
      droppedDeepSupervisionHeads: droppedHeads,
    },
  };
}

/** The spacing inputs were resampled to, when the run fixed one; the synthetic images are on a 1 mm grid. */
function spacingOf(config: Record<string, any> | undefined): { spacing?: number[] } {
  const fixed = config?.preprocessing?.targetSpacing ?? config?.preprocessing?.spacing;
  if (Array.isArray(fixed)) return { spacing: fixed };
  return config?.dataset?.kind === 'synthetic' ? { spacing: config.dataset.shape.map(() => 1) } : {};
}

function lossOf(loss: unknown): { name: string; [key: string]: unknown } {
  if (typeof loss === 'string') return { name: loss };
  const l = loss as Record<string, unknown>;
  if (typeof l.loss === 'string') return { ...l, name: l.loss };
  if (Array.isArray(l.combine)) return { ...l, name: typeof l.name === 'string' ? l.name : `combine(${l.combine.map((c) => lossOf(c).name).join('+')})` };
  return { name: 'custom', ...l };
}

/** Crops (centred) or zero-pads a channels-last image to `patch`, so the U-Net's size constraints hold. */
function fitToPatch(data: Float32Array, shape: readonly number[], channels: number, patch: readonly number[]): Float32Array {
  const out = new Float32Array(patch.reduce((a, b) => a * b, channels));
  const offset = shape.map((s, a) => Math.floor((s - patch[a]!) / 2));
  const idx = new Array<number>(patch.length).fill(0);
  for (let o = 0; o < out.length / channels; o++) {
    let src = 0;
    let inside = true;
    for (let a = 0; a < patch.length; a++) {
      const p = idx[a]! + offset[a]!;
      if (p < 0 || p >= shape[a]!) inside = false;
      src = src * shape[a]! + p;
    }
    if (inside) for (let c = 0; c < channels; c++) out[o * channels + c] = data[src * channels + c]!;
    for (let a = patch.length - 1; a >= 0 && ++idx[a]! === patch[a]; a--) idx[a] = 0;
  }
  return out;
}

/**
 * A real image for the parity check: --image, else the run's first validation case, loaded and normalised
 * exactly as training loaded it (from the resolved config.json; skipped when its data is no longer there).
 */
async function realImage(config: Record<string, any> | undefined, options: RunExportOptions, channels: number): Promise<{ label: string; tensor: tf.Tensor } | undefined> {
  const patch: number[] | undefined = config?.preprocessing?.patch;
  let data: Float32Array;
  let shape: number[];
  let label: string;
  if (options.image) {
    const volume = await readVolume(options.image);
    const c = volume.channels ?? 1;
    if (c !== channels) throw new RwsegError('INVALID_INPUT', `--image ${options.image} has ${c} channel(s); the model takes ${channels}`, { file: options.image });
    shape = volume.channels ? volume.shape.slice(0, -1) : [...volume.shape];
    data = Float32Array.from(volume.data);
    normalizeChannels(data, channels, { normalization: config?.preprocessing?.normalization ?? 'zscore' });
    label = options.image;
  } else if (config?.dataset) {
    let first: ValidationCase | undefined;
    try {
      first = (await loadDataset(config as PipelineConfig)).validation[0];
    } catch (error) {
      options.logger?.warn(`parity check without a real image: the run's validation data could not be loaded (${(error as Error).message})`);
    }
    if (!first) return undefined;
    const image = first.image;
    shape = image.channels ? image.shape.slice(0, -1) : [...image.shape];
    data = Float32Array.from(image.data);
    label = `validation case ${first.id}`;
  } else return undefined;
  const size = patch && patch.length === shape.length ? patch : shape;
  return { label, tensor: tf.tensor(fitToPatch(data, shape, channels, size), [1, ...size, channels]) };
}

const CODES: Record<string, RwsegErrorCode> = { UNSUPPORTED_LAYER: 'INVALID_INPUT', INVALID_MODEL: 'INVALID_INPUT', INVALID_OPTION: 'INVALID_OPTIONS', PARITY_FAILED: 'NUMERICAL_ERROR', IO_ERROR: 'IO_ERROR' };

/** The converter's errors as RwsegErrors (exit 2 in the CLI), keeping its message and code. */
function asRwsegError(error: unknown): unknown {
  if (!(error instanceof TfjsToOnnxError)) return error;
  return new RwsegError(CODES[error.code] ?? 'INVALID_INPUT', error.message, { converterCode: error.code, ...(error.details ?? {}) }, { cause: error });
}

/** Converts a run's model and writes `outDir` (model.onnx + rwseg.json, or a Triton repository entry). */
export async function exportRun(dir: string, outDir: string, options: RunExportOptions = {}): Promise<RunExport> {
  const { runDir, modelDir } = resolveRun(dir);
  const config = readJson(path.join(runDir, 'config.json'));
  const summary = readJson(path.join(runDir, 'summary.json'));
  const { model: trained } = await loadModelDir(modelDir);
  // Deep supervision: only the full-resolution head (output 0) is a prediction; the coarser heads exist for
  // the loss and are left out of the export.
  const droppedHeads = trained.outputs.length - 1;
  const model = droppedHeads > 0 ? tfl.model({ inputs: trained.inputs, outputs: trained.outputs[0]!, name: `${trained.name}_export` }) : trained;
  const inputShape = model.inputs[0]!.shape;
  const channels = inputShape.at(-1) ?? 1;
  const numClasses = model.outputs[0]!.shape.at(-1) ?? 1;
  const format = options.format ?? 'onnx';
  const name = format === 'triton' ? (options.name ?? (typeof config?.name === 'string' ? config.name : 'rwseg')) : undefined;
  const real = options.parity === false ? undefined : await realImage(config, options, channels);
  const patch: number[] | undefined = config?.preprocessing?.patch;
  let result: ExportResult;
  try {
    result = await exportModel({
      model,
      outDir,
      format,
      ...(options.opset !== undefined ? { opset: options.opset } : {}),
      ...(name ? { name } : {}),
      ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
      metadata: runMetadata(config, summary, numClasses, droppedHeads),
      parity:
        options.parity === false
          ? false
          : {
              tolerance: options.tolerance ?? 1e-4,
              inputs: real ? [[real.tensor]] : [],
              ...(patch && patch.length === inputShape.length - 2 ? { randomShapes: [[1, ...patch, channels]] } : {}),
            },
    });
  } catch (error) {
    throw asRwsegError(error);
  } finally {
    real?.tensor.dispose();
    trained.dispose();
  }
  const parity = result.parity && {
    maxAbsError: result.parity.maxAbsError,
    maxRelError: result.parity.maxRelError,
    tolerance: result.parity.tolerance,
    cases: result.parity.cases.map((c) => (real && c.label === 'input 0' ? { ...c, label: real.label } : c)),
  };
  options.logger?.info(`exported ${result.onnxPath} (${format}${parity ? `, parity max abs error ${parity.maxAbsError.toExponential(2)}` : ', parity not checked'})`);
  return { runDir, modelDir, outDir: path.resolve(outDir), format, ...(name ? { name } : {}), files: result.files, onnx: result.onnxPath, metadata: result.metadataPath, droppedHeads, parity };
}
