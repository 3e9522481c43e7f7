export * from './nifti-header.js';
export * from './nifti.js';
export * from './png.js';
export * from './volume-io.js';
export { imageExtension, stageFile, writeFileAtomic, type StagedFile } from './files.js';
