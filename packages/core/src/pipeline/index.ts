export { loadDataset, loadValidationCases, pipelineDatasetInfo, pipelinePreprocess, splitPipelineCases, type PipelineData } from './datasets.js';
export { compareLosses, comparisonCsv, comparisonMarkdown, writeComparison, type ComparedRun, type ComparisonRow, type LossComparison } from './comparison.js';
export { pairedTests, pairedTestsCsv, pairedTestsMarkdown } from './comparison.js';
export type { PairedComparison, PairedMetric, PairedTestRow, PairedTestsOptions } from './comparison.js';
export { runPipeline, runPipelineConfig, type PipelineResult, type PipelineRun, type RunPipelineOptions } from './run.js';
export { applyOverrides, loadPipeline, parsePipeline, pipelineSchema, type PipelineConfig } from './schema.js';
export { datasetSectionFor, defaultPatchFor, type DatasetSectionOptions } from './from-data.js';
export { describeTrainPreset, TRAIN_PRESET, trainPresetPipeline } from './presets.js';
