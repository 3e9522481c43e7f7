export { exportRun, type RunExport, type RunExportOptions } from './run-export.js';
export { completeInterruptedExport, readExportedModel, type ExportedModel } from './exported-model.js';
export { COMMIT_STEPS, STAGING_PREFIX, versionFolders } from './export-folder.js';
