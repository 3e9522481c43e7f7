/**
 * A trained model on disk in TF.js's own layout: model.json (topology + weights manifest) and weights.bin, and
 * beside them the model artifact rwseg.json (artifact/schema.ts) when the caller gives one; the folder is replaced
 * as a whole. TF.js's Node file handler lives in tfjs-node, which cannot install here, so this is the small
 * reader/writer the trainer needs; any TF.js loader understands the result.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { RwsegError } from '../errors.js';
import { tf } from '../tf.js';
import { fsyncPath, renameDurable, temporaryName, writeFileAtomic } from '../io/files.js';
import type { ModelArtifactInput } from '../artifact/schema.js';
import { writeModelArtifact } from '../artifact/write.js';
import '../models/instance-norm.js';

/**
 * Writes the folder as a whole: its files go to a hidden staging folder beside `dir`, which then takes the place
 * of the old folder (two renames), so a reader never sees new weights beside an old model.json or rwseg.json.
 */
export async function saveModelDir(
  model: tfl.LayersModel,
  dir: string,
  extra: Record<string, unknown> = {},
  artifact?: ModelArtifactInput,
): Promise<void> {
  mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const staged = temporaryName(path.resolve(dir));
  mkdirSync(staged);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
        writeFileAtomic(path.join(staged, 'weights.bin'), weights);
        const json = {
          modelTopology: artifacts.modelTopology,
          format: 'layers-model',
          generatedBy: 'rwseg',
          convertedBy: null,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
          userDefinedMetadata: extra,
        };
        writeFileAtomic(path.join(staged, 'model.json'), JSON.stringify(json));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    // Validated before it is written: a trainer bug surfaces here, naming the field, not in a later export.
    if (artifact) writeModelArtifact(staged, artifact);
    fsyncPath(staged);
  } catch (error) {
    rmSync(staged, { recursive: true, force: true });
    throw error;
  }
  if (!existsSync(dir)) return renameDurable(staged, dir);
  const old = temporaryName(path.resolve(dir), 'old');
  renameDurable(dir, old);
  renameDurable(staged, dir);
  rmSync(old, { recursive: true, force: true });
}

export async function loadModelDir(
  dir: string,
): Promise<{ model: tfl.LayersModel; metadata: Record<string, unknown> }> {
  const modelJson = path.join(dir, 'model.json');
  if (!existsSync(modelJson))
    throw new RwsegError(
      'IO_ERROR',
      `no model.json in ${dir}: pass the model folder a training run wrote (<run>/model)`,
      { dir },
    );
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    userDefinedMetadata?: Record<string, unknown>;
  };
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p))));
  const data = Buffer.concat(buffers);
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
  return { model, metadata: json.userDefinedMetadata ?? {} };
}
