/**
 * The size grid of a fully convolutional network: the spatial sizes it takes whole are the multiples of its total
 * downsampling factor per axis (2^poolings for a U-Net). Found by walking the layer graph and tracking each
 * tensor's cumulative stride: pooling and strided convolutions multiply it, transposed convolutions and
 * up-sampling divide it; the grid is the largest stride any tensor reaches.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { perAxis } from '../convert/arrays.js';

const DOWNSAMPLING = new Set([
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling2D',
  'AveragePooling3D',
  'Conv2D',
  'Conv3D',
]);
const UPSAMPLING = new Set(['Conv2DTranspose', 'Conv3DTranspose', 'UpSampling2D', 'UpSampling3D']);

function layerStride(layer: tfl.layers.Layer, spatial: number): { factor: number[]; down: boolean } | null {
  const cls = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  if (DOWNSAMPLING.has(cls)) {
    const strides = config['strides'] ?? (cls.includes('Pooling') ? config['poolSize'] : 1);
    return { factor: perAxis(strides, spatial, 1), down: true };
  }
  if (UPSAMPLING.has(cls))
    return {
      factor: perAxis(cls.startsWith('UpSampling') ? config['size'] : config['strides'], spatial, 1),
      down: false,
    };
  return null;
}

/** Per spatial axis, the multiple every input size must be for the network to run on it whole. */
export function inferSizeGrid(model: tfl.LayersModel): number[] {
  const spatial = model.inputs[0]!.shape.length - 2;
  const strideOf = new Map<number, number[]>();
  const grid = new Array<number>(spatial).fill(1);
  for (const t of model.inputs) strideOf.set(t.id, new Array<number>(spatial).fill(1));
  const visit = (t: tfl.SymbolicTensor): number[] => {
    const known = strideOf.get(t.id);
    if (known) return known;
    const node = t.sourceLayer.inboundNodes[t.nodeIndex]!;
    const inputs = node.inputTensors.map(visit);
    const incoming = grid.map((_, a) => Math.max(1, ...inputs.map((s) => s[a]!)));
    const step = layerStride(t.sourceLayer, spatial);
    const own = step ? incoming.map((s, a) => (step.down ? s * step.factor[a]! : s / step.factor[a]!)) : incoming;
    own.forEach((s, a) => (grid[a] = Math.max(grid[a]!, s)));
    strideOf.set(t.id, own);
    return own;
  };
  model.outputs.forEach(visit);
  return grid.map((g) => Math.round(g));
}
