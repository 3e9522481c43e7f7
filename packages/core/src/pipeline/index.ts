export { loadDataset, type LoadedDataset } from './datasets.js';
export { createPatchSource, type PatchCase, type PatchSourceOptions } from './patch-source.js';
export { compareLosses, comparisonCsv, comparisonMarkdown, runPipeline, runPipelineConfig, type PipelineResult, type PipelineRun, type RunPipelineOptions } from './run.js';
export { applyOverrides, loadPipeline, parsePipeline, pipelineSchema, type PipelineConfig } from './schema.js';
export { syntheticCases, type SyntheticCase, type SyntheticOptions as SyntheticEllipsesOptions } from './synthetic.js';
