/**
 * Reads an exported model's artifact the way a server must: validated, and checked against the ONNX file it
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
  parseModelArtifact,
  readJsonFile,
  readModelArtifact,
  type ReadArtifactOptions,
} from '../artifact/read.js';
import { MODEL_ARTIFACT_FILE, type ModelArtifact } from '../artifact/schema.js';
import { STAGING_PREFIX } from './export-folder.js';

export interface ExportedModel {
  readonly artifact: ModelArtifact;
  /** The folder the artifact's export.file is relative to. */
  readonly dir: string;
  /** The rwseg.json the artifact was read from (a staging folder's after an interrupted export). */
  readonly file: string;
}

/** The artifact of an export folder (`dir` holds rwseg.json, and export.file relative to it). Throws the reason. */
export function readExportedModel(dir: string, options: ReadArtifactOptions = {}): ExportedModel {
  const file = path.join(dir, MODEL_ARTIFACT_FILE);
  const artifact = readModelArtifact(file, options);
  const problem = checkExportedFile(artifact, dir);
  if (!problem) return { artifact, dir, file };
  // Interrupted between the renames: the staged rwseg.json that matches the model.onnx in place is the new one.
  for (const staged of stagingFolders(dir)) {
    const candidate = path.join(staged, MODEL_ARTIFACT_FILE);
    if (!existsSync(candidate)) continue;
    try {
      const other = parseModelArtifact(readJsonFile(candidate), candidate, { ...options, dir });
      if (other.export?.file === artifact.export?.file && !checkExportedFile(other, dir))
        return { artifact: other, dir, file: candidate };
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
  if (!existsSync(path.join(dir, MODEL_ARTIFACT_FILE))) return;
  try {
    const found = readExportedModel(dir);
    if (found.file !== path.join(dir, MODEL_ARTIFACT_FILE))
      renameDurable(found.file, path.join(dir, MODEL_ARTIFACT_FILE));
  } catch {
    // Nothing servable to keep: the new export replaces it.
  }
}
