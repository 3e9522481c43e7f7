/**
 * rwseg's metadata beside an exported model (`<repo>/<name>/rwseg.json`): what the segment route needs to
 * turn an image into the model's input (normalisation, patch size) and its output back into labels.
 */
import { RwsegError } from '@rwseg/core';

export type Normalisation =
  | { kind: 'none' }
  | { kind: 'zscore' }
  | { kind: 'minmax' }
  | { kind: 'fixed'; mean: number; std: number }
  | { kind: 'clip-zscore'; min: number; max: number; mean?: number; std?: number };

export interface RwsegModelMetadata {
  classes: string[];
  spacing?: number[];
  normalisation: Normalisation;
  patchSize?: number[];
  rwsegVersion?: string;
  loss?: unknown;
  /** Input and output tensor names the segment route uses; default to the session's first input/output. */
  input?: string;
  output?: string;
  /** Everything else in the file, passed through to model metadata untouched. */
  raw: Record<string, unknown>;
}

function numberList(value: unknown, field: string, file: string): number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
    throw new RwsegError('INVALID_CONFIG', `${file}: '${field}' must be a list of positive numbers`, { file, field });
  }
  return value as number[];
}

function parseNormalisation(value: unknown, file: string): Normalisation {
  if (value === undefined || value === null) return { kind: 'none' };
  const spec = (typeof value === 'string' ? { kind: value } : value) as Record<string, unknown>;
  const num = (key: string) => {
    const v = spec[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RwsegError('INVALID_CONFIG', `${file}: normalisation '${String(spec.kind)}' needs a finite number '${key}'`, { file });
    return v;
  };
  switch (spec.kind) {
    case 'none':
    case 'zscore':
    case 'minmax':
      return { kind: spec.kind };
    case 'fixed': {
      const std = num('std');
      if (std <= 0) throw new RwsegError('INVALID_CONFIG', `${file}: normalisation 'fixed' needs std > 0`, { file });
      return { kind: 'fixed', mean: num('mean'), std };
    }
    case 'clip-zscore':
      return { kind: 'clip-zscore', min: num('min'), max: num('max'), ...(spec.mean !== undefined ? { mean: num('mean'), std: num('std') } : {}) };
    default:
      throw new RwsegError('INVALID_CONFIG', `${file}: unknown normalisation kind '${String(spec.kind)}' (none, zscore, minmax, fixed, clip-zscore)`, { file });
  }
}

/** Validates a parsed rwseg.json; `file` names it in errors. Accepts British and American spellings. */
export function parseModelMetadata(json: unknown, file: string): RwsegModelMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RwsegError('INVALID_CONFIG', `${file}: expected a JSON object`, { file });
  const raw = json as Record<string, unknown>;
  let classes: string[];
  const rawClasses = raw.classes ?? raw.classNames ?? raw.numClasses;
  if (typeof rawClasses === 'number' && Number.isInteger(rawClasses) && rawClasses > 0) classes = Array.from({ length: rawClasses }, (_, i) => `class${i}`);
  else if (Array.isArray(rawClasses) && rawClasses.every((c) => typeof c === 'string')) classes = rawClasses as string[];
  else if (rawClasses === undefined) classes = [];
  else throw new RwsegError('INVALID_CONFIG', `${file}: 'classes' must be a list of names or a count`, { file });
  return {
    classes,
    spacing: numberList(raw.spacing, 'spacing', file),
    normalisation: parseNormalisation(raw.normalisation ?? raw.normalization, file),
    patchSize: numberList(raw.patchSize ?? raw.patch_size, 'patchSize', file),
    rwsegVersion: typeof raw.rwsegVersion === 'string' ? raw.rwsegVersion : undefined,
    loss: raw.loss,
    input: typeof raw.input === 'string' ? raw.input : undefined,
    output: typeof raw.output === 'string' ? raw.output : undefined,
    raw,
  };
}

/** Applies the model's normalisation to one image's voxels (all channels together), returning a new array. */
export function normalise(data: ArrayLike<number>, spec: Normalisation): Float32Array {
  const out = Float32Array.from(data);
  const n = out.length;
  const affine = (shift: number, scale: number) => {
    for (let i = 0; i < n; i++) out[i] = (out[i] - shift) / scale;
  };
  const meanStd = () => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += out[i];
    const mean = n ? sum / n : 0;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (out[i] - mean) ** 2;
    const std = n ? Math.sqrt(sq / n) : 0;
    // A constant image has no spread: centre it and leave the scale alone instead of dividing by zero.
    return [mean, std > 1e-8 ? std : 1];
  };
  switch (spec.kind) {
    case 'none':
      break;
    case 'zscore': {
      const [mean, std] = meanStd();
      affine(mean, std);
      break;
    }
    case 'minmax': {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        if (out[i] < lo) lo = out[i];
        if (out[i] > hi) hi = out[i];
      }
      affine(n ? lo : 0, hi > lo ? hi - lo : 1);
      break;
    }
    case 'fixed':
      affine(spec.mean, spec.std);
      break;
    case 'clip-zscore': {
      for (let i = 0; i < n; i++) out[i] = Math.min(spec.max, Math.max(spec.min, out[i]));
      const [mean, std] = spec.mean !== undefined && spec.std !== undefined ? [spec.mean, spec.std] : meanStd();
      affine(mean, std);
      break;
    }
  }
  return out;
}
