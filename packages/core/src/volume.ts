/** The image type everything passes around: a dense N-D array with its physical voxel spacing. */

export type VoxelArray =
  Float32Array | Float64Array | Int32Array | Int16Array | Uint16Array | Uint8Array | Int8Array | Uint32Array;

export interface Volume<T extends VoxelArray = VoxelArray> {
  /** Row-major voxels, last axis fastest. For multi-channel images the channel axis is last in `shape`. */
  readonly data: T;
  /** Shape, e.g. [H, W] or [D, H, W] (spatial), or [..., C] when `channels` is set. */
  readonly shape: readonly number[];
  /** Physical voxel size per spatial axis (mm), same order as the spatial axes of `shape`. */
  readonly spacing: readonly number[];
  /** Number of channels when the last axis of `shape` is a channel axis; absent for single-channel volumes. */
  readonly channels?: number;
  /** Where the voxels sit in the scanner (formats that carry it: NIfTI, NRRD, MHA, DICOM); see io/orientation.ts. */
  readonly orientation?: VolumeOrientation;
}

/**
 * World placement in LPS millimetres (the DICOM/ITK convention), in Volume axis order: `direction[a]` is the unit
 * world vector of spatial axis a (a = 0 slowest), `origin` the world position of voxel [0, ..., 0], so
 * world = origin + sum_a index[a] * spacing[a] * direction[a].
 */
export interface VolumeOrientation {
  readonly origin: readonly number[];
  readonly direction: readonly (readonly number[])[];
}

/** The spatial axes of a volume's shape: all of it, or all but the last (channel) axis of a multi-channel one. */
export function spatialShapeOf(volume: Pick<Volume, 'shape' | 'channels'>): number[] {
  return volume.channels ? volume.shape.slice(0, -1) : [...volume.shape];
}

export function voxelCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
