/**
 * The export step: a training run's model (its artifact says everything about it) to ONNX, or to a Triton model
 * repository, after a parity check against TF.js, written atomically (export-folder.ts). One code path for
 * `rwseg export` and a pipeline's `export:` section, so what a pipeline leaves behind is what `rwseg export` writes.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
// Types only at load time: the converter (and onnxruntime-node under it) is imported when an export runs, so
// importing @rwseg/core (plugins, worker threads) never loads onnxruntime's native library.
import type { ModelMetadataInput, ParityReport } from '@rwseg/tfjs-to-onnx';
import { assertSafeName } from '../artifact/model-name.js';
import { readModelArtifact } from '../artifact/read.js';
import { resolveRunFolder } from '../artifact/run-folder.js';
import { MODEL_ARTIFACT_FILE, type ModelArtifact } from '../artifact/schema.js';
import { serializeModelArtifact } from '../artifact/write.js';
import { sha256OfFile } from '../artifact/migrate.js';
import { RwsegError, type RwsegErrorCode } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { readVolume } from '../io/volume-io.js';
import type { Logger } from '../logger.js';
import { normalizeChannels } from '../data/preprocess.js';
import { loadDataset } from '../pipeline/datasets.js';
import { parsePipeline } from '../pipeline/schema.js';
import { tf } from '../tf.js';
import { spatialShapeOf } from '../volume.js';
import { loadModelDir } from '../training/model-files.js';
import type { ValidationCase } from '../training/validation.js';
import {
  commitOnnxExport,
  commitTritonExport,
  existingExport,
  stagingFolder,
  versionFolders,
} from './export-folder.js';
import { completeInterruptedExport } from './exported-model.js';

export interface RunExportOptions {
  readonly format?: 'onnx' | 'triton';
  readonly opset?: number;
  /** Triton model name (default: the run's pipeline name, else 'rwseg'); the server's model-name rule applies. */
  readonly name?: string;
  readonly maxBatchSize?: number;
  /** Run the parity check (default true). */
  readonly parity?: boolean;
  /** Largest max abs error the parity check accepts (default 1e-4). */
  readonly tolerance?: number;
  /** A real image (PNG/NIfTI) for the parity check; default: the run's first validation case when its data is there. */
  readonly image?: string;
  /** Replace an existing export in the target (a Triton model gets the next version number). */
  readonly force?: boolean;
  /**
   * A self-contained graph: raw whole images of any size in, the run's normalization and the padding to the size
   * grid inside the graph, probabilities and uint8 labels out (docs/export.md). Default false.
   */
  readonly selfContained?: boolean;
  readonly logger?: Logger;
}

export interface RunExport {
  readonly runDir: string;
  readonly modelDir: string;
  readonly outDir: string;
  readonly format: 'onnx' | 'triton';
  readonly name?: string;
  /** Triton: the version folder written. */
  readonly version?: number;
  readonly files: string[];
  readonly onnx: string;
  readonly metadata: string;
  /** Output heads dropped from the export (deep supervision's coarser heads). */
  readonly droppedHeads: number;
  readonly parity:
    (Pick<ParityReport, 'maxAbsError' | 'maxRelError' | 'tolerance'> & { cases: ParityReport['cases'] }) | null;
}

/** What the converter's own rwseg.json says, from the artifact (the converter embeds it in the ONNX file). */
function converterMetadata(artifact: ModelArtifact): ModelMetadataInput {
  const loss = artifact.training.loss;
  return {
    classes: artifact.classes,
    ...(artifact.spacing ? { spacing: artifact.spacing } : {}),
    normalization: artifact.normalization,
    ...(artifact.patchSize ? { patchSize: artifact.patchSize } : {}),
    rwsegVersion: artifact.rwsegVersion,
    ...(loss !== null && loss !== undefined ? { loss: lossOf(loss) } : {}),
  };
}

function lossOf(loss: unknown): { name: string; [key: string]: unknown } {
  if (typeof loss === 'string') return { name: loss };
  const l = loss as Record<string, unknown>;
  if (typeof l.loss === 'string') return { ...l, name: l.loss };
  if (Array.isArray(l.combine))
    return {
      ...l,
      name: typeof l.name === 'string' ? l.name : `combine(${l.combine.map((c) => lossOf(c).name).join('+')})`,
    };
  return { name: 'custom', ...l };
}

