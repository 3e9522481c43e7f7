/**
 * rwseg.json: what someone holding only the export folder needs to reproduce the predictions (schema in
 * docs/export.md): the model's interface, the classes, how to normalize inputs, spacing, patch size, the loss it
 * was trained with and the parity measured at export. rwseg's own export (@rwseg/core, export/) replaces this file
 * with the full model artifact (schema rwseg-model/2); this is what the converter alone can say.
 */
import { writeFileAtomic } from './io/atomic-write.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelIO } from './convert/convert.js';
import { TfjsToOnnxError } from './errors.js';
import type { ParityReport } from './parity.js';
import { TFJS_TO_ONNX_VERSION } from './version.js';

export const METADATA_FILE = 'rwseg.json';
export const METADATA_SCHEMA = 'rwseg-model-metadata/1';

/** What the caller knows about the model; every field optional. */
export interface ModelMetadataInput {
  /** Class names in output-channel order, or {index, name} pairs. */
  classes?: (string | { index: number; name: string })[];
  /** Voxel/pixel spacing (mm) the model was trained at, in the input's spatial axis order. */
  spacing?: number[];
  /** Input normalization, e.g. { method: 'zscore', mean, std } or { method: 'minmax', min, max }. */
  normalization?: { method: string; [key: string]: unknown };
  /** Training patch size (spatial axes). */
  patchSize?: number[];
  rwsegVersion?: string;
  /** The loss it was trained with: a name or { name, ...options }. */
  loss?: string | { name: string; [key: string]: unknown };
  /** Anything else worth keeping; stored under "extra". */
  extra?: Record<string, unknown>;
}

export interface ModelMetadata {
  schema: typeof METADATA_SCHEMA;
  createdAt: string;
  rwsegVersion: string | null;
  converter: string;
  model: {
    file: string;
    format: 'onnx';
    opset: number;
    layout: 'channels-last';
    inputs: ModelIO['inputs'];
    outputs: (ModelIO['outputs'][number] & { activation: string })[];
  };
  classes: { index: number; name: string }[];
  spacing: number[] | null;
  normalization: ModelMetadataInput['normalization'] | null;
  patchSize: number[] | null;
  loss: { name: string; [key: string]: unknown } | null;
  parity: Pick<ParityReport, 'maxAbsError' | 'maxRelError' | 'tolerance'> | null;
  extra: Record<string, unknown>;
}

/** The activation a model output ends with ('softmax', 'sigmoid', ... or 'linear'), so users know if it is included. */
export function outputActivation(model: tfl.LayersModel, index: number): string {
  const layer = model.outputs[index]!.sourceLayer;
  if (layer.getClassName() === 'Softmax') return 'softmax';
  const config = layer.getConfig() as Record<string, unknown>;
  return typeof config['activation'] === 'string' ? config['activation'] : 'linear';
}

function positiveNumbers(value: number[] | undefined, what: string, integers: boolean): number[] | null {
  if (value === undefined) return null;
  if (
    !Array.isArray(value) ||
    value.some((v) => typeof v !== 'number' || !(v > 0) || (integers && !Number.isInteger(v)))
  ) {
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      `metadata.${what} must be a list of positive ${integers ? 'integers' : 'numbers'}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function buildMetadata(
  input: ModelMetadataInput,
  model: tfl.LayersModel,
  io: ModelIO,
  opset: number,
  file: string,
  parity: ParityReport | null,
): ModelMetadata {
  const classes = (input.classes ?? []).map((c, index) => (typeof c === 'string' ? { index, name: c } : c));
  if (classes.some((c) => typeof c.name !== 'string' || !Number.isInteger(c.index))) {
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      `metadata.classes must be names or {index, name} pairs, got ${JSON.stringify(input.classes)}`,
    );
  }
  const loss = input.loss === undefined ? null : typeof input.loss === 'string' ? { name: input.loss } : input.loss;
  return {
    schema: METADATA_SCHEMA,
    createdAt: new Date().toISOString(),
    rwsegVersion: input.rwsegVersion ?? null,
    converter: `@rwseg/tfjs-to-onnx ${TFJS_TO_ONNX_VERSION}`,
    model: {
      file,
      format: 'onnx',
      opset,
      layout: 'channels-last',
      inputs: io.inputs,
      outputs: io.outputs.map((o, i) => ({ ...o, activation: outputActivation(model, i) })),
    },
    classes,
    spacing: positiveNumbers(input.spacing, 'spacing', false),
    normalization: input.normalization ?? null,
    patchSize: positiveNumbers(input.patchSize, 'patchSize', true),
    loss,
    parity: parity && { maxAbsError: parity.maxAbsError, maxRelError: parity.maxRelError, tolerance: parity.tolerance },
    extra: input.extra ?? {},
  };
}

export async function writeMetadata(path: string, metadata: ModelMetadata): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(metadata, null, 2)}\n`);
}
