/**
 * What the server takes from a model's artefact (rwseg.json, read by @rwseg/core's one reader): the classes, the
 * normalization, patch size and spacing the segment route needs, and the tensor names. A model folder without
 * rwseg.json is served for /infer only (no classes, no normalization).
 */
import {
  applyNormalization,
  parseModelArtefact,
  type ArtefactNormalization,
  type ModelArtefact,
} from '@rwseg/core/artefact';

export type Normalization = ArtefactNormalization;

export interface RwsegModelMetadata {
  classes: string[];
  spacing?: number[];
  normalization: Normalization;
  patchSize?: number[];
  rwsegVersion?: string;
  loss?: unknown;
  /** Input and output tensor names the segment route uses; default to the session's first input/output. */
  input?: string;
  output?: string;
  /** The artefact itself (undefined for a folder without rwseg.json). */
  artefact?: ModelArtefact;
}

/** The server's view of an artefact. */
export function metadataOf(artefact: ModelArtefact | undefined): RwsegModelMetadata {
  if (!artefact) return { classes: [], normalization: { method: 'none' } };
  const name = (list: readonly { name: string }[] | undefined) => list?.[0]?.name;
  return {
    classes: artefact.classes.map((c) => c.name),
    ...(artefact.spacing ? { spacing: artefact.spacing } : {}),
    normalization: artefact.normalization,
    ...(artefact.patchSize ? { patchSize: artefact.patchSize } : {}),
    rwsegVersion: artefact.rwsegVersion,
    loss: artefact.training.loss ?? undefined,
    ...(name(artefact.export?.inputs) ? { input: name(artefact.export?.inputs) } : {}),
    ...(name(artefact.export?.outputs) ? { output: name(artefact.export?.outputs) } : {}),
    artefact,
  };
}

/** Validates a parsed rwseg.json (core's reader: current schema, or an older one migrated); `file` names it in errors. */
export function parseModelMetadata(json: unknown, file: string): RwsegModelMetadata {
  return metadataOf(parseModelArtefact(json, file));
}

/** Applies the model's normalization to a channels-last image ([..., C] row-major), returning a new array. */
export function normalize(data: ArrayLike<number>, channels: number, spec: Normalization): Float32Array {
  return applyNormalization(data, channels, spec);
}
