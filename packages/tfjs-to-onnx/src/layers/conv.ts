/**
 * Conv2D/Conv3D and their transposes. TF.js kernels are [...k, in, out] (HWIO) for convolutions and
 * [...k, out, in] for transposed ones; ONNX wants [out, in, ...k] for Conv and [in, out, ...k] for
 * ConvTranspose, so both take the permutation [r-1, r-2, 0, ..., r-3].
 */
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';
import type { Attributes } from '../onnx/graph-builder.js';
import { applyActivation } from '../convert/activation.js';
import { permute, perAxis } from '../convert/arrays.js';
import { toChannelsFirst } from '../convert/layout.js';
import type { LayerConversionContext, LayerWeight } from '../convert/registry.js';

function kernelPerm(rank: number): number[] {
  return [rank - 1, rank - 2, ...Array.from({ length: rank - 2 }, (_, i) => i)];
}

interface ConvParts {
  x: OnnxValue;
  kernel: LayerWeight;
  bias: LayerWeight | undefined;
  spatial: number;
  kernelSize: number[];
  strides: number[];
  dilations: number[];
}

function convParts(ctx: LayerConversionContext): ConvParts {
  const { config } = ctx;
  if (config['dataFormat'] === 'channelsFirst')
    ctx.unsupported("dataFormat 'channelsFirst' (only channelsLast models are converted)");
  const [kernel, bias] = ctx.weights();
  if (!kernel) ctx.unsupported('a convolution without a kernel weight (was the layer built?)');
  const spatial = kernel.shape.length - 2;
  const x = toChannelsFirst(ctx.builder, ctx.inputs[0]!, ctx.baseName);
  if (x.rank !== spatial + 2) ctx.unsupported(`a rank-${x.rank} input to a ${spatial}-D convolution`);
  return {
    x,
    kernel,
    bias: config['useBias'] === false ? undefined : bias,
    spatial,
    kernelSize: kernel.shape.slice(0, spatial),
    strides: perAxis(config['strides'], spatial, 1),
    dilations: perAxis(config['dilationRate'], spatial, 1),
  };
}

function finish(ctx: LayerConversionContext, out: OnnxValue): OnnxValue {
  const activation = String(ctx.config['activation'] ?? 'linear');
  const result = applyActivation(ctx.builder, out, activation, `${ctx.baseName}_${activation}`);
  return result ?? ctx.unsupported(`activation '${activation}'`);
}

/**
 * Conv: 'same' padding with unit strides pads (k-1)*d in total whatever the input size, so explicit pads keep
 * spatial dims dynamic; with strides > 1 the amount depends on the size, which SAME_UPPER (extra pad at the
 * end, as TF does) computes at run time.
 */
export function convertConv(ctx: LayerConversionContext): OnnxValue {
  const b: GraphBuilder = ctx.builder;
  const p = convParts(ctx);
  const padding = String(ctx.config['padding'] ?? 'valid');
  const attrs: Attributes = { kernel_shape: p.kernelSize, strides: p.strides, dilations: p.dilations };
  if (padding === 'same') {
    if (p.strides.every((s) => s === 1)) {
      const total = p.kernelSize.map((k, i) => (k - 1) * p.dilations[i]!);
      attrs['pads'] = [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
    } else {
      if (p.dilations.some((d) => d !== 1)) ctx.unsupported("'same' padding with both strides and dilation above 1");
      attrs['auto_pad'] = 'SAME_UPPER';
    }
  } else if (padding !== 'valid') {
    ctx.unsupported(`padding '${padding}'`);
  }
  const w = permute(p.kernel.data, p.kernel.shape, kernelPerm(p.kernel.shape.length));
  const inputs = [p.x.name, b.addFloat(`${ctx.baseName}_W`, w.data, w.shape)];
  if (p.bias) inputs.push(b.addFloat(`${ctx.baseName}_B`, p.bias.data, p.bias.shape));
  const y = b.op('Conv', inputs, ctx.baseName, attrs);
  return finish(ctx, { name: y, rank: p.x.rank, channelsFirst: true });
}

/**
 * ConvTranspose. TF.js sizes the output in*s ('same') or in*s + max(k-s, 0) ('valid'); ONNX gives
 * s*(in-1) + k - pads + output_padding. So 'same' crops max(k-s, 0) (the smaller half first, as TF's
 * forward conv pads), and when k < s both modes add s-k output padding at the end.
 */
export function convertConvTranspose(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const p = convParts(ctx);
  if (p.dilations.some((d) => d !== 1)) ctx.unsupported('dilation in a transposed convolution');
  const padding = String(ctx.config['padding'] ?? 'valid');
  if (padding !== 'same' && padding !== 'valid') ctx.unsupported(`padding '${padding}'`);
  const total = p.kernelSize.map((k, i) => (padding === 'same' ? Math.max(k - p.strides[i]!, 0) : 0));
  const attrs: Attributes = {
    kernel_shape: p.kernelSize,
    strides: p.strides,
    pads: [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))],
    output_padding: p.kernelSize.map((k, i) => Math.max(p.strides[i]! - k, 0)),
  };
  const w = permute(p.kernel.data, p.kernel.shape, kernelPerm(p.kernel.shape.length));
  const inputs = [p.x.name, b.addFloat(`${ctx.baseName}_W`, w.data, w.shape)];
  if (p.bias) inputs.push(b.addFloat(`${ctx.baseName}_B`, p.bias.data, p.bias.shape));
  const y = b.op('ConvTranspose', inputs, ctx.baseName, attrs);
  return finish(ctx, { name: y, rank: p.x.rank, channelsFirst: true });
}
