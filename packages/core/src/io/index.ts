export * from './nifti-header.js';
export * from './nifti.js';
export * from './png.js';
export * from './volume-io.js';
export * from './orientation.js';
export { colorSamplesToVolume, type ColorPolicy } from './color.js';
export {
  FORMAT_EXTENSIONS,
  FORMAT_NAMES,
  detectImageFormat,
  formatOfContent,
  formatOfExtension,
  type ImageFormat,
} from './formats.js';
export { listDicomFiles, readDicomSeries } from './dicom-series.js';
export { imageExtension, stageFile, writeFileAtomic, type StagedFile } from './files.js';
export type { VolumeOrientation } from '../volume.js';
export { declaredSize, type DeclaredSize } from './image-size.js';
