/** Writes a model artefact (validated first, so nothing invalid reaches a file) with the one atomic writer. */
import path from 'node:path';
import { stageFile, writeFileAtomic, type StagedFile } from '../io/files.js';
import { parseWithSchema } from './read.js';
import { MODEL_ARTEFACT_FILE, modelArtefactSchema, type ModelArtefact, type ModelArtefactInput } from './schema.js';

/** The artefact's JSON text (validated; NaN cannot occur: metrics hold null for missing values). */
export function serializeModelArtefact(artefact: ModelArtefactInput, where = MODEL_ARTEFACT_FILE): string {
  const valid: ModelArtefact = parseWithSchema(modelArtefactSchema, artefact, where);
  return `${JSON.stringify(valid, null, 2)}\n`;
}

/** Writes `<dir>/rwseg.json` atomically; returns the file written. */
export function writeModelArtefact(dir: string, artefact: ModelArtefactInput): string {
  const file = path.join(dir, MODEL_ARTEFACT_FILE);
  writeFileAtomic(file, serializeModelArtefact(artefact, file));
  return file;
}

/** Stages `<dir>/rwseg.json` (written and fsynced under a temporary name) for an export to commit later. */
export function stageModelArtefact(dir: string, artefact: ModelArtefactInput): StagedFile {
  const file = path.join(dir, MODEL_ARTEFACT_FILE);
  return stageFile(file, serializeModelArtefact(artefact, file));
}
