/**
 * Parity check: runs the exported model in onnxruntime-node (CPU execution provider) and the TF.js model with
 * `predict` on the same inputs, and compares every output element.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { TfjsToOnnxError } from './errors.js';

/** Below this magnitude the relative error is taken against this floor, so exact zeros do not divide by zero. */
export const RELATIVE_ERROR_FLOOR = 1e-3;

export interface ParityTolerance {
  /** Largest allowed |onnx - tfjs| over all elements. */
  abs: number;
  /** Largest allowed |onnx - tfjs| / max(|tfjs|, 1e-3); unchecked when absent. */
  rel?: number;
}

export interface ParityOptions {
  /** Real inputs to compare on (an image, a volume): one tensor per model input per case, TF.js layout. */
  inputs?: tf.Tensor[][];
  /** Default { abs: 1e-4 }; a number means { abs: number }. */
  tolerance?: number | ParityTolerance;
  /** Random N(0, 1) cases besides `inputs` (default 2). */
  randomCases?: number;
  /** Full TF.js shapes for the random cases, one per model input; default: dynamic batch 1, other dynamic dims 32. */
  randomShapes?: number[][];
  seed?: number;
}

export interface ParityCase {
  label: string;
  inputShapes: number[][];
  maxAbsError: number;
  maxRelError: number;
}

export interface ParityReport {
  maxAbsError: number;
  maxRelError: number;
  tolerance: ParityTolerance;
  cases: ParityCase[];
}

function toleranceOf(t: ParityOptions['tolerance']): ParityTolerance {
  if (t === undefined) return { abs: 1e-4 };
  return typeof t === 'number' ? { abs: t } : t;
}

function errors(got: ArrayLike<number>, want: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < want.length; i++) {
    // Math.max propagates NaN, so a NaN on either side fails the check below.
    const d = Math.abs(got[i]! - want[i]!);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(want[i]!), RELATIVE_ERROR_FLOOR));
  }
  return { abs, rel };
}

function randomCases(model: tfl.LayersModel, options: ParityOptions): tf.Tensor[][] {
  const shapes = options.randomShapes ?? model.inputs.map((t) => t.shape.map((d, i) => d ?? (i === 0 ? 1 : 32)));
  if (shapes.length !== model.inputs.length) {
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      `randomShapes has ${shapes.length} shapes for a model with ${model.inputs.length} inputs`,
    );
  }
  const seed = options.seed ?? 1234;
  return Array.from({ length: options.randomCases ?? 2 }, (_, c) =>
    shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + 97 * c + i)),
  );
}

/**
 * Compares TF.js `model.predict` with the ONNX model on random and caller-given inputs. Returns the largest
 * absolute and relative errors; throws PARITY_FAILED (with both numbers) when they exceed the tolerance.
 */
export async function checkParity(
  model: tfl.LayersModel,
  onnxBytes: Uint8Array,
  options: ParityOptions = {},
): Promise<ParityReport> {
  const tolerance = toleranceOf(options.tolerance);
  const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['cpu'] });
  const cases: ParityCase[] = [];
  const random = randomCases(model, options);
  const all = [
    ...(options.inputs ?? []).map((c, i) => [`input ${i}`, c] as const),
    ...random.map((c, i) => [`random ${i}`, c] as const),
  ];
  try {
    for (const [label, inputs] of all) {
      if (inputs.length !== session.inputNames.length) {
        throw new TfjsToOnnxError(
          'INVALID_OPTION',
          `parity case '${label}' has ${inputs.length} tensors for a model with ${session.inputNames.length} inputs`,
        );
      }
      const feeds: Record<string, ort.Tensor> = {};
      session.inputNames.forEach((name, i) => {
        const t = inputs[i]!;
        feeds[name] = new ort.Tensor('float32', Float32Array.from(t.dataSync() as Float32Array), t.shape);
      });
      let predicted: tf.Tensor | tf.Tensor[];
      try {
        predicted = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
      } catch (err) {
        const shapes = inputs.map((x) => `[${x.shape}]`).join(', ');
        throw new TfjsToOnnxError(
          'INVALID_OPTION',
          `parity case '${label}': TF.js cannot run the model on input shapes ${shapes} (${(err as Error).message}); pass shapes the network accepts in randomShapes`,
        );
      }
      const tfOut = Array.isArray(predicted) ? predicted : [predicted];
      let onnxOut: ort.InferenceSession.ReturnType;
      try {
        onnxOut = await session.run(feeds);
      } catch (err) {
        tf.dispose(tfOut);
        throw new TfjsToOnnxError(
          'PARITY_FAILED',
          `parity case '${label}': onnxruntime failed where TF.js ran: ${(err as Error).message}`,
        );
      }
      let abs = 0;
      let rel = 0;
      session.outputNames.forEach((name, i) => {
        const o = onnxOut[name]!;
        const want = tfOut[i]!;
        if (o.dims.join(',') !== want.shape.join(',')) {
          throw new TfjsToOnnxError(
            'PARITY_FAILED',
            `parity case '${label}': output '${name}' has shape [${o.dims}] in ONNX but [${want.shape}] in TF.js`,
          );
        }
        const e = errors(o.data as Float32Array, want.dataSync());
        abs = Math.max(abs, e.abs);
        rel = Math.max(rel, e.rel);
      });
      tf.dispose(tfOut);
      cases.push({ label, inputShapes: inputs.map((t) => [...t.shape]), maxAbsError: abs, maxRelError: rel });
    }
  } finally {
    tf.dispose(random);
    await session.release();
  }
  const maxAbsError = Math.max(0, ...cases.map((c) => c.maxAbsError));
  const maxRelError = Math.max(0, ...cases.map((c) => c.maxRelError));
  const report: ParityReport = { maxAbsError, maxRelError, tolerance, cases };
  const absOk = maxAbsError <= tolerance.abs;
  const relOk = tolerance.rel === undefined || maxRelError <= tolerance.rel;
  if (!absOk || !relOk) {
    throw new TfjsToOnnxError(
      'PARITY_FAILED',
      `ONNX and TF.js outputs differ: max abs error ${maxAbsError} (tolerance ${tolerance.abs}), max relative error ${maxRelError}` +
        (tolerance.rel === undefined ? '' : ` (tolerance ${tolerance.rel})`),
      { report },
    );
  }
  return report;
}
