/**
 * `@rwseg/core/inference`: the one inference engine (sliding window or whole image, Gaussian weighting, padding to
 * the size grid, 2D slice-wise on 3D) that validation, `rwseg predict`, `rwseg evaluate` and the server's /segment
 * run, with a window predictor per runtime (TF.js, onnxruntime).
 */
export { segmentImage, type SegmentImageOptions, type Segmentation } from '../inference/segment-image.js';
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
} from '../inference/probabilities.js';
export type { WindowPredictor, WindowProbabilities } from '../inference/window-predictor.js';
export { TfjsWindowPredictor, withAnySpatialSize } from '../inference/tfjs-window-predictor.js';
export {
  OnnxWindowPredictor,
  type HostTensorLike,
  type OnnxRunner,
  type OnnxWindowPredictorOptions,
} from '../inference/onnx-window-predictor.js';
export { argmaxLabels, type LabelArray } from '../inference/labels.js';
