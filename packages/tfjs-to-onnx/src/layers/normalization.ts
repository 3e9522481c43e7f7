/**
 * BatchNormalization (inference form, folded into the Conv/ConvTranspose before it when that conv feeds only
 * this layer), LayerNormalization (decomposed, so any TF.js axis set works in either layout) and
 * InstanceNormalization (a custom-layer convention: class name 'InstanceNormalization', weights [gamma, beta],
 * config `epsilon`, normalizing each sample's channel over its spatial axes, as ONNX's op does).
 */
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';
import { onnxAxis, toChannelsFirst } from '../convert/layout.js';
import { permute } from '../convert/arrays.js';
import type { LayerConversionContext, LayerWeight } from '../convert/registry.js';

function weightNamed(weights: LayerWeight[], key: string): LayerWeight | undefined {
  return weights.find((w) => w.name.split('/').pop()!.startsWith(key));
}

function batchNormParams(ctx: LayerConversionContext): {
  mean: Float32Array;
  variance: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
} {
  const weights = ctx.weights();
  const mean = weightNamed(weights, 'moving_mean');
  const variance = weightNamed(weights, 'moving_variance');
  if (!mean || !variance) ctx.unsupported('a BatchNormalization without moving_mean/moving_variance weights');
  const c = mean.data.length;
  const gamma = ctx.config['scale'] === false ? undefined : weightNamed(weights, 'gamma');
  const beta = ctx.config['center'] === false ? undefined : weightNamed(weights, 'beta');
  return {
    mean: mean.data,
    variance: variance.data,
    gamma: gamma?.data ?? new Float32Array(c).fill(1),
    beta: beta?.data ?? new Float32Array(c),
    eps: Number(ctx.config['epsilon'] ?? 1e-3),
  };
}

/** Scales output channel `o` of a Conv ([out, in, ...k]) or ConvTranspose ([in, out, ...k]) weight by a[o]. */
function scaleOutputChannels(w: { dims: number[]; data: Float32Array }, a: Float32Array, outAxis: 0 | 1): void {
  const inner = w.dims.slice(2).reduce((x, y) => x * y, 1);
  const [d0, d1] = [w.dims[0]!, w.dims[1]!];
  for (let i = 0; i < d0; i++) {
    for (let j = 0; j < d1; j++) {
      const s = a[outAxis === 0 ? i : j]!;
      const off = (i * d1 + j) * inner;
      for (let k = 0; k < inner; k++) w.data[off + k]! *= s;
    }
  }
}

/** Folds y = a*conv(x) + c into the conv's weights and bias; false when the producer is not a plain conv. */
function foldIntoConv(b: GraphBuilder, x: OnnxValue, a: Float32Array, c: Float32Array): boolean {
  const conv = b.producerOf(x.name);
  if (!conv || (conv.op_type !== 'Conv' && conv.op_type !== 'ConvTranspose')) return false;
  if (conv.attribute.some((at) => at.name === 'group' && at.i !== 1)) return false;
  const w = b.floatInitializer(conv.input[1]!);
  if (!w) return false;
  const outAxis = conv.op_type === 'Conv' ? 0 : 1;
  if (w.dims[outAxis] !== a.length) return false;
  scaleOutputChannels(w, a, outAxis);
  const bias = conv.input[2] ? b.floatInitializer(conv.input[2]) : undefined;
  if (bias) {
    for (let o = 0; o < a.length; o++) bias.data[o] = bias.data[o]! * a[o]! + c[o]!;
  } else {
    conv.input[2] = b.addFloat(`${conv.output[0]}_folded_B`, c, [c.length]);
  }
  return true;
}

