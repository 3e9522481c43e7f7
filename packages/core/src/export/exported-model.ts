/**
 * Reads an exported model's artefact the way a server must: validated, and checked against the ONNX file it
 * describes (export.sha256), so a half-done export is never served. After a kill between an onnx export's two
 * renames (export-folder.ts), the new model.onnx sits beside the old rwseg.json and the new rwseg.json is still in
 * the export's staging folder: that one is taken, read-only, so the folder serves the new model.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { renameDurable } from '../io/files.js';
import {
  checkExportedFile,
  parseModelArtefact,
  readJsonFile,
  readModelArtefact,
  type ReadArtefactOptions,
} from '../artefact/read.js';
import { MODEL_ARTEFACT_FILE, type ModelArtefact } from '../artefact/schema.js';
import { STAGING_PREFIX } from './export-folder.js';

export interface ExportedModel {
  readonly artefact: ModelArtefact;
  /** The folder the artefact's export.file is relative to. */
  readonly dir: string;
  /** The rwseg.json the artefact was read from (a staging folder's after an interrupted export). */
  readonly file: string;
}

/** The artefact of an export folder (`dir` holds rwseg.json, and export.file relative to it). Throws the reason. */
export function readExportedModel(dir: string, options: ReadArtefactOptions = {}): ExportedModel {
  const file = path.join(dir, MODEL_ARTEFACT_FILE);
  const artefact = readModelArtefact(file, options);
  const problem = checkExportedFile(artefact, dir);
  if (!problem) return { artefact, dir, file };
  // Interrupted between the renames: the staged rwseg.json that matches the model.onnx in place is the new one.
  for (const staged of stagingFolders(dir)) {
    const candidate = path.join(staged, MODEL_ARTEFACT_FILE);
    if (!existsSync(candidate)) continue;
    try {
      const other = parseModelArtefact(readJsonFile(candidate), candidate, { ...options, dir });
      if (other.export?.file === artefact.export?.file && !checkExportedFile(other, dir))
        return { artefact: other, dir, file: candidate };
    } catch {
      // A staging folder's unreadable file is no candidate.
    }
  }
  throw new RwsegError('INVALID_CONFIG', `${file}: ${problem}`, { file, field: 'export.sha256' });
}

function stagingFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(STAGING_PREFIX))
    .map((n) => path.join(dir, n));
}

/**
 * Before a new export into `dir`: an earlier export killed between its renames is completed (its staged
 * rwseg.json moved into place), so clearing stale staging folders never leaves the folder unservable.
 */
export function completeInterruptedExport(dir: string): void {
  if (!existsSync(path.join(dir, MODEL_ARTEFACT_FILE))) return;
  try {
    const found = readExportedModel(dir);
    if (found.file !== path.join(dir, MODEL_ARTEFACT_FILE))
      renameDurable(found.file, path.join(dir, MODEL_ARTEFACT_FILE));
  } catch {
    // Nothing servable to keep: the new export replaces it.
  }
}
