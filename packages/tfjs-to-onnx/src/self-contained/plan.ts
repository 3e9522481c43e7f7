/**
 * What a self-contained export adds around the converted network, decided once from the model and the options:
 * on the way in normalization then padding to the size grid (centered), on the way out cropping back and the label
 * output.
 *
 *   raw [N, ...S, C] -> Transpose -> normalize -> Pad to grid -> network -> Slice to S -> Transpose -> output
 *                                                                               \-> ArgMax -> Cast -> labels [N, ...S]
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { toChannelsFirst } from '../convert/layout.js';
import { TfjsToOnnxError } from '../errors.js';
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';
import { DataType } from '../onnx/proto.js';
import { cropToImage, padToGrid, type GridPadding } from './grid-padding.js';
import { normalizeInGraph, perChannel } from './normalization-graph.js';
import { resolveSelfContained, type ResolvedSelfContained, type SelfContainedOptions } from './options.js';
import { inferSizeGrid } from './size-grid.js';

export interface SelfContainedPlan extends ResolvedSelfContained {
  /** The size grid used (per spatial axis). */
  grid: number[];
  /** TF.js-style shapes of the graph's input and probability output (null: dynamic). */
  inputShape: (number | null)[];
  outputShape: (number | null)[];
  prepareInput(b: GraphBuilder, input: OnnxValue): OnnxValue;
  finishOutput(b: GraphBuilder, output: OnnxValue): OnnxValue;
  addLabels(b: GraphBuilder, probabilities: OnnxValue, name: string): void;
}

/** Largest class count a uint8 label can hold. */
const MAX_LABEL_CLASSES = 256;

function invalid(message: string): TfjsToOnnxError {
  return new TfjsToOnnxError('INVALID_OPTION', `selfContained: ${message}`);
}

export function planSelfContained(model: tfl.LayersModel, options: SelfContainedOptions): SelfContainedPlan {
  const resolved = resolveSelfContained(options);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw invalid(
      `needs a model with one input and one output, '${model.name}' has ${model.inputs.length} and ` +
        `${model.outputs.length} (export the full-resolution head only)`,
    );
  }
  const inShape = model.inputs[0]!.shape;
  const outShape = model.outputs[0]!.shape;
  const rank = inShape.length;
  if (rank !== 4 && rank !== 5)
    throw invalid(`needs an image or volume input ([N, H, W, C] or [N, D, H, W, C]), got rank ${rank}`);
  if (outShape.length !== rank)
    throw invalid(`needs a per-pixel output of the input's rank ${rank}, got rank ${outShape.length}`);
  const channels = inShape[rank - 1];
  const classes = outShape[rank - 1];
  if (channels == null || classes == null) throw invalid('needs known input channel and output class counts');
  const spatial = rank - 2;
  const inSpatial = inShape.slice(1, -1);
  const outSpatial = outShape.slice(1, -1);
  if (
    resolved.dynamicSpatial === 'any' &&
    inSpatial.some((s, a) => s != null && outSpatial[a] != null && s !== outSpatial[a])
  ) {
    throw invalid(
      `dynamicSpatial 'any' crops the output back to the input's size, ` +
        `but the model maps [${inSpatial}] to [${outSpatial}]`,
    );
  }
  const given = resolved.sizeGrid;
  if (given && given.length !== 1 && given.length !== spatial)
    throw invalid(`sizeGrid has ${given.length} values for ${spatial} spatial axes`);
  const grid = given ? (given.length === 1 ? new Array<number>(spatial).fill(given[0]!) : given) : inferSizeGrid(model);
  inSpatial.forEach((s, a) => {
    if (s != null && s % grid[a]! !== 0)
      throw invalid(
        `the size grid [${grid}] does not divide the model's own input size [${inSpatial}] (axis ${a}); pass sizeGrid`,
      );
  });
  if (resolved.labelsName && classes < 2)
    throw invalid(`argmaxOutput needs at least 2 classes, the model has ${classes} output channel`);
  if (resolved.labelsName && classes > MAX_LABEL_CLASSES)
    throw invalid(`argmaxOutput writes uint8 labels, the model has ${classes} classes`);
  const n = resolved.normalization;
  // Checked here, before an export spends time on its parity check, not only when the graph is built.
  if (n.method === 'fixed') {
    perChannel(n.mean, channels, 'mean');
    perChannel(n.std, channels, 'std');
  }
  const dynamic = resolved.dynamicSpatial !== 'fixed';
  let padding: GridPadding | null = null;
  return {
    ...resolved,
    grid,
    inputShape: dynamic ? [null, ...inSpatial.map(() => null), channels] : [...inShape],
    outputShape: dynamic ? [null, ...outSpatial.map(() => null), classes] : [...outShape],
    prepareInput(b, input) {
      const x = normalizeInGraph(b, input, channels, resolved.normalization);
      if (resolved.dynamicSpatial !== 'any') return x;
      padding = padToGrid(b, x, grid);
      return padding.padded;
    },
    finishOutput(b, output) {
      if (!padding) return output;
      return cropToImage(b, toChannelsFirst(b, output, 'crop'), padding);
    },
    addLabels(b, probabilities, name) {
      const p = toChannelsFirst(b, probabilities, 'labels');
      // ArgMax keeps the first of tied classes, as rwseg's argmax does.
      const index = b.op('ArgMax', [p.name], 'labels_int64', { axis: 1, keepdims: 0, select_last_index: 0 });
      b.opWithReservedOutput('Cast', [index], name, { to: DataType.UINT8 });
    },
  };
}
