/**
 * The engine's window predictor on an ONNX model run by onnxruntime (the server's /segment, through its dynamic
 * batcher). It takes the runtime as a function over named host tensors ({type, dims, data}, onnxruntime's own
 * Tensor fields), so core needs no onnxruntime at run time: the server passes its batcher's `infer`, a script
 * can wrap an `ort.InferenceSession` in three lines.
 */
import type { WindowPredictor, WindowProbabilities } from './window-predictor.js';

export interface HostTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** Runs feeds -> the fetched outputs, as onnxruntime's session.run does. */
export type OnnxRunner = (
  feeds: Record<string, { type: 'float32'; dims: number[]; data: Float32Array }>,
  fetches: string[],
) => Promise<Record<string, HostTensorLike>>;

export interface OnnxWindowPredictorOptions {
  readonly run: OnnxRunner;
  /** The image input's name and the probabilities output's name. */
  readonly input: string;
  readonly output: string;
  /** The input's dims as the session reports them, [N, ...spatial, C], with -1 (or null) on dynamic axes. */
  readonly inputDims: readonly (number | null)[];
}

export class OnnxWindowPredictor implements WindowPredictor {
  readonly inputWindow: readonly (number | null)[];
  readonly channels: number | null;
  private readonly options: OnnxWindowPredictorOptions;

  constructor(options: OnnxWindowPredictorOptions) {
    this.options = options;
    const fixed = (d: number | null | undefined) => (d === null || d === undefined || d < 0 ? null : d);
    this.inputWindow = options.inputDims.slice(1, -1).map(fixed);
    this.channels = fixed(options.inputDims.at(-1));
  }

  async predict(windows: Float32Array, count: number, window: readonly number[]): Promise<WindowProbabilities> {
    const { input, output, run } = this.options;
    const channels = windows.length / (count * window.reduce((a, b) => a * b, 1));
    const result = await run({ [input]: { type: 'float32', dims: [count, ...window, channels], data: windows } }, [
      output,
    ]);
    const t = result[output];
    const expected = [count, ...window];
    // A wrong output is the model's fault, not the caller's: a plain Error (an internal failure, 5xx / exit 1).
    if (
      !t ||
      t.type !== 'float32' ||
      !(t.data instanceof Float32Array) ||
      t.dims.length !== window.length + 2 ||
      expected.some((d, a) => t.dims[a] !== d)
    ) {
      throw new Error(
        `output '${output}' has dims [${t?.dims.join(', ') ?? ''}] (${t?.type ?? 'missing'}) ` +
          `for windows [${[...expected, channels].join(', ')}]; expected [N, ...window, K] float32`,
      );
    }
    return { data: t.data, classes: t.dims.at(-1)! };
  }
}
