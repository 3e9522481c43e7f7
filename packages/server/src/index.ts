export { createServer, describeModels, type ModelDescription, type RwsegServer, type ServerOptions } from './server.js';
export { startServer, type StartedServer } from './start.js';
export {
  DEFAULT_PROVIDERS,
  parseProviderList,
  createSessionWithFallback,
  type ProviderAttempt,
  type SessionWithProvider,
} from './providers.js';
export { TokenChecker, loadTokens, readTokenFile } from './auth.js';
export { ModelStore, ModelVersion, type TensorSpec, type ModelStoreOptions } from './models.js';
export { scanRepository, summarizeConfig, type RepositoryModel } from './model-repository.js';
export {
  metadataOf,
  normalize,
  parseModelMetadata,
  type Normalization,
  type RwsegModelMetadata,
} from './model-metadata.js';
export { DynamicBatcher, QueueFullError, type HostTensor, type TensorMap } from './batcher.js';
export { decodeRequest, encodeResponse, splitBody } from './inference-codec.js';
export { segmentVolume, windowingFor } from './segment-route.js';
export { isSafeName, assertSafeName } from './model-name.js';
export { DATATYPES, type V2Datatype } from './datatypes.js';
export { DEFAULT_MAX_VOXELS, type RequestLimits } from './request-context.js';
export { parseCorsOrigins } from './cors.js';
export { sizeGridOf } from './size-grid.js';
