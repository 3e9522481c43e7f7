/**
 * Max/average pooling (2D/3D) and global pooling. 'same' pooling pads by an amount that depends on the input
 * size, so it uses SAME_UPPER; average pooling leaves padded cells out of the count, as TF does.
 */
import { perAxis } from '../convert/arrays.js';
import { toChannelsFirst } from '../convert/layout.js';
import type { LayerConversionContext } from '../convert/registry.js';
import type { OnnxValue } from '../onnx/graph-builder.js';

export function poolingConverter(op: 'MaxPool' | 'AveragePool') {
  return (ctx: LayerConversionContext): OnnxValue => {
    if (ctx.config['dataFormat'] === 'channelsFirst') ctx.unsupported("dataFormat 'channelsFirst'");
    const x = toChannelsFirst(ctx.builder, ctx.inputs[0]!, ctx.baseName);
    const spatial = x.rank - 2;
    const kernel = perAxis(ctx.config['poolSize'], spatial, 2);
    const strides = perAxis(ctx.config['strides'] ?? kernel, spatial, 1);
    const padding = String(ctx.config['padding'] ?? 'valid');
    if (padding !== 'same' && padding !== 'valid') ctx.unsupported(`padding '${padding}'`);
    const attrs = { kernel_shape: kernel, strides, auto_pad: padding === 'same' ? 'SAME_UPPER' : 'VALID' };
    return { ...x, name: ctx.builder.op(op, [x.name], ctx.baseName, attrs) };
  };
}

/** GlobalAverage/MaxPooling2D/3D: [N, C, ...] -> [N, C] (TF.js drops the spatial axes unless keepDims). */
export function globalPoolingConverter(op: 'GlobalMaxPool' | 'GlobalAveragePool') {
  return (ctx: LayerConversionContext): OnnxValue => {
    if (ctx.config['dataFormat'] === 'channelsFirst') ctx.unsupported("dataFormat 'channelsFirst'");
    const b = ctx.builder;
    const x = toChannelsFirst(b, ctx.inputs[0]!, ctx.baseName);
    const pooled = b.op(op, [x.name], `${ctx.baseName}_pooled`);
    return { name: b.op('Flatten', [pooled], ctx.baseName, { axis: 1 }), rank: 2, channelsFirst: false };
  };
}