/** Crops (centered) or zero-pads a channels-last image to `patch`, so the U-Net's size constraints hold. */
function fitToPatch(
  data: Float32Array,
  shape: readonly number[],
  channels: number,
  patch: readonly number[],
): Float32Array {
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
 * A real image for the parity check: `image`, else the run's first validation case, loaded and normalized exactly
 * as training loaded it (from the config the artifact records; skipped when its data is no longer there).
 */
async function realImage(
  artifact: ModelArtifact,
  options: RunExportOptions,
): Promise<{ label: string; tensor: tf.Tensor } | undefined> {
  const channels = artifact.inputChannels;
  let data: Float32Array;
  let shape: number[];
  let label: string;
  if (options.image) {
    const volume = await readVolume(options.image);
    const c = volume.channels ?? 1;
    if (c !== channels)
      throw new RwsegError(
        'INVALID_INPUT',
        `--image ${options.image} has ${c} channel(s); the model takes ${channels}`,
        { file: options.image },
      );
    shape = spatialShapeOf(volume);
    data = Float32Array.from(volume.data);
    const n = artifact.normalization;
    normalizeChannels(
      data,
      channels,
      n.method === 'percentile'
        ? { normalization: 'percentile', percentiles: n.percentiles }
        : { normalization: n.method === 'zscore' ? 'zscore' : 'none' },
    );
    label = options.image;
  } else if (artifact.training.config) {
    let first: ValidationCase | undefined;
    try {
      first = (await loadDataset(parsePipeline(artifact.training.config, "the artifact's training.config")))
        .validation[0];
    } catch (error) {
      options.logger?.warn(
        `parity check without a real image: the run's validation data could not be loaded ` +
          `(${(error as Error).message})`,
      );
    }
    if (!first) return undefined;
    shape = spatialShapeOf(first.image);
    data = Float32Array.from(first.image.data);
    label = `validation case ${first.id}`;
  } else return undefined;
  // A 2D model on 3D data: the parity image is the middle slice along the training slice axis.
  if (shape.length === artifact.dims + 1) {
    const axis = artifact.sliceAxis ?? 0;
    ({ data, shape } = middleSlice(data, shape, channels, axis));
  }
  const patch = artifact.patchSize ?? shape;
  return { label, tensor: tf.tensor(fitToPatch(data, shape, channels, patch), [1, ...patch, channels]) };
}

function middleSlice(
  data: Float32Array,
  shape: readonly number[],
  channels: number,
  axis: number,
): { data: Float32Array; shape: number[] } {
  const kept = shape.filter((_, a) => a !== axis);
  const out = new Float32Array(kept.reduce((a, b) => a * b, channels));
  const at = Math.floor(shape[axis]! / 2);
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1));
  let o = 0;
  const idx = new Array<number>(kept.length).fill(0);
  for (let i = 0; i < out.length / channels; i++) {
    let src = 0;
    let k = 0;
    for (let a = 0; a < shape.length; a++) src += (a === axis ? at : idx[k++]!) * strides[a]!;
    for (let c = 0; c < channels; c++) out[o++] = data[src * channels + c]!;
    for (let a = kept.length - 1; a >= 0 && ++idx[a]! === kept[a]; a--) idx[a] = 0;
  }
  return { data: out, shape: kept };
}

const CODES: Record<string, RwsegErrorCode> = {
  UNSUPPORTED_LAYER: 'INVALID_INPUT',
  INVALID_MODEL: 'INVALID_INPUT',
  INVALID_OPTION: 'INVALID_OPTIONS',
  PARITY_FAILED: 'NUMERICAL_ERROR',
  IO_ERROR: 'IO_ERROR',
};

/** The converter's errors as RwsegErrors (exit 2 in the CLI), keeping its message and code. */
function asRwsegError(error: unknown, converterError: typeof import('@rwseg/tfjs-to-onnx').TfjsToOnnxError): unknown {
  if (!(error instanceof converterError)) return error;
  return new RwsegError(
    CODES[error.code] ?? 'INVALID_INPUT',
    error.message,
    { converterCode: error.code, ...(error.details ?? {}) },
    { cause: error },
  );
}

