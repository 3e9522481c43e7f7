export * from './nifti-header.js';
export * from './nifti.js';
export * from './png.js';
export * from './volume-io.js';
export { fsyncPath, imageExtension, isTemporaryName, readBytes, removeStaleTemporaries, renameDurable, stageFile, temporaryName, writeBytesAtomic, writeFileAtomic, type StagedFile } from './files.js';
