/** One call from a TF.js model (or its saved folder) to an export folder: ONNX or a Triton repository, plus rwseg.json. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { convertLayersModel, type ModelIO } from './convert/convert.js';
import { TfjsToOnnxError } from './errors.js';
import { writeFileAtomic } from './io/atomic-write.js';
import { fileSystemIO } from './io/file-system-io.js';
import { buildMetadata, METADATA_FILE, writeMetadata, type ModelMetadata, type ModelMetadataInput } from './metadata.js';
import { checkParity, type ParityOptions, type ParityReport } from './parity.js';
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
  if (format !== 'onnx' && format !== 'triton') throw new TfjsToOnnxError('INVALID_OPTION', `format must be 'onnx' or 'triton', got '${String(format)}'`);
  const model = await loadModel(options.model);
  const { bytes, io, opset } = convertLayersModel(model, {
    ...(options.opset !== undefined ? { opset: options.opset } : {}),
    ...(options.inputNames ? { inputNames: options.inputNames } : {}),
    ...(options.outputNames ? { outputNames: options.outputNames } : {}),
    ...(options.metadata ? { metadataProps: { rwseg: JSON.stringify({ ...options.metadata, extra: undefined }) } } : {}),
  });
  const parity = options.parity === false ? null : await checkParity(model, bytes, options.parity ?? {});
  await mkdir(options.outDir, { recursive: true });
  let files: string[];
  let onnxPath: string;
  let metadataDir: string;
  if (format === 'triton') {
    const name = options.name ?? 'rwseg';
    files = await writeTritonRepository(options.outDir, name, bytes, io, options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {});
    onnxPath = files[1]!;
    metadataDir = join(options.outDir, name);
  } else {
    onnxPath = join(options.outDir, 'model.onnx');
    await writeFileAtomic(onnxPath, bytes);
    files = [onnxPath];
    metadataDir = options.outDir;
  }
  const metadataPath = join(metadataDir, METADATA_FILE);
  const metadata = buildMetadata(options.metadata ?? {}, model, io, opset, format === 'triton' ? '1/model.onnx' : 'model.onnx', parity);
  await writeMetadata(metadataPath, metadata);
  files.push(metadataPath);
  return { onnxPath, metadataPath, files, io, parity, metadata };
}
