import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Normalization } from '@rwseg/core';

/** What a trained model's run recorded about its preprocessing (its config.json beside model/), if anything. */
export interface RunPreprocessing {
  readonly normalization?: Normalization;
  /** The axis a 2D model's training slices were taken along, when it was trained on 3D cases. */
  readonly sliceAxis?: number;
}

export function runPreprocessing(modelDir: string): RunPreprocessing {
  const file = path.join(path.resolve(modelDir), '..', 'config.json');
  if (!existsSync(file)) return {};
  try {
    const config = JSON.parse(readFileSync(file, 'utf8')) as { preprocessing?: RunPreprocessing };
    return config.preprocessing ?? {};
  } catch {
    return {};
  }
}
