/**
 * Reads a Triton-layout model repository: `<repo>/<name>/config.pbtxt`, `<repo>/<name>/<version>/model.onnx`, and
 * the model's artifact rwseg.json (@rwseg/core's reader): `<repo>/<name>/<version>/rwseg.json` for the highest
 * version when the export wrote one there, else `<repo>/<name>/rwseg.json`. Only folders with a safe name and at
 * least one numeric version holding a model.onnx count as models; hidden folders (an export's staging) never do.
 *
 * A bad or incomplete model folder (invalid rwseg.json, a model.onnx that does not match its sha256) is listed with
 * `problem` set: that model is not ready, with the reason, and every other model is served as usual.
 *
 * A plain export folder (`model.onnx` + `rwseg.json` side by side, as `rwseg export --format onnx` and a
 * pipeline's default export write them) is served too, as one model named after the folder, version 1.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { RwsegError } from '@rwseg/core';
import { MODEL_ARTIFACT_FILE, type ModelArtifact } from '@rwseg/core/artifact';
import { readExportedModel } from '@rwseg/core/export';
import { isSafeName } from './model-name.js';
import { metadataOf, type RwsegModelMetadata } from './model-metadata.js';

export interface ModelConfigSummary {
  platform?: string;
  maxBatchSize?: number;
}

export interface RepositoryModel {
  name: string;
  dir: string;
  /** Numeric version folders, ascending. The highest is served when a request names none. */
  versions: string[];
  metadata: RwsegModelMetadata;
  /** Why the model cannot be served (a bad or incomplete folder); undefined when it can. */
  problem?: string;
  config: ModelConfigSummary;
  /** Set for a plain export folder: the one model.onnx, served as version 1. */
  singleFile?: string;
}

/** The two fields of config.pbtxt the server uses; the rest is Triton's business. */
export function summarizeConfig(text: string): ModelConfigSummary {
  const platform = /^\s*platform\s*:\s*"([^"]*)"/m.exec(text)?.[1];
  const maxBatch = /^\s*max_batch_size\s*:\s*(\d+)/m.exec(text)?.[1];
  return { platform, maxBatchSize: maxBatch === undefined ? undefined : Number(maxBatch) };
}

export function modelPath(model: RepositoryModel, version: string): string {
  return model.singleFile ?? join(model.dir, version, 'model.onnx');
}

export function scanRepository(root: string): RepositoryModel[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new RwsegError('IO_ERROR', `model repository '${root}' is not a folder`, { path: root });
  }
  if (existsSync(join(root, 'model.onnx'))) return [plainExportFolder(root)];
  const models: RepositoryModel[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isSafeName(entry.name)) continue;
    const dir = join(root, entry.name);
    const versions = readdirSync(dir, { withFileTypes: true })
      .filter((v) => v.isDirectory() && /^\d+$/.test(v.name) && existsSync(join(dir, v.name, 'model.onnx')))
      .map((v) => v.name)
      .sort((a, b) => Number(a) - Number(b));
    if (versions.length === 0) continue;
    const latest = join(dir, versions.at(-1)!);
    const { artifact, problem } = readArtifact(existsSync(join(latest, MODEL_ARTIFACT_FILE)) ? latest : dir);
    const configFile = join(dir, 'config.pbtxt');
    const config = existsSync(configFile) ? summarizeConfig(readFileSync(configFile, 'utf8')) : {};
    models.push({
      name: entry.name,
      dir,
      versions,
      metadata: metadataOf(artifact),
      ...(problem ? { problem } : {}),
      config,
    });
  }
  return models.sort((a, b) => a.name.localeCompare(b.name));
}

/** The artifact of `dir` (checked against its ONNX file), or the reason it cannot be served. No rwseg.json: neither. */
function readArtifact(dir: string): { artifact?: ModelArtifact; problem?: string } {
  if (!existsSync(join(dir, MODEL_ARTIFACT_FILE))) return {};
  try {
    return { artifact: readExportedModel(dir).artifact };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

function plainExportFolder(root: string): RepositoryModel {
  const folder = basename(resolve(root));
  // The folder name becomes a URL segment; fall back to a fixed name rather than refuse a folder like 'my run'.
  const name = isSafeName(folder) ? folder : 'model';
  const { artifact, problem } = readArtifact(root);
  return {
    name,
    dir: root,
    versions: ['1'],
    metadata: metadataOf(artifact),
    ...(problem ? { problem } : {}),
    config: {},
    singleFile: join(root, 'model.onnx'),
  };
}
