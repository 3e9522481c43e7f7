/**
 * What the server takes from a model's artifact (rwseg.json, read by @rwseg/core's one reader): the classes, the
 * normalization, patch size and spacing the segment route needs, and the tensor names. A model folder without
 * rwseg.json is served for /infer only (no classes, no normalization).
 */
import {
  applyNormalization,
  parseModelArtifact,
  type ArtifactNormalization,
  type ModelArtifact,
} from '@rwseg/core/artifact';

export type Normalization = ArtifactNormalization;

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
  /** The artifact itself (undefined for a folder without rwseg.json). */
  artifact?: ModelArtifact;
}

/** The server's view of an artifact. */
export function metadataOf(artifact: ModelArtifact | undefined): RwsegModelMetadata {
  if (!artifact) return { classes: [], normalization: { method: 'none' } };
  const name = (list: readonly { name: string }[] | undefined) => list?.[0]?.name;
  return {
    classes: artifact.classes.map((c) => c.name),
    ...(artifact.spacing ? { spacing: artifact.spacing } : {}),
    normalization: artifact.normalization,
    ...(artifact.patchSize ? { patchSize: artifact.patchSize } : {}),
    rwsegVersion: artifact.rwsegVersion,
    loss: artifact.training.loss ?? undefined,
    ...(name(artifact.export?.inputs) ? { input: name(artifact.export?.inputs) } : {}),
    ...(name(artifact.export?.outputs) ? { output: name(artifact.export?.outputs) } : {}),
    artifact,
  };
}

/** Validates a parsed rwseg.json (core's reader: current schema, or an older one migrated); `file` names it in errors. */
export function parseModelMetadata(json: unknown, file: string): RwsegModelMetadata {
  return metadataOf(parseModelArtifact(json, file));
}

/** Applies the model's normalization to a channels-last image ([..., C] row-major), returning a new array. */
export function normalize(data: ArrayLike<number>, channels: number, spec: Normalization): Float32Array {
  return applyNormalization(data, channels, spec);
}
