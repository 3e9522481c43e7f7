/** Stored label values -> class indices, with the checks that catch a wrong mapping before training starts. */
import { RwsegError } from '../errors.js';

/** A user's label mapping: `{ "0": 0, "255": 1 }`, or a list of stored values whose position is the class. */
export type LabelMapping = Readonly<Record<string, number>> | readonly number[];

export function normalizeLabelMapping(mapping: LabelMapping): Record<string, number> {
  if (Array.isArray(mapping)) {
    const out: Record<string, number> = {};
    (mapping as readonly number[]).forEach((value, index) => {
      if (String(value) in out)
        throw new RwsegError('INVALID_OPTIONS', `label mapping lists gray value ${value} twice`, {
          option: 'labelMapping',
        });
      out[String(value)] = index;
    });
    return out;
  }
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(mapping as Record<string, number>)) {
    if (!Number.isFinite(Number(key)) || !Number.isInteger(value) || value < 0) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `label mapping entry ${key} -> ${value} must map a number to a class index >= 0`,
        { option: 'labelMapping' },
      );
    }
    out[String(Number(key))] = value;
  }
  return out;
}

export function classCountOfMapping(mapping: Readonly<Record<string, number>>): number {
  return Math.max(...Object.values(mapping)) + 1;
}

/**
 * Converts stored values (any numeric type, float labels included) to Int32 class indices. A value that is not an
 * integer, has no mapping, or is >= numClasses is an error naming the file, the value and where it first occurs.
 */
export function toClassLabels(
  values: ArrayLike<number>,
  numClasses: number,
  file: string,
  mapping?: Readonly<Record<string, number>>,
): Int32Array {
  const out = new Int32Array(values.length);
  const lookup = mapping ? new Map(Object.entries(mapping).map(([k, v]) => [Number(k), v])) : undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let cls: number | undefined;
    if (lookup) cls = lookup.get(v);
    else if (Number.isInteger(v)) cls = v;
    if (cls === undefined || cls < 0 || cls >= numClasses) {
      const why = lookup
        ? cls === undefined
          ? `has no entry in the label mapping {${[...lookup].map(([k, c]) => `${k}: ${c}`).join(', ')}}`
          : `maps to class ${cls}`
        : Number.isInteger(v)
          ? 'is not a class index'
          : 'is not an integer';
      throw new RwsegError(
        'INVALID_INPUT',
        `${file}: label value ${v} at voxel ${i} ${why} (dataset has ${numClasses} classes, 0..${numClasses - 1})`,
        { file, value: v, index: i, numClasses },
      );
    }
    out[i] = cls;
  }
  return out;
}

/** Voxel count per class. */
export function classHistogram(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts;
}
