/** Writes a model artifact (validated first, so nothing invalid reaches a file) with the one atomic writer. */
import path from 'node:path';
import { stageFile, writeFileAtomic, type StagedFile } from '../io/files.js';
import { parseWithSchema } from './read.js';
import { MODEL_ARTIFACT_FILE, modelArtifactSchema, type ModelArtifact, type ModelArtifactInput } from './schema.js';

/** The artifact's JSON text (validated; NaN cannot occur: metrics hold null for missing values). */
export function serializeModelArtifact(artifact: ModelArtifactInput, where = MODEL_ARTIFACT_FILE): string {
  const valid: ModelArtifact = parseWithSchema(modelArtifactSchema, artifact, where);
  return `${JSON.stringify(valid, null, 2)}\n`;
}

/** Writes `<dir>/rwseg.json` atomically; returns the file written. */
export function writeModelArtifact(dir: string, artifact: ModelArtifactInput): string {
  const file = path.join(dir, MODEL_ARTIFACT_FILE);
  writeFileAtomic(file, serializeModelArtifact(artifact, file));
  return file;
}

/** Stages `<dir>/rwseg.json` (written and fsynced under a temporary name) for an export to commit later. */
export function stageModelArtifact(dir: string, artifact: ModelArtifactInput): StagedFile {
  const file = path.join(dir, MODEL_ARTIFACT_FILE);
  return stageFile(file, serializeModelArtifact(artifact, file));
}
