export { loadDataset, normalise, type LoadedDataset } from './datasets.js';
export { createPatchSource, downsampleLabels, type PatchCase, type PatchSourceOptions } from './patch-source.js';
export { compareLosses, comparisonCsv, comparisonMarkdown, runPipeline, runPipelineConfig, type PipelineResult, type PipelineRun, type RunPipelineOptions } from './run.js';
export { applyOverrides, loadPipeline, parsePipeline, pipelineSchema, type PipelineConfig } from './schema.js';
export { syntheticCases, type SyntheticCase, type SyntheticOptions } from './synthetic.js';
