/**
 * Older files, read with migration (each migration logs one deprecation notice naming the file):
 * - rwseg.json of exporter schema `rwseg-model-metadata/1`, or with no schema (hand-written, or rwseg 0.1):
 *   British `normalisation`, `{ kind }` or a bare method name, scalar statistics, classes as names or a count,
 *   0-based `extra.bestEpoch`;
 * - a trained model folder with no rwseg.json (rwseg 0.1 runs): built from the run's config.json, summary.json and
 *   model.json, the way the trainer builds it now.
 * What cannot be migrated (the file does not say the model's dims or input channels) is rejected by the caller
 * with the field named and what to do.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { RWSEG_VERSION } from '../version.js';
import { artifactNormalization, type ArtifactRunConfig, buildModelArtifact } from './build.js';
import { LEGACY_EXPORT_SCHEMA, MODEL_ARTIFACT_SCHEMA, type ModelArtifactInput } from './schema.js';

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (file: string, field: string, message: string) =>
  new RwsegError('INVALID_CONFIG', `${file}: field '${field}': ${message}`, { file, field });

export function sha256OfFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Old normalization forms -> the artifact's `{ method, scope, ... }`. */
function migrateNormalization(value: unknown, file: string, field: string): unknown {
  if (value === undefined || value === null) return { method: 'none' };
  const spec: Raw = typeof value === 'string' ? { method: value } : isRecord(value) ? { ...value } : {};
  if (!isRecord(value) && typeof value !== 'string')
    throw invalid(file, field, 'expected { method: none | zscore | percentile | minmax, ... }');
  if (spec.method === undefined && spec.kind !== undefined) spec.method = spec.kind;
  delete spec.kind;
  const list = (v: unknown) => (typeof v === 'number' ? [v] : v);
  for (const key of ['mean', 'std', 'min', 'max']) if (spec[key] !== undefined) spec[key] = list(spec[key]);
  if ((spec.method === 'zscore' || spec.method === 'minmax') && spec.scope === undefined) {
    const [a, b] = spec.method === 'zscore' ? ['mean', 'std'] : ['min', 'max'];
    if ((spec[a!] === undefined) !== (spec[b!] === undefined))
      throw invalid(
        file,
        `${field}.${spec[a!] === undefined ? a : b}`,
        `give both '${a}' and '${b}' (scope 'fixed') or neither (per image)`,
      );
    spec.scope = spec[a!] !== undefined ? 'fixed' : 'per-image-and-channel';
  }
  if (spec.method === 'percentile') spec.scope ??= 'per-image-and-channel';
  return spec;
}

function migrateClasses(value: unknown, file: string): unknown {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0)
    return Array.from({ length: value }, (_, index) => ({
      index,
      name: index === 0 ? 'background' : `class ${index}`,
    }));
  if (Array.isArray(value) && value.every((c) => typeof c === 'string'))
    return value.map((name: string, index) => ({ index, name }));
  if (Array.isArray(value) && value.every((c) => isRecord(c)))
    return [...value].sort((x, y) => Number((x as Raw).index) - Number((y as Raw).index));
  throw invalid(file, 'classes', 'expected a list of class names, {index, name} pairs, or a count');
}

/** The first input's shape from an exporter-written `model` section: [N, ...spatial, C]. */
function inputShape(model: unknown): unknown[] | undefined {
  const inputs = isRecord(model) ? model.inputs : undefined;
  const first = Array.isArray(inputs) && isRecord(inputs[0]) ? inputs[0].shape : undefined;
  return Array.isArray(first) ? first : undefined;
}