export function convertBatchNormalization(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const { mean, variance, gamma, beta, eps } = batchNormParams(ctx);
  const x = ctx.inputs[0]!;
  const axis = onnxAxis(x, Number(ctx.config['axis'] ?? -1));
  const a = gamma.map((g, i) => g / Math.sqrt(variance[i]! + eps));
  const c = beta.map((be, i) => be - mean[i]! * a[i]!);
  if (axis === 1 && x.channelsFirst && ctx.inputIsExclusive(0) && foldIntoConv(b, x, a, c)) return x;
  const n = mean.length;
  if (axis === 1) {
    const inputs = [
      x.name,
      ...[gamma, beta, mean, variance].map((d, i) =>
        b.addFloat(`${ctx.baseName}_${['scale', 'B', 'mean', 'var'][i]}`, d, [n]),
      ),
    ];
    return { ...x, name: b.op('BatchNormalization', inputs, ctx.baseName, { epsilon: { float: eps } }) };
  }
  // Channel axis elsewhere (e.g. a BatchNormalization over axis 1 of an NHWC tensor): a broadcast Mul + Add.
  const shape = Array.from({ length: x.rank }, (_, i) => (i === axis ? n : 1)).slice(1);
  const scaled = b.op('Mul', [x.name, b.addFloat(`${ctx.baseName}_a`, a, shape)], `${ctx.baseName}_scaled`);
  return { ...x, name: b.op('Add', [scaled, b.addFloat(`${ctx.baseName}_c`, c, shape)], ctx.baseName) };
}

/** Reduces over `axes`, keeping dims; opset 18 moved ReduceMean's axes from an attribute to an input. */
export function reduceMean(b: GraphBuilder, input: string, axes: number[], base: string): string {
  return b.reduce('ReduceMean', input, axes, base);
}

export function convertLayerNormalization(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const x = ctx.inputs[0]!;
  const base = ctx.baseName;
  const tfAxes = ([] as number[])
    .concat(ctx.config['axis'] as number | number[])
    .map((a) => (a < 0 ? a + x.rank : a))
    .sort((p, q) => p - q);
  const axes = tfAxes.map((a) => onnxAxis(x, a));
  const eps = Number(ctx.config['epsilon'] ?? 1e-3);
  const mean = reduceMean(b, x.name, axes, `${base}_mean`);
  const centered = b.op('Sub', [x.name, mean], `${base}_centered`);
  const variance = reduceMean(b, b.op('Mul', [centered, centered], `${base}_sq`), axes, `${base}_var`);
  const std = b.op(
    'Sqrt',
    [b.op('Add', [variance, b.addFloat(`${base}_eps`, [eps], [])], `${base}_var_eps`)],
    `${base}_std`,
  );
  let y = b.op('Div', [centered, std], `${base}_normalized`);
  // gamma/beta have TF.js shape [dims of tfAxes]; reorder them to ONNX axis order and pad with 1s to broadcast.
  const order = axes
    .map((o, i) => [o, i] as const)
    .sort((p, q) => p[0] - q[0])
    .map(([, i]) => i);
  const inputShape = ctx.inputShapes[0]!;
  const paramShape = tfAxes.map((a) => inputShape[a] ?? ctx.unsupported(`LayerNormalization over dynamic axis ${a}`));
  const broadcast = Array.from({ length: x.rank }, (_, i) =>
    axes.includes(i) ? paramShape[axes.indexOf(i)]! : 1,
  ).slice(1);
  const weights = ctx.weights();
  for (const [key, op] of [
    ['gamma', 'Mul'],
    ['beta', 'Add'],
  ] as const) {
    const w = weightNamed(weights, key);
    if (!w) continue;
    const reordered = permute(w.data, paramShape, order);
    y = b.op(
      op,
      [y, b.addFloat(`${base}_${key}`, reordered.data, broadcast)],
      `${base}_${key === 'gamma' ? 'scaled' : 'shifted'}`,
    );
  }
  return { ...x, name: y };
}

export function convertInstanceNormalization(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const x = toChannelsFirst(b, ctx.inputs[0]!, ctx.baseName);
  if (!x.channelsFirst) ctx.unsupported(`InstanceNormalization of a rank-${x.rank} tensor (rank 4 or 5 expected)`);
  const weights = ctx.weights();
  const c = ctx.inputShapes[0]![x.rank - 1];
  if (c == null) ctx.unsupported('InstanceNormalization with a dynamic channel count');
  const gamma = weightNamed(weights, 'gamma')?.data ?? weights[0]?.data ?? new Float32Array(c).fill(1);
  const beta = weightNamed(weights, 'beta')?.data ?? weights[1]?.data ?? new Float32Array(c);
  const eps = Number(ctx.config['epsilon'] ?? 1e-5);
  const inputs = [x.name, b.addFloat(`${ctx.baseName}_scale`, gamma, [c]), b.addFloat(`${ctx.baseName}_B`, beta, [c])];
  return { ...x, name: b.op('InstanceNormalization', inputs, ctx.baseName, { epsilon: { float: eps } }) };
}
