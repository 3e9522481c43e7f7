/**
 * From probabilities to the label map a user gets back: argmax over classes (ties go to the lower class, as
 * numpy and torch argmax do), then class indices to the values the user's labels were stored with (the artifact's
 * labelValues, the inverse of training's label map: {"0": 1, "255": 0} gives class 0 -> 255, class 1 -> 0).
 */
import { RwsegError } from '../errors.js';

export type LabelArray = Uint8Array | Uint16Array;

/** Class index of the largest probability per voxel ([..., K] -> [...]); uint8 up to 256 classes, else uint16. */
export function argmaxLabels(probabilities: Float32Array, classes: number): LabelArray {
  const n = probabilities.length / classes;
  const out = classes <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  for (let v = 0; v < n; v++) {
    let best = 0;
    let bestValue = probabilities[v * classes]!;
    for (let k = 1; k < classes; k++) {
      const value = probabilities[v * classes + k]!;
      if (value > bestValue) {
        best = k;
        bestValue = value;
      }
    }
    out[v] = best;
  }
  return out;
}

/** Replaces class indices by the user's stored values (uint8 when they all fit, else uint16). */
export function toStoredValues(labels: LabelArray, values: readonly number[]): LabelArray {
  const bad = values.find((v) => !Number.isInteger(v) || v < 0 || v > 65535);
  if (bad !== undefined)
    throw new RwsegError('INVALID_CONFIG', `label value ${bad} cannot be written to a label map (integers 0..65535)`, {
      value: bad,
    });
  const out = values.every((v) => v <= 255) ? new Uint8Array(labels.length) : new Uint16Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = values[labels[i]!]!;
  return out;
}
