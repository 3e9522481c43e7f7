/**
 * `@rwseg/core/io`: reading and writing volumes in any supported format (NIfTI, PNG, TIFF, JPEG, GIF, BMP, NRRD,
 * MetaImage, DICOM), on files or bytes, with the format told by the first bytes, and the one atomic file writer.
 */
export {
  decodeImage,
  encodeImage,
  isImageFile,
  labelFileName,
  labelFormatFor,
  readImage,
  readVolume,
  writeVolume,
  type DecodeImageOptions,
  type EncodeImageOptions,
  type ImageRead,
  type ReadVolumeOptions,
  type SpacingSource,
  type WriteVolumeOptions,
} from '../io/volume-io.js';
export { spatialShapeOf, voxelCount, type Volume, type VolumeOrientation, type VoxelArray } from '../volume.js';
export {
  detectImageFormat,
  formatOfContent,
  formatOfExtension,
  FORMAT_EXTENSIONS,
  FORMAT_NAMES,
  IMAGE_EXTENSIONS,
  type ImageFormat,
} from '../io/formats.js';
export { declaredSize, type DeclaredSize } from '../io/image-size.js';
// The formats a caller may want by name: NIfTI with its header kept, PNG, a DICOM series folder.
export {
  decodeNifti,
  encodeNifti,
  readNifti,
  writeNifti,
  type NiftiImage,
  type WriteNiftiOptions,
} from '../io/nifti.js';
export type { NiftiDatatypeName, NiftiHeader } from '../io/nifti-header.js';
export {
  decodePng,
  encodePng,
  readPng,
  writePng,
  type PngImage,
  type ReadPngOptions,
  type WritePngOptions,
} from '../io/png.js';
export { listDicomFiles, readDicomSeries } from '../io/dicom-series.js';
export { imageExtension, writeFileAtomic } from '../io/files.js';
