/** One call from a TF.js model (or its saved folder) to an export folder: ONNX or a Triton repository, plus rwseg.json. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { convertLayersModel, type ModelIO } from './convert/convert.js';
import { TfjsToOnnxError } from './errors.js';
import { writeFileAtomic } from './io/atomic-write.js';
import { fileSystemIO } from './io/file-system-io.js';
import {
  buildMetadata,
  METADATA_FILE,
  writeMetadata,
  type ModelMetadata,
  type ModelMetadataInput,
} from './metadata.js';
import { checkParity, type ParityOptions, type ParityReport } from './parity.js';
import { normalizationFromMetadata, planSelfContained, type SelfContainedOptions } from './self-contained/index.js';
import { writeTritonRepository } from './triton.js';

export interface ExportOptions {
  /** An in-memory LayersModel, or a folder holding model.json + weights (as fileSystemIO saves them). */
  model: tfl.LayersModel | string;
  outDir: string;
  /** 'onnx' (default): <outDir>/model.onnx; 'triton': <outDir>/<name>/config.pbtxt and <outDir>/<name>/1/model.onnx. */
  format?: 'onnx' | 'triton';
  opset?: number;
  metadata?: ModelMetadataInput;
  /** Parity check options, or false to skip it (default: run it with the default tolerance). */
  parity?: ParityOptions | false;
  /** Triton model name (default 'rwseg'). */
  name?: string;
  maxBatchSize?: number;
  inputNames?: string[];
  outputNames?: string[];
  /**
   * A graph callable on raw whole images (docs/export.md, "Deploying on Triton or KServe with no client code").
   * `true` means { dynamicSpatial: 'any', argmaxOutput: true } with the normalization of `metadata.normalisation`;
   * an object without `normalization` takes it from there too. Off by default.
   */
  selfContained?: boolean | SelfContainedOptions;
}

/** What a self-contained export embeds, as recorded in rwseg.json's `extra.selfContained` and the ONNX file. */
export interface SelfContainedSummary {
  dynamicSpatial: 'any' | 'grid' | 'fixed';
  sizeGrid: number[];
  normalization: SelfContainedOptions['normalization'];
  labels: string | null;
}

export interface ExportResult {
  /** The .onnx file written. */
  onnxPath: string;
  /** The rwseg.json written (beside the .onnx for 'onnx', in the model folder for 'triton'). */
  metadataPath: string;
  files: string[];
  io: ModelIO;
  parity: ParityReport | null;
  metadata: ModelMetadata;
  /** Set for a self-contained export. */
  selfContained: SelfContainedSummary | null;
}

/** The self-contained options with `true` and a missing normalization filled in from the metadata. */
function selfContainedOptions(options: ExportOptions): SelfContainedOptions | null {
  const sc = options.selfContained;
  if (sc === undefined || sc === false) return null;
  const given: SelfContainedOptions = sc === true ? { dynamicSpatial: 'any', argmaxOutput: true } : sc;
  if (given.normalization) return given;
  // rwseg.json 1 spelled the field 'normalisation', the model artifact spells it 'normalization': read either.
  type Recorded = { method: string; [key: string]: unknown };
  const spelled = options.metadata as { normalization?: Recorded; normalisation?: Recorded } | undefined;
  const recorded = spelled?.normalization ?? spelled?.normalisation;
  if (!recorded) {
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      'selfContained needs the normalization to embed: pass selfContained.normalization or ' +
        "metadata.normalization ({ method: 'none' } for none)",
    );
  }
  return { ...given, normalization: normalizationFromMetadata(recorded) };
}

async function loadModel(model: tfl.LayersModel | string): Promise<tfl.LayersModel> {
  if (typeof model !== 'string') return model;
  return tfl.loadLayersModel(fileSystemIO(model));
}

/**
 * Converts, checks parity (failing before anything is written when it is off), and writes the export folder.
 */
export async function exportModel(options: ExportOptions): Promise<ExportResult> {
  const format = options.format ?? 'onnx';
  if (format !== 'onnx' && format !== 'triton')
    throw new TfjsToOnnxError('INVALID_OPTION', `format must be 'onnx' or 'triton', got '${String(format)}'`);
  const selfContained = selfContainedOptions(options);
  const model = await loadModel(options.model);
  const plan = selfContained && planSelfContained(model, selfContained);
  const summary: SelfContainedSummary | null = plan && {
    dynamicSpatial: plan.dynamicSpatial,
    sizeGrid: plan.grid,
    normalization: plan.normalization,
    labels: plan.labelsName,
  };
  const common = {
    ...(options.opset !== undefined ? { opset: options.opset } : {}),
    ...(options.inputNames ? { inputNames: options.inputNames } : {}),
    ...(options.outputNames ? { outputNames: options.outputNames } : {}),
  };
  const rwsegProps: Record<string, string> = options.metadata
    ? { rwseg: JSON.stringify({ ...options.metadata, extra: undefined }) }
    : {};
  const network = convertLayersModel(model, { ...common, metadataProps: rwsegProps });
  // Parity is checked on the network as TF.js runs it; the self-contained graph wraps those same nodes in
  // normalization, padding and ArgMax, which the package's tests check against numpy and TF.js.
  const parity = options.parity === false ? null : await checkParity(model, network.bytes, options.parity ?? {});
  const { bytes, io, opset } = selfContained
    ? convertLayersModel(model, {
        ...common,
        selfContained,
        metadataProps: { ...rwsegProps, 'rwseg.selfContained': JSON.stringify(summary) },
      })
    : network;
  await mkdir(options.outDir, { recursive: true });
  let files: string[];
  let onnxPath: string;
  let metadataDir: string;
  if (format === 'triton') {
    const name = options.name ?? 'rwseg';
    files = await writeTritonRepository(
      options.outDir,
      name,
      bytes,
      io,
      options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {},
    );
    onnxPath = files[1]!;
    metadataDir = join(options.outDir, name);
  } else {
    onnxPath = join(options.outDir, 'model.onnx');
    await writeFileAtomic(onnxPath, bytes);
    files = [onnxPath];
    metadataDir = options.outDir;
  }
  const metadataPath = join(metadataDir, METADATA_FILE);
  // The label output has no TF.js counterpart: it is described beside the probabilities it is the ArgMax of.
  const labels = io.outputs.filter((o) => o.name === summary?.labels);
  const networkIO = { ...io, outputs: io.outputs.filter((o) => !labels.includes(o)) };
  const file = format === 'triton' ? '1/model.onnx' : 'model.onnx';
  const metadata = buildMetadata(options.metadata ?? {}, model, networkIO, opset, file, parity);
  if (summary) {
    metadata.model.outputs.push(...labels.map((o) => ({ ...o, activation: 'argmax' })));
    metadata.extra = { ...metadata.extra, selfContained: summary };
  }
  await writeMetadata(metadataPath, metadata);
  files.push(metadataPath);
  return { onnxPath, metadataPath, files, io, parity, metadata, selfContained: summary };
}
