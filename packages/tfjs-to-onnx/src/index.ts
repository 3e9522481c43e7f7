export { convertLayersModel, MIN_OPSET, MAX_OPSET } from './convert/convert.js';
export type { ConvertOptions, ConversionResult, ModelIO, TensorSpec } from './convert/convert.js';
export { registerLayerConverter, registeredLayerClasses } from './convert/registry.js';
export type { LayerConverter, LayerConversionContext, LayerWeight } from './convert/registry.js';
export { applyActivation } from './convert/activation.js';
export { onnxAxis, toChannelsFirst, toChannelsLast } from './convert/layout.js';
export { GraphBuilder } from './onnx/graph-builder.js';
export type { OnnxValue, Attributes, AttributeValue } from './onnx/graph-builder.js';
export { encodeModel, decodeModel } from './onnx/proto.js';
export type { ModelMessage } from './onnx/proto.js';
export { ONNX_SUBSET_PROTO } from './onnx/schema.js';
export { TfjsToOnnxError } from './errors.js';
export type { TfjsToOnnxErrorCode } from './errors.js';
export { TFJS_TO_ONNX_VERSION } from './version.js';
export { fileSystemIO, MODEL_JSON, WEIGHTS_BIN } from './io/file-system-io.js';
export { checkParity, RELATIVE_ERROR_FLOOR } from './parity.js';
export type { ParityOptions, ParityReport, ParityTolerance, ParityCase } from './parity.js';
export { tritonConfig, writeTritonRepository } from './triton.js';
export type { TritonOptions } from './triton.js';
export { buildMetadata, writeMetadata, outputActivation, METADATA_FILE, METADATA_SCHEMA } from './metadata.js';
export type { ModelMetadata, ModelMetadataInput } from './metadata.js';
export { exportModel } from './export.js';
export type { ExportOptions, ExportResult } from './export.js';
export {
  inferSizeGrid,
  normalizationFromMetadata,
  resolveSelfContained,
  CONSTANT_CHANNEL_STD,
} from './self-contained/index.js';
export type { InGraphNormalization, SelfContainedOptions } from './self-contained/index.js';
