/**
 * The one thing the inference engine asks of a runtime: class probabilities for a batch of windows. TF.js
 * (tfjs-window-predictor.ts: validation, `rwseg predict`, `rwseg evaluate`) and onnxruntime
 * (onnx-window-predictor.ts: the server's /segment) each implement it; everything else (window placement,
 * weighting, accumulation, argmax) is the engine's, so two runtimes whose probabilities agree give the same labels.
 *
 * Layouts: windows [n, ...window, C] row-major channels-last float32; probabilities [n, ...window, K] float32.
 */

export interface WindowProbabilities {
  /** [n, ...window, K] softmax probabilities. */
  readonly data: Float32Array;
  /** K, the number of classes. */
  readonly classes: number;
}

export interface WindowPredictor {
  /**
   * The spatial sizes the model takes, one per model axis: a number where it is fixed (a TF.js model saved for
   * the training patch), null where any size on the model's size grid goes (a fully convolutional export).
   */
  readonly inputWindow: readonly (number | null)[];
  /** Input channels C, when the model declares them. */
  readonly channels: number | null;
  /** Runs `count` windows of shape `window`; resolves to their probabilities. */
  predict(windows: Float32Array, count: number, window: readonly number[]): Promise<WindowProbabilities>;
}
