/**
 * What the data loader hands the trainer. All arrays are channels-last and row-major; they travel from worker
 * threads as transferred ArrayBuffers, so the trainer owns them and may wrap them in tensors without copying.
 */
export interface ScaleTargets {
  /** Spatial shape at this scale (the full patch shape at scale 0). */
  readonly shape: readonly number[];
  /** Integer labels [B, ...shape]. */
  readonly labels: Int32Array;
  /** One-hot target [B, ...shape, K]. */
  readonly target: Float32Array;
  /** Maps by MapRequest.key, each [B, ...shape, K], computed from this scale's labels. */
  readonly maps: Readonly<Record<string, Float32Array>>;
}

export interface Batch {
  /** Number of samples B. */
  readonly size: number;
  /** Image patches [B, ...patchShape, C]. */
  readonly image: Float32Array;
  readonly channels: number;
  readonly numClasses: number;
  /** Voxel spacing of the patches (mm). */
  readonly spacing: readonly number[];
  /** scales[0] is full resolution; further entries exist when deep supervision asks for them (x1/2 each). */
  readonly scales: readonly ScaleTargets[];
  /** Which case each sample came from, for error messages. */
  readonly caseIds: readonly string[];
}

/** Anything the trainer can pull batches from: the worker-thread loader, or an in-memory source in tests. */
export interface BatchSource {
  next(): Promise<Batch>;
  close(): Promise<void>;
}
