export { exportRun, type RunExport, type RunExportOptions } from './run-export.js';
export { readExportedModel, type ExportedModel } from './exported-model.js';
/** The commit steps an export pauses at under RWSEG_TEST_EXPORT_PAUSE (test-only; test/export-kill.test.ts). */
export { COMMIT_STEPS } from './export-folder.js';
