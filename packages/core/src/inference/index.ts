/**
 * The inference engine: one sliding-window / whole-image implementation that validation, `rwseg predict`,
 * `rwseg evaluate` and the server's /segment all run, on a pluggable window predictor per runtime.
 */
export { argmaxLabels, toStoredValues, type LabelArray } from './labels.js';
export {
  OnnxWindowPredictor,
  type HostTensorLike,
  type OnnxRunner,
  type OnnxWindowPredictorOptions,
} from './onnx-window-predictor.js';
export {
  cropWindow,
  planWindows,
  predictProbabilities,
  type InferenceMode,
  type InferenceOptions,
  type ProbabilityMap,
  type WindowBatch,
  type WindowPlan,
  type WindowPosition,
} from './probabilities.js';
export { segmentImage, type SegmentImageOptions, type Segmentation } from './segment-image.js';
export { TfjsWindowPredictor, withAnySpatialSize } from './tfjs-window-predictor.js';
export type { WindowPredictor, WindowProbabilities } from './window-predictor.js';
export {
  centeredPadding,
  gaussianImportance,
  GAUSSIAN_FLOOR,
  GAUSSIAN_SIGMA_SCALE,
  roundUpToGrid,
  windowStarts,
} from './windows.js';
