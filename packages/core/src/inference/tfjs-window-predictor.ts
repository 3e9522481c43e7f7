/**
 * The engine's window predictor on a TF.js LayersModel (the trained U-Net: validation, `rwseg predict`,
 * `rwseg evaluate`). Uses the model's first output, the full-resolution head (deep supervision's coarser heads are
 * for training only). Async because the webgpu backend cannot read tensors synchronously under Node.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { RwsegError } from '../errors.js';
import { tf } from '../tf.js';
import type { WindowPredictor, WindowProbabilities } from './window-predictor.js';

export class TfjsWindowPredictor implements WindowPredictor {
  readonly inputWindow: readonly (number | null)[];
  readonly channels: number | null;

  constructor(private readonly model: tfl.LayersModel) {
    const shape = model.inputs[0]!.shape;
    this.inputWindow = shape.slice(1, -1);
    this.channels = shape.at(-1) ?? null;
  }

  async predict(windows: Float32Array, count: number, window: readonly number[]): Promise<WindowProbabilities> {
    const channels = windows.length / (count * window.reduce((a, b) => a * b, 1));
    const head = tf.tidy(() => {
      const output = this.model.predict(tf.tensor(windows, [count, ...window, channels]));
      return Array.isArray(output) ? output[0]! : output;
    });
    try {
      const classes = head.shape.at(-1)!;
      if (head.shape.length !== window.length + 2 || head.shape.slice(1, -1).some((d, a) => d !== window[a])) {
        throw new RwsegError(
          'INVALID_INPUT',
          `model '${this.model.name}' maps windows [${count}, ${window.join(', ')}, ${channels}] ` +
            `to [${head.shape.join(', ')}]; a segmentation model returns [N, ...window, K]`,
          { model: this.model.name },
        );
      }
      return { data: (await head.data()) as Float32Array, classes };
    } finally {
      head.dispose();
    }
  }
}

/**
 * A copy of a model whose input takes any spatial size (the weights shared by value), for whole-image inference
 * with a fully convolutional net saved for its training patch. Sizes must still lie on the model's size grid.
 */
export async function withAnySpatialSize(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  const topology = model.toJSON(undefined, false) as unknown as {
    config: { layers: { class_name: string; config: { batch_input_shape?: (number | null)[] } }[] };
  };
  for (const layer of topology.config.layers) {
    const shape = layer.config.batch_input_shape;
    if (layer.class_name === 'InputLayer' && shape)
      layer.config.batch_input_shape = [shape[0]!, ...shape.slice(1, -1).map(() => null), shape.at(-1)!];
  }
  const copy = await tfl.models.modelFromJSON({ modelTopology: topology as never });
  copy.setWeights(model.getWeights());
  return copy;
}
