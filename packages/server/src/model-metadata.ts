/**
 * rwseg's metadata beside an exported model (`<repo>/<name>/rwseg.json`): what the segment route needs to
 * turn an image into the model's input (normalisation, patch size) and its output back into labels.
 */
import { applyNormalization, RwsegError, type ArtefactNormalization } from '@rwseg/core';

/**
 * How an image is normalised before inference. Without fixed statistics, zscore and percentile are computed per
 * image and channel by @rwseg/core's `applyNormalization` (on `normalizeChannels`, the function training uses), so
 * serving sees what training saw.
 */
export type Normalisation =
  | { kind: 'none' }
  | { kind: 'zscore'; mean?: number; std?: number }
  | { kind: 'percentile'; percentiles?: [number, number] }
  | { kind: 'minmax'; min?: number; max?: number };

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
  // The exporter writes { method, ... }; { kind, ... } is accepted too.
  const kind = spec.method ?? spec.kind;
  const optional = (key: string) => {
    const v = spec[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RwsegError('INVALID_CONFIG', `${file}: normalisation '${String(kind)}' field '${key}' must be a finite number`, { file });
    return v;
  };
  const pair = (a: string, b: string, check: (x: number, y: number) => boolean, what: string) => {
    const x = optional(a);
    const y = optional(b);
    if ((x === undefined) !== (y === undefined)) throw new RwsegError('INVALID_CONFIG', `${file}: normalisation '${String(kind)}' needs both '${a}' and '${b}' or neither`, { file });
    if (x !== undefined && !check(x, y!)) throw new RwsegError('INVALID_CONFIG', `${file}: normalisation '${String(kind)}' needs ${what}`, { file });
    return x === undefined ? {} : { [a]: x, [b]: y };
  };
  switch (kind) {
    case 'none':
      return { kind: 'none' };
    case 'zscore':
      return { kind: 'zscore', ...pair('mean', 'std', (_m, s) => s > 0, 'std > 0') };
    case 'minmax':
      return { kind: 'minmax', ...pair('min', 'max', (lo, hi) => hi > lo, 'max > min') };
    case 'percentile': {
      const p = spec.percentiles;
      if (p === undefined || p === null) return { kind: 'percentile' };
      if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === 'number' && v >= 0 && v <= 100) || p[0] >= p[1]) {
        throw new RwsegError('INVALID_CONFIG', `${file}: normalisation 'percentile' needs percentiles [low, high] within 0..100`, { file });
      }
      return { kind: 'percentile', percentiles: [p[0], p[1]] };
    }
    default:
      throw new RwsegError('INVALID_CONFIG', `${file}: unknown normalisation '${String(kind)}' (none, zscore, percentile, minmax)`, { file });
  }
}

/** The exporter's `model.inputs[0].name` / `model.outputs[0].name`, when present. */
function tensorName(model: unknown, key: 'inputs' | 'outputs'): string | undefined {
  const list = (model as Record<string, unknown> | undefined)?.[key];
  const name = Array.isArray(list) ? (list[0] as { name?: unknown } | undefined)?.name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/** Validates a parsed rwseg.json; `file` names it in errors. Accepts British and American spellings. */
export function parseModelMetadata(json: unknown, file: string): RwsegModelMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RwsegError('INVALID_CONFIG', `${file}: expected a JSON object`, { file });
  const raw = json as Record<string, unknown>;
  let classes: string[];
  const rawClasses = raw.classes ?? raw.classNames ?? raw.numClasses;
  if (typeof rawClasses === 'number' && Number.isInteger(rawClasses) && rawClasses > 0) classes = Array.from({ length: rawClasses }, (_, i) => `class${i}`);
  else if (Array.isArray(rawClasses) && rawClasses.every((c) => typeof c === 'string')) classes = rawClasses as string[];
  else if (Array.isArray(rawClasses) && rawClasses.every((c) => typeof c?.name === 'string' && Number.isInteger(c?.index))) {
    // The exporter's form: [{ index, name }], output channel `index` is class `name`.
    classes = [];
    for (const c of rawClasses as { index: number; name: string }[]) classes[c.index] = c.name;
    classes = Array.from(classes, (name, i) => name ?? `class${i}`);
  }
  else if (rawClasses === undefined) classes = [];
  else throw new RwsegError('INVALID_CONFIG', `${file}: 'classes' must be a list of names or a count`, { file });
  return {
    classes,
    spacing: numberList(raw.spacing, 'spacing', file),
    normalisation: parseNormalisation(raw.normalisation ?? raw.normalization, file),
    patchSize: numberList(raw.patchSize ?? raw.patch_size, 'patchSize', file),
    rwsegVersion: typeof raw.rwsegVersion === 'string' ? raw.rwsegVersion : undefined,
    loss: raw.loss,
    input: typeof raw.input === 'string' ? raw.input : tensorName(raw.model, 'inputs'),
    output: typeof raw.output === 'string' ? raw.output : tensorName(raw.model, 'outputs'),
    raw,
  };
}

/** The model artefact's form of a normalisation ({ method, scope }, statistics one per channel). */
export function artefactNormalizationOf(n: Normalisation): ArtefactNormalization {
  switch (n.kind) {
    case 'none':
      return { method: 'none' };
    case 'zscore':
      return n.mean !== undefined ? { method: 'zscore', scope: 'fixed', mean: [n.mean], std: [n.std!] } : { method: 'zscore', scope: 'per-image-and-channel' };
    case 'percentile':
      return { method: 'percentile', scope: 'per-image-and-channel', percentiles: n.percentiles ?? [0.5, 99.5] };
    case 'minmax':
      return n.min !== undefined ? { method: 'minmax', scope: 'fixed', min: [n.min], max: [n.max!] } : { method: 'minmax', scope: 'per-image-and-channel' };
  }
}

/** Applies the model's normalisation to a channels-last image ([..., C] row-major): @rwseg/core's applyNormalization. */
export function normalise(data: ArrayLike<number>, channels: number, spec: Normalisation): Float32Array {
  return applyNormalization(data, channels, artefactNormalizationOf(spec));
}
