/** `@rwseg/core/io`: reading and writing volumes (NIfTI, PNG, TIFF, NRRD, MetaImage, DICOM, ...) and atomic files. */
export * from '../io/index.js';
export { spatialShapeOf, voxelCount, type Volume, type VolumeOrientation, type VoxelArray } from '../volume.js';
