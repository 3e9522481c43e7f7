/**
 * The one reader of model artifacts (schema.ts). Everything downstream of training (export, predict, evaluate,
 * serve) reads a model's facts through readModelArtifact(); nothing re-derives them from the run folder.
 * Errors name the file and the field and say what to do; old formats are migrated with a deprecation notice.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { RwsegError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parsePipeline } from '../pipeline/schema.js';
import { migrateLegacyMetadata, migrateTrainedModelFolder, sha256OfFile } from './migrate.js';
import {
  LEGACY_EXPORT_SCHEMA,
  MODEL_ARTIFACT_FILE,
  MODEL_ARTIFACT_SCHEMA,
  modelArtifactSchema,
  type ModelArtifact,
} from './schema.js';

export interface ReadArtifactOptions {
  /** Deprecation notices (a migrated older file) go to logger.warn. */
  readonly logger?: Pick<Logger, 'warn'>;
}

/** A zod issue path as a field name: `normalization.std[0]`. */
export function fieldName(issuePath: readonly PropertyKey[]): string {
  return (
    issuePath.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') ||
    '(top level)'
  );
}

/** Validates a parsed zod document, or throws one line naming the file and the first bad field. */
export function parseWithSchema<T extends z.ZodType>(schema: T, json: unknown, file: string, advice = ''): z.output<T> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = fieldName(issue.path);
  throw new RwsegError('INVALID_CONFIG', `${file}: field '${field}': ${issue.message}${advice}`, {
    file,
    field,
    issues: parsed.error.issues,
  });
}

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RwsegError('IO_ERROR', `cannot read ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RwsegError('INVALID_CONFIG', `${file}: not valid JSON (${(error as Error).message})`, { file });
  }
}

/**
 * Validates a parsed rwseg.json. `dir` is the folder holding it (migration checks the ONNX file there).
 * Accepts schema rwseg-model/2; migrates rwseg-model-metadata/1 and unversioned files with a notice.
 */
export function parseModelArtifact(
  json: unknown,
  file: string,
  options: ReadArtifactOptions & { dir?: string } = {},
): ModelArtifact {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new RwsegError('INVALID_CONFIG', `${file}: expected a JSON object`, { file });
  const raw = json as Record<string, unknown>;
  const schema = raw.schema;
  if (schema === MODEL_ARTIFACT_SCHEMA) {
    if ('normalisation' in raw && !('normalization' in raw)) {
      // The British spelling of rwseg 0.1, in an otherwise current file (hand-edited): accept it, say so.
      options.logger?.warn(`${file}: 'normalisation' is deprecated; spell it 'normalization'`);
      const { normalisation, ...rest } = raw;
      return parseWithSchema(modelArtifactSchema, { ...rest, normalization: normalisation }, file);
    }
    return parseWithSchema(modelArtifactSchema, raw, file);
  }
  if (schema === undefined || schema === LEGACY_EXPORT_SCHEMA) {
    const migrated = migrateLegacyMetadata(raw, file, options.dir ?? path.dirname(file));
    const artifact = parseWithSchema(
      modelArtifactSchema,
      migrated,
      file,
      ' (an older rwseg.json, migrated: re-export the run with `rwseg export --force`)',
    );
    options.logger?.warn(
      `${file}: ${schema ?? 'unversioned'} model metadata is deprecated; read as ${MODEL_ARTIFACT_SCHEMA} ` +
        `(re-export with \`rwseg export --force\` to update it)`,
    );
    return artifact;
  }
  throw new RwsegError(
    'INVALID_CONFIG',
    `${file}: field 'schema': '${String(schema)}' is not a model format this rwseg reads ` +
      `(${MODEL_ARTIFACT_SCHEMA}, ${LEGACY_EXPORT_SCHEMA}): export the model again with this rwseg`,
    { file, field: 'schema' },
  );
}

/**
 * Reads the artifact of a model folder: `<run>/model` (TF.js model + rwseg.json), an export folder (model.onnx +
 * rwseg.json), a Triton model folder (`<repo>/<name>`, rwseg.json beside config.pbtxt), or the rwseg.json itself.
 * A training run folder is accepted too (its model/ is read).
 */
export function readModelArtifact(dir: string, options: ReadArtifactOptions = {}): ModelArtifact {
  const target = path.resolve(dir);
  if (!existsSync(target)) throw new RwsegError('IO_ERROR', `model folder ${dir} does not exist`, { file: dir });
  if (statSync(target).isFile())
    return parseModelArtifact(readJsonFile(target), dir, { ...options, dir: path.dirname(target) });
  const file = path.join(target, MODEL_ARTIFACT_FILE);
  if (existsSync(file))
    return parseModelArtifact(readJsonFile(file), path.join(dir, MODEL_ARTIFACT_FILE), { ...options, dir: target });
  if (!existsSync(path.join(target, 'model.json')) && existsSync(path.join(target, 'model', 'model.json')))
    return readModelArtifact(path.join(dir, 'model'), options);
  if (existsSync(path.join(target, 'model.json'))) {
    const migrated = migrateTrainedModelFolder(target, (raw, configFile) => parsePipeline(raw, configFile));
    if (migrated) {
      const artifact = parseWithSchema(modelArtifactSchema, migrated, path.join(dir, 'model.json'));
      options.logger?.warn(
        `${dir}: no ${MODEL_ARTIFACT_FILE} (a model trained by rwseg 0.1); rebuilt from the run's config.json and ` +
          `summary.json`,
      );
      return artifact;
    }
    throw new RwsegError(
      'INVALID_CONFIG',
      `${path.join(dir, MODEL_ARTIFACT_FILE)}: missing, and the run folder has no config.json to rebuild it from: ` +
        `retrain, or resume the run (rwseg train --resume --out <run>) to write it`,
      { file: path.join(dir, MODEL_ARTIFACT_FILE), field: 'schema' },
    );
  }
  throw new RwsegError(
    'IO_ERROR',
    `${dir} holds no ${MODEL_ARTIFACT_FILE}: pass a model folder that rwseg train (<run>/model) or rwseg export wrote`,
    { file: path.join(dir, MODEL_ARTIFACT_FILE) },
  );
}

/**
 * Checks that an exported artifact's ONNX file is the one it describes (export.sha256). Returns the problem in
 * words, or undefined when the file matches. A mismatch means an export was interrupted between its renames.
 */
export function checkExportedFile(artifact: ModelArtifact, dir: string): string | undefined {
  if (!artifact.export) return undefined;
  const file = path.join(dir, artifact.export.file);
  if (!existsSync(file)) return `${artifact.export.file} is missing beside ${MODEL_ARTIFACT_FILE}`;
  if (sha256OfFile(file) === artifact.export.sha256) return undefined;
  const what = `${artifact.export.file} does not match the sha256 in ${MODEL_ARTIFACT_FILE}`;
  return `${what} (an export was interrupted): export it again`;
}