/** rwseg.json without a schema or of `rwseg-model-metadata/1` -> an artifact document (validated by the caller). */
export function migrateLegacyMetadata(raw: Raw, file: string, dir: string): ModelArtifactInput {
  const shape = inputShape(raw.model);
  const lengthOf = (v: unknown) => (Array.isArray(v) ? v.length : undefined);
  const dims = shape ? shape.length - 2 : (lengthOf(raw.patchSize ?? raw.patch_size) ?? lengthOf(raw.spacing));
  if (dims !== 2 && dims !== 3) {
    throw invalid(
      file,
      'model.inputs',
      'this rwseg.json (an older format) does not say whether the model is 2D or 3D: re-export the run with `rwseg ' +
        'export --force`',
    );
  }
  const channels = shape?.at(-1);
  if (typeof channels !== 'number' || !(channels > 0)) {
    throw invalid(
      file,
      'model.inputs',
      'this rwseg.json (an older format) does not say how many input channels the model takes: re-export the run ' +
        'with `rwseg export --force`',
    );
  }
  const extra = isRecord(raw.extra) ? raw.extra : {};
  const bestEpoch = typeof extra.bestEpoch === 'number' ? extra.bestEpoch + 1 : null; // 0-based before the artifact
  const model = isRecord(raw.model) ? raw.model : undefined;
  const onnxFile = typeof model?.file === 'string' ? model.file : undefined;
  const onnxPath = onnxFile ? path.join(dir, onnxFile) : undefined;
  return {
    schema: MODEL_ARTIFACT_SCHEMA,
    rwsegVersion: typeof raw.rwsegVersion === 'string' ? raw.rwsegVersion : 'unknown',
    createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : new Date(0).toISOString(),
    dims,
    inputChannels: channels,
    classes: migrateClasses(raw.classes ?? raw.classNames ?? raw.numClasses, file) as ModelArtifactInput['classes'],
    patchSize: (raw.patchSize ?? raw.patch_size ?? null) as number[] | null,
    sizeGrid: null,
    normalization: migrateNormalization(
      raw.normalization ?? raw.normalisation,
      file,
      raw.normalization !== undefined ? 'normalization' : 'normalisation',
    ) as ModelArtifactInput['normalization'],
    spacing: (raw.spacing ?? null) as number[] | null,
    sliceAxis: null,
    labelValues: null,
    architecture: isRecord(extra.modelConfig)
      ? { kind: 'unet', config: extra.modelConfig, heads: 1 + Number(extra.droppedDeepSupervisionHeads ?? 0) }
      : null,
    training: {
      loss: raw.loss ?? null,
      seed: typeof extra.seed === 'number' ? extra.seed : null,
      epochs: null,
      config: null,
    },
    metrics: {
      epoch: bestEpoch,
      selection: bestEpoch ? 'best-validation-dice' : 'unknown',
      meanDice: typeof extra.bestDice === 'number' ? extra.bestDice : null,
      classes: null,
    },
    ...(model && onnxFile && onnxPath && existsSync(onnxPath)
      ? {
          export: {
            format: onnxFile.includes('/') ? 'triton' : 'onnx',
            file: onnxFile,
            // The old exporter recorded no checksum: take the file as it is (a legacy export cannot be checked).
            sha256: sha256OfFile(onnxPath),
            exportedAt: typeof raw.createdAt === 'string' ? raw.createdAt : new Date(0).toISOString(),
            converter: typeof raw.converter === 'string' ? raw.converter : 'unknown',
            opset: typeof model.opset === 'number' ? model.opset : 17,
            layout: 'channels-last',
            inputs: model.inputs as { name: string }[],
            outputs: model.outputs as { name: string }[],
            parity: (raw.parity ?? null) as null,
            droppedDeepSupervisionHeads: Number(extra.droppedDeepSupervisionHeads ?? 0),
          },
        }
      : {}),
  };
}

/** The model.json facts a migration needs: input shape [N, ...spatial, C], classes, heads. */
function modelJsonFacts(
  modelJson: string,
): { spatial: number; channels: number; classes: number; heads: number } | undefined {
  try {
    const json = JSON.parse(readFileSync(modelJson, 'utf8')) as {
      modelTopology?: { config?: { layers?: Raw[]; output_layers?: unknown[] } };
    };
    const config = json.modelTopology?.config;
    const inputLayer = config?.layers?.find((l) => l.class_name === 'InputLayer');
    const shape = (isRecord(inputLayer?.config) ? inputLayer.config.batch_input_shape : undefined) as
      number[] | undefined;
    const outputName = (config?.output_layers?.[0] as unknown[] | undefined)?.[0];
    const outputLayer = config?.layers?.find((l) => l.name === outputName);
    const units = isRecord(outputLayer?.config) ? (outputLayer.config.filters ?? outputLayer.config.units) : undefined;
    if (!shape || typeof shape.at(-1) !== 'number') return undefined;
    return {
      spatial: shape.length - 2,
      channels: shape.at(-1)!,
      classes: typeof units === 'number' ? units : 0,
      heads: config?.output_layers?.length ?? 1,
    };
  } catch {
    return undefined;
  }
}

/**
 * A trained model folder of rwseg 0.1 (model.json, no rwseg.json): rebuilt from `<run>/config.json` and
 * summary.json. Returns undefined when the run folder cannot say enough; the caller then rejects the folder.
 */
export function migrateTrainedModelFolder(
  modelDir: string,
  parseConfig: (raw: unknown, file: string) => ArtifactRunConfig,
): ModelArtifactInput | undefined {
  const runDir = path.dirname(path.resolve(modelDir));
  const configFile = path.join(runDir, 'config.json');
  const facts = modelJsonFacts(path.join(modelDir, 'model.json'));
  if (!facts || !existsSync(configFile)) return undefined;
  const config = parseConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
  const summaryFile = path.join(runDir, 'summary.json');
  const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as Raw) : {};
  const bestEpoch = typeof summary.bestEpoch === 'number' ? summary.bestEpoch + 1 : null; // 0-based in rwseg 0.1
  const numClasses = facts.classes || 2;
  const artifact = buildModelArtifact({
    config,
    dataDims: facts.spatial,
    inputChannels: facts.channels,
    classNames: Array.from({ length: numClasses }, (_, k) => (k === 0 ? 'background' : `class ${k}`)),
    unet: { ...(config.model ?? {}), deepSupervision: facts.heads },
    metrics: {
      epoch: bestEpoch,
      selection: bestEpoch ? 'best-validation-dice' : 'unknown',
      meanDice: typeof summary.bestDice === 'number' ? summary.bestDice : null,
      classes: null,
    },
  });
  return {
    ...artifact,
    rwsegVersion: `${RWSEG_VERSION} (migrated)`,
    normalization: artifactNormalization(config.preprocessing.normalization),
  };
}

export { LEGACY_EXPORT_SCHEMA };