/** Converts a run's model and writes `outDir` (model.onnx + rwseg.json, or a Triton repository entry). */
export async function exportRun(dir: string, outDir: string, options: RunExportOptions = {}): Promise<RunExport> {
  const { runDir, modelDir } = resolveRunFolder(dir);
  const artifact = readModelArtifact(modelDir, { logger: options.logger });
  const format = options.format ?? 'onnx';
  const pipelineName = (artifact.training.config as { name?: unknown } | null)?.name;
  const name =
    format === 'triton'
      ? assertSafeName(
          options.name ?? (typeof pipelineName === 'string' ? pipelineName : 'rwseg'),
          'model name (--name)',
        )
      : undefined;
  const target = path.resolve(outDir);
  const existing = existingExport(target, format, name);
  if (existing.length > 0 && !options.force) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `export target ${format === 'triton' ? path.join(outDir, name!) : outDir} already holds a model ` +
        `(${existing.map((f) => path.basename(f)).join(', ')}): pass --force to replace it, or choose another ` +
        `--out${format === 'triton' ? ' or --name' : ''}`,
      { option: 'out', files: existing },
    );
  }

  const { exportModel, TfjsToOnnxError } = await import('@rwseg/tfjs-to-onnx');
  const { model: trained } = await loadModelDir(modelDir);
  // Deep supervision: only the full-resolution head (output 0) is a prediction; the coarser heads exist for the loss.
  const droppedHeads = trained.outputs.length - 1;
  const model =
    droppedHeads > 0
      ? tfl.model({ inputs: trained.inputs, outputs: trained.outputs[0]!, name: `${trained.name}_export` })
      : trained;
  const inputShape = model.inputs[0]!.shape;
  const real = options.parity === false ? undefined : await realImage(artifact, options);
  const patch = artifact.patchSize;
  const modelDirOut = format === 'triton' ? path.join(target, name!) : target;
  if (format === 'onnx') completeInterruptedExport(target);
  const staging = stagingFolder(modelDirOut);
  try {
    let result;
    try {
      result = await exportModel({
        model,
        outDir: staging,
        format,
        ...(options.opset !== undefined ? { opset: options.opset } : {}),
        ...(name ? { name } : {}),
        ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
        metadata: converterMetadata(artifact),
        ...(options.selfContained
          ? {
              selfContained: {
                dynamicSpatial: 'any' as const,
                argmaxOutput: true,
                ...(artifact.sizeGrid ? { sizeGrid: artifact.sizeGrid } : {}),
              },
            }
          : {}),
        parity:
          options.parity === false
            ? false
            : {
                tolerance: options.tolerance ?? 1e-4,
                inputs: real ? [[real.tensor]] : [],
                ...(patch && patch.length === inputShape.length - 2
                  ? { randomShapes: [[1, ...patch, artifact.inputChannels]] }
                  : {}),
              },
      });
    } catch (error) {
      throw asRwsegError(error, TfjsToOnnxError);
    }
    const parity = result.parity && {
      maxAbsError: result.parity.maxAbsError,
      maxRelError: result.parity.maxRelError,
      tolerance: result.parity.tolerance,
      cases: result.parity.cases.map((c) => (real && c.label === 'input 0' ? { ...c, label: real.label } : c)),
    };
    const m = result.metadata;
    // A self-contained graph takes raw images of any size in one piece: its artifact says so (no normalization
    // left to apply, no window, any size), so every reader treats it right without knowing about the embedding.
    const graphInput = result.selfContained
      ? { normalization: { method: 'none' as const }, patchSize: null, sizeGrid: null }
      : {};
    const exported = (file: string, sha256: string): ModelArtifact => ({
      ...artifact,
      ...graphInput,
      export: {
        format,
        file,
        sha256,
        exportedAt: new Date().toISOString(),
        converter: m.converter,
        opset: m.model.opset,
        layout: 'channels-last',
        inputs: m.model.inputs.map((i) => ({ ...i })),
        outputs: m.model.outputs.map((o) => ({ ...o })),
        parity: parity && {
          maxAbsError: parity.maxAbsError,
          maxRelError: parity.maxRelError,
          tolerance: parity.tolerance,
        },
        droppedDeepSupervisionHeads: droppedHeads,
        selfContained: result.selfContained && {
          dynamicSpatial: result.selfContained.dynamicSpatial,
          sizeGrid: result.selfContained.sizeGrid,
          normalization: result.selfContained.normalization,
          labels: result.selfContained.labels,
        },
      },
    });
    let files: string[];
    let version: number | undefined;
    if (format === 'onnx') {
      const sha = sha256OfFile(path.join(staging, 'model.onnx'));
      writeFileAtomic(path.join(staging, MODEL_ARTIFACT_FILE), serializeModelArtifact(exported('model.onnx', sha)));
      files = await commitOnnxExport(staging, target, runDir);
    } else {
      const stagedModel = path.join(staging, name!);
      const stagedVersion = path.join(stagedModel, '1');
      const sha = sha256OfFile(path.join(stagedVersion, 'model.onnx'));
      version = (versionFolders(modelDirOut).at(-1) ?? 0) + 1;
      writeFileAtomic(
        path.join(stagedVersion, MODEL_ARTIFACT_FILE),
        serializeModelArtifact(exported('model.onnx', sha)),
      );
      writeFileAtomic(
        path.join(stagedModel, MODEL_ARTIFACT_FILE),
        serializeModelArtifact(exported(`${version}/model.onnx`, sha)),
      );
      files = await commitTritonExport(staging, stagedModel, stagedVersion, modelDirOut, version, runDir);
    }
    const onnx = files.find((f) => f.endsWith('.onnx'))!;
    const metadata =
      format === 'onnx' ? path.join(target, MODEL_ARTIFACT_FILE) : path.join(modelDirOut, MODEL_ARTIFACT_FILE);
    const checked = parity ? `parity max abs error ${parity.maxAbsError.toExponential(2)}` : 'parity not checked';
    options.logger?.info(`exported ${onnx} (${format}, ${checked})`);
    return {
      runDir,
      modelDir,
      outDir: target,
      format,
      ...(name ? { name, version } : {}),
      files,
      onnx,
      metadata,
      droppedHeads,
      parity,
    };
  } catch (error) {
    // Nothing was published (the commit renames come last): the staging folder goes.
    rmSync(staging, { recursive: true, force: true });
    throw error;
  } finally {
    real?.tensor.dispose();
    trained.dispose();
  }
}
