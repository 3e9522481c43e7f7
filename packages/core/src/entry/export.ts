/**
 * `@rwseg/core/export`: a trained run to ONNX (or a Triton model repository) with its parity check against TF.js,
 * as `rwseg export` and a pipeline's `export:` do, and reading an exported model folder back (the server).
 */
export { exportRun, type RunExport, type RunExportOptions } from '../export/run-export.js';
export { readExportedModel, type ExportedModel } from '../export/exported-model.js';
