/**
 * `@rwseg/core`: what a library user needs, one line per job. The shared TF.js, errors, version and logging; the
 * plugin registry and a loss built from it; reading and writing images; training (a pipeline YAML, or the trainer
 * by hand), predicting, evaluating, reading a model artifact and exporting it; the TF.js backends. Each job's
 * other names are in its sub-path (package.json `exports`, one report per entry in api/): `/base` (errors,
 * version and logger without TF.js), `/plugin`, `/io`, `/distance`, `/metrics`, `/stats`, `/data`, `/losses`,
 * `/training`, `/inference`, `/artifact`, `/export`, `/pipeline`, `/maps`, `/plots`, `/services` and `/testing`.
 */
// The one TF.js every module and plugin shares: a second copy would not see the backend that useBackend set.
export { tf, type Tensor, type Scalar } from '../tf.js';
export { RwsegError, isRwsegError, type RwsegErrorCode } from '../errors.js';
export { RWSEG_VERSION } from '../version.js';
export { silentLogger, stderrLogger, type Logger } from '../logger.js';
// Plugins: every loss and map resolves by name from a registry; createRegistry loads the built-ins and yours.
export { createRegistry } from '../services/container.js';
export type { CreateRegistryOptions } from '../plugins/load-plugins.js';
export { PluginRegistry, type ContributionInfo } from '../plugins/registry.js';
export { BUILTIN_PLUGINS } from '../plugins/builtins.js';
export type { Loss, LossInput } from '../plugins/api.js';
export { buildLoss } from '../losses/combine.js';
export type { LossConfig } from '../losses/loss-config.js';
export { deepSupervision, type DeepSupervisedLoss, type DeepSupervisionOptions } from '../losses/deep-supervision.js';
// Images: any supported format in, NIfTI / PNG / TIFF / ... out (the rest of the formats' names: /io).
export { readVolume, writeVolume } from '../io/volume-io.js';
export type { Volume, VoxelArray } from '../volume.js';
// Train -> evaluate -> export as a pipeline YAML says (what `rwseg train` and `rwseg pipeline run` call).
export { loadPipeline, type PipelineConfig } from '../pipeline/schema.js';
export { runPipeline, runPipelineConfig, type PipelineResult, type RunPipelineOptions } from '../pipeline/run.js';
// Training by hand: a dataset, a loader, a U-Net and the trainer.
export { openDataset } from '../data/open-dataset.js';
export { createLoader } from '../data/loader.js';
export { buildUNet } from '../models/unet.js';
export type { UNetConfigInput } from '../models/unet-config.js';
export { train, type TrainingOptions, type TrainingResult } from '../training/trainer.js';
// Predict, evaluate, read the artifact, export.
export { loadModelDir } from '../training/model-files.js';
export { TfjsWindowPredictor } from '../inference/tfjs-window-predictor.js';
export { segmentImage, type Segmentation } from '../inference/segment-image.js';
export { computeSegmentationMetrics } from '../metrics/segmentation-metrics.js';
export type { ClassMetrics } from '../metrics-api.js';
export { readModelArtifact, type ModelArtifact } from '../artifact/index.js';
export { exportRun } from '../export/run-export.js';
// The TF.js backends (@rwseg/tfjs-training-backends): useBackend('auto' | 'webgpu' | 'wasm' | ...) and the WebGPU
// helpers.
export * from '../backend-names.js';
