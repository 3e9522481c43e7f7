/**
 * Every module's names in one list, for core's own tests and benchmarks (they import it by relative path). It is
 * not an entry point of the package: the root `@rwseg/core` is entry/root.ts, and each sub-path is an entry/*.ts
 * (package.json `exports`, one report per entry in api/).
 */
export { z } from 'zod';
export { tf, type Tensor, type Scalar } from './tf.js';
export { RwsegError, isRwsegError, type RwsegErrorCode } from './errors.js';
export * from './plugins/api.js';
export {
  PluginRegistry,
  validatePluginShape,
  type BoundMapGenerator,
  type ContributionInfo,
  type RegisteredPlugin,
} from './plugins/registry.js';
export { PluginLoader, type LoadedPlugin } from './plugins/loader.js';
export { pluginsFromPackageJson, type PluginSpec } from './plugins/config.js';
export { BUILTIN_PLUGINS } from './plugins/builtins.js';
export type { CreateRegistryOptions } from './plugins/load-plugins.js';
export * from './services/index.js';
export { parseOptions, optionsJsonSchema, stableKey } from './plugins/options.js';
export { silentLogger, stderrLogger, type Logger } from './logger.js';
export { RWSEG_VERSION } from './version.js';
// Backend selection and the training kernels live in @rwseg/tfjs-training-backends; these are the names callers use.
export * from './backend-names.js';
export { voxelCount, type Volume, type VoxelArray } from './volume.js';
export type { ClassMetrics, MetricsOptions } from './metrics-api.js';
export type { Batch, BatchSource, ScaleTargets } from './data/batch.js';
export * from './distance/index.js';
export * from './maps-check/index.js';
export * from './losses/index.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './io/index.js';
export * from './metrics/index.js';
export * from './training/index.js';
export * from './inference/index.js';
export * from './plots/index.js';
export * from './pipeline/index.js';
export * from './artifact/index.js';
export { isCi, vulkanSkipReason, LAVAPIPE_ICD } from './testing/hardware.js';
export { locateShared, type SharedPath } from './testing/shared-data.js';
export * from './export/index.js';
export * from './stats/index.js';
