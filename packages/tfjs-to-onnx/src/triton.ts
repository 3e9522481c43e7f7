/**
 * NVIDIA Triton model repository for an exported model: `<dir>/<name>/config.pbtxt` and
 * `<dir>/<name>/1/model.onnx`, loadable by Triton's onnxruntime backend as written.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelIO, TensorSpec } from './convert/convert.js';
import { TfjsToOnnxError } from './errors.js';
import { writeFileAtomic } from './io/atomic-write.js';

export interface TritonOptions {
  /** Largest batch Triton may form; used only when every input and output has a dynamic batch axis. Default 8. */
  maxBatchSize?: number;
}

const TRITON_DTYPES: Record<TensorSpec['dtype'], string> = { float32: 'TYPE_FP32', uint8: 'TYPE_UINT8' };

function dynamicBatch(spec: TensorSpec): boolean {
  return typeof spec.shape[0] === 'string';
}

function tensorBlock(spec: TensorSpec, dropBatch: boolean): string {
  const dims = (dropBatch ? spec.shape.slice(1) : spec.shape).map((d) => (typeof d === 'number' ? d : -1));
  return `  {\n    name: "${spec.name}"\n    data_type: ${TRITON_DTYPES[spec.dtype]}\n    dims: [ ${dims.join(', ')} ]\n  }`;
}

/**
 * The config.pbtxt text. With a dynamic batch axis everywhere, Triton batches requests itself
 * (max_batch_size > 0) and `dims` leave the batch axis out. With max_batch_size 0 (asked for, or forced by a
 * fixed batch axis) Triton's rule is that `dims` are the full shapes, batch included. Dynamic dims are -1.
 */
export function tritonConfig(name: string, io: ModelIO, options: TritonOptions = {}): string {
  const batched = [...io.inputs, ...io.outputs].every(dynamicBatch);
  const maxBatch = batched ? (options.maxBatchSize ?? 8) : 0;
  if (!Number.isInteger(maxBatch) || maxBatch < 0)
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      `maxBatchSize must be a non-negative integer, got ${options.maxBatchSize}`,
    );
  const dropBatch = maxBatch > 0;
  return [
    `name: "${name}"`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${maxBatch}`,
    `input [\n${io.inputs.map((s) => tensorBlock(s, dropBatch)).join(',\n')}\n]`,
    `output [\n${io.outputs.map((s) => tensorBlock(s, dropBatch)).join(',\n')}\n]`,
    '',
  ].join('\n');
}

/** Writes the repository entry; returns the paths written. */
export async function writeTritonRepository(
  dir: string,
  name: string,
  onnxBytes: Uint8Array,
  io: ModelIO,
  options: TritonOptions = {},
): Promise<string[]> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new TfjsToOnnxError('INVALID_OPTION', `Triton model name '${name}' must be letters, digits, '_', '.' or '-'`);
  const modelDir = join(dir, name);
  const config = join(modelDir, 'config.pbtxt');
  const onnxPath = join(modelDir, '1', 'model.onnx');
  await mkdir(join(modelDir, '1'), { recursive: true });
  await writeFileAtomic(onnxPath, onnxBytes);
  await writeFileAtomic(config, tritonConfig(name, io, options));
  return [config, onnxPath];
}
