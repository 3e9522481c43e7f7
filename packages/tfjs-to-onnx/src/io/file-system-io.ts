/**
 * A tf.io.IOHandler over a local folder (`model.json` + `weights.bin`, the layout tfjs-node's file:// handler
 * writes), for Node programs without tfjs-node. Saving writes both files under temporary names and renames them
 * into place, weights first, so a reader never sees a model.json pointing at half-written weights.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TfjsToOnnxError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

async function readOrFail(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new TfjsToOnnxError('IO_ERROR', `cannot read ${path}: ${(err as Error).message}`, { path });
  }
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/**
 * IOHandler saving to and loading from `dir`:
 * `await model.save(fileSystemIO(dir))`, `await tfl.loadLayersModel(fileSystemIO(dir))`.
 */
export function fileSystemIO(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new TfjsToOnnxError(
          'INVALID_MODEL',
          `fileSystemIO(${dir}) saves LayersModels (JSON topology), not binary graph models`,
        );
      }
      await mkdir(dir, { recursive: true });
      const weights = weightBytes(artifacts.weightData);
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const path = join(dir, MODEL_JSON);
      let modelJSON: tf.io.ModelJSON;
      try {
        modelJSON = JSON.parse((await readOrFail(path)).toString('utf8')) as tf.io.ModelJSON;
      } catch (err) {
        if (err instanceof TfjsToOnnxError) throw err;
        throw new TfjsToOnnxError('IO_ERROR', `${path} is not valid JSON: ${(err as Error).message}`, { path });
      }
      if (!modelJSON.modelTopology) throw new TfjsToOnnxError('IO_ERROR', `${path} has no modelTopology`, { path });
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: Uint8Array[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) buffers.push(await readOrFail(join(dir, p)));
        }
        const all = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
        let offset = 0;
        for (const b of buffers) {
          all.set(b, offset);
          offset += b.byteLength;
        }
        return [specs, all.buffer];
      });
    },
  };
}
