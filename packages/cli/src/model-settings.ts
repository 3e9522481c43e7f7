/**
 * What the inference engine needs to know about a trained model, read from the model itself: its input window
 * and channels and its classes from model.json, and from the run's config.json beside model/ the normalisation,
 * the slice axis of a 2D model trained on 3D cases, the U-Net's size grid and the dataset's label map. The model
 * decides; flags may only override.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizationSpecOf, RwsegError, type Normalization, type NormalizationSpec } from '@rwseg/core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface ModelSettings {
  readonly patch: readonly number[];
  readonly channels: number;
  readonly classes: number;
  readonly normalization: NormalizationSpec;
  /** The setting training used (preprocessing.normalization). */
  readonly normalizationName: Normalization;
  readonly sliceAxis: number;
  /** Sizes the U-Net takes are multiples of this (2^(depth-1)). */
  readonly sizeGrid: number;
  /** Stored label value -> class, when the run's dataset had one (a folder pair's labelMap or labelValues). */
  readonly labelMap?: Readonly<Record<string, number>> | readonly number[];
}

interface RunConfig {
  preprocessing?: { normalization?: Normalization; sliceAxis?: number };
  model?: { depth?: number };
  dataset?: { kind?: string; labelMap?: Record<string, number>; labelValues?: number[] };
}

function readRunConfig(modelDir: string): RunConfig {
  const file = path.join(path.resolve(modelDir), '..', 'config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
  } catch (error) {
    throw new RwsegError('INVALID_CONFIG', `${file} is not valid JSON (${(error as Error).message}): the run's config.json tells how the model normalises images`, { file });
  }
}

const U_NET_DEFAULT_DEPTH = 4;

export function modelSettings(modelDir: string, model: tfl.LayersModel): ModelSettings {
  const input = model.inputs[0]!.shape;
  const patch = input.slice(1, -1);
  if (patch.some((p) => p === null)) throw new RwsegError('INVALID_INPUT', `the model in ${modelDir} has no fixed input window [${patch.join(', ')}]`, { dir: modelDir });
  const config = readRunConfig(modelDir);
  const normalizationName = config.preprocessing?.normalization ?? 'zscore';
  const labelMap = config.dataset?.labelMap ?? config.dataset?.labelValues;
  return {
    patch: patch as number[],
    channels: input.at(-1)!,
    classes: model.outputs[0]!.shape.at(-1)!,
    normalization: normalizationSpecOf(normalizationName),
    normalizationName,
    sliceAxis: config.preprocessing?.sliceAxis ?? 0,
    sizeGrid: 2 ** ((config.model?.depth ?? U_NET_DEFAULT_DEPTH) - 1),
    ...(labelMap ? { labelMap } : {}),
  };
}
