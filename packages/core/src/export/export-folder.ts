/**
 * Atomic export folders. Every file is written to a temporary folder inside the target (same file system), fsynced,
 * and renamed into place, in an order that keeps the target servable at every moment:
 *
 * - onnx (`<out>/model.onnx` + `<out>/rwseg.json`): model.onnx is renamed first, rwseg.json second. rwseg.json
 *   records model.onnx's sha256, so the one in-between state (new model, old rwseg.json) is recognized, and the
 *   reader (exported-model.ts) takes the matching rwseg.json from the staging folder the kill left behind.
 * - triton (`<repo>/<name>/<version>/`): the version folder, holding model.onnx and its own rwseg.json, appears
 *   in one rename; config.pbtxt and the model-level rwseg.json follow. Replacing a model (--force) writes the next
 *   version number and removes the older versions after it, so a server sees the old model or the new one.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { fsyncPath, removeStaleTemporaries, renameDurable, temporaryName, writeFileAtomic } from '../io/files.js';
import { MODEL_ARTIFACT_FILE } from '../artifact/schema.js';

/** The staging folders an export makes inside its target: `.rwseg-export.tmp-<pid>-<n>`. */
export const STAGING_PREFIX = '.rwseg-export.tmp-';

export function stagingFolder(targetDir: string): string {
  mkdirSync(targetDir, { recursive: true });
  removeStaleTemporaries(targetDir);
  const dir = temporaryName(path.join(targetDir, 'rwseg-export'));
  mkdirSync(dir);
  return dir;
}

/** Numeric version folders of a Triton model folder, ascending. */
export function versionFolders(modelDir: string): number[] {
  if (!existsSync(modelDir)) return [];
  return readdirSync(modelDir)
    .filter((v) => /^\d+$/.test(v) && statSync(path.join(modelDir, v)).isDirectory())
    .map(Number)
    .sort((a, b) => a - b);
}

/** fsyncs every file of a folder tree, then the folders, so a rename publishes data that is on disk. */
export function fsyncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(p);
    else fsyncPath(p);
  }
  fsyncPath(dir);
}

/** What an export would overwrite in `outDir`; empty when nothing. */
export function existingExport(outDir: string, format: 'onnx' | 'triton', name?: string): string[] {
  if (format === 'onnx')
    return ['model.onnx', MODEL_ARTIFACT_FILE]
      .filter((f) => existsSync(path.join(outDir, f)))
      .map((f) => path.join(outDir, f));
  const modelDir = path.join(outDir, name!);
  return versionFolders(modelDir).map((v) => path.join(modelDir, String(v)));
}

/**
 * TEST-ONLY hook for the kill -9 tests: with RWSEG_TEST_EXPORT_PAUSE=<step>, the export writes
 * `<marker dir>/test-export-paused-<step>` and waits forever at that step of the commit, so a test's SIGKILL
 * lands at a known point. Not a user feature: nothing else reads this variable.
 */
export async function pauseForKillTest(step: string, markerDir: string): Promise<void> {
  if (process.env.RWSEG_TEST_EXPORT_PAUSE !== step) return;
  writeFileAtomic(path.join(markerDir, `test-export-paused-${step}`), String(process.pid));
  await new Promise<never>(() => setInterval(() => {}, 60_000));
}

/** The commit steps in order (the kill tests pause at each). */
export const COMMIT_STEPS = ['staged', 'model-renamed', 'metadata-renamed'] as const;

/** onnx format: moves the staged model.onnx and rwseg.json into `outDir` (model first; see the module comment). */
export async function commitOnnxExport(staging: string, outDir: string, markerDir: string): Promise<string[]> {
  fsyncTree(staging);
  await pauseForKillTest('staged', markerDir);
  renameDurable(path.join(staging, 'model.onnx'), path.join(outDir, 'model.onnx'));
  await pauseForKillTest('model-renamed', markerDir);
  renameDurable(path.join(staging, MODEL_ARTIFACT_FILE), path.join(outDir, MODEL_ARTIFACT_FILE));
  await pauseForKillTest('metadata-renamed', markerDir);
  rmSync(staging, { recursive: true, force: true });
  return [path.join(outDir, 'model.onnx'), path.join(outDir, MODEL_ARTIFACT_FILE)];
}

/**
 * triton format: `stagedModel` holds config.pbtxt, rwseg.json and the version folder `stagedVersion`; it becomes
 * `<repo>/<name>/<version>` in one rename, then the model-level files follow and older versions go.
 */
export async function commitTritonExport(
  staging: string,
  stagedModel: string,
  stagedVersion: string,
  modelDir: string,
  version: number,
  markerDir: string,
): Promise<string[]> {
  fsyncTree(staging);
  const older = versionFolders(modelDir).filter((v) => v !== version);
  await pauseForKillTest('staged', markerDir);
  const versionDir = path.join(modelDir, String(version));
  if (existsSync(versionDir))
    throw new RwsegError('IO_ERROR', `${versionDir} appeared during the export: another export is writing this model`, {
      file: versionDir,
    });
  renameDurable(stagedVersion, versionDir);
  await pauseForKillTest('model-renamed', markerDir);
  renameDurable(path.join(stagedModel, 'config.pbtxt'), path.join(modelDir, 'config.pbtxt'));
  renameDurable(path.join(stagedModel, MODEL_ARTIFACT_FILE), path.join(modelDir, MODEL_ARTIFACT_FILE));
  await pauseForKillTest('metadata-renamed', markerDir);
  for (const v of older) rmSync(path.join(modelDir, String(v)), { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
  return [
    path.join(modelDir, 'config.pbtxt'),
    path.join(versionDir, 'model.onnx'),
    path.join(versionDir, MODEL_ARTIFACT_FILE),
    path.join(modelDir, MODEL_ARTIFACT_FILE),
  ];
}
