/** Activation layers: Activation, ReLU (with maxValue), LeakyReLU, ELU, Softmax, ThresholdedReLU; and identities. */
import { applyActivation, clip } from '../convert/activation.js';
import type { LayerConversionContext } from '../convert/registry.js';
import type { OnnxValue } from '../onnx/graph-builder.js';

export function convertActivation(ctx: LayerConversionContext): OnnxValue {
  const name = String(ctx.config['activation'] ?? 'linear');
  return applyActivation(ctx.builder, ctx.inputs[0]!, name, ctx.baseName) ?? ctx.unsupported(`activation '${name}'`);
}

export function convertReLU(ctx: LayerConversionContext): OnnxValue {
  const x = ctx.inputs[0]!;
  const max = ctx.config['maxValue'];
  if (typeof max === 'number') return clip(ctx.builder, x, 0, max, ctx.baseName);
  return { ...x, name: ctx.builder.op('Relu', [x.name], ctx.baseName) };
}

export function convertLeakyReLU(ctx: LayerConversionContext): OnnxValue {
  const x = ctx.inputs[0]!;
  return {
    ...x,
    name: ctx.builder.op('LeakyRelu', [x.name], ctx.baseName, { alpha: { float: Number(ctx.config['alpha'] ?? 0.3) } }),
  };
}

export function convertELU(ctx: LayerConversionContext): OnnxValue {
  const x = ctx.inputs[0]!;
  return {
    ...x,
    name: ctx.builder.op('Elu', [x.name], ctx.baseName, { alpha: { float: Number(ctx.config['alpha'] ?? 1) } }),
  };
}

export function convertThresholdedReLU(ctx: LayerConversionContext): OnnxValue {
  const x = ctx.inputs[0]!;
  return {
    ...x,
    name: ctx.builder.op('ThresholdedRelu', [x.name], ctx.baseName, {
      alpha: { float: Number(ctx.config['theta'] ?? 1) },
    }),
  };
}

export function convertSoftmax(ctx: LayerConversionContext): OnnxValue {
  const axis = ([] as number[]).concat((ctx.config['axis'] as number | number[] | undefined) ?? -1);
  if (axis.length !== 1) ctx.unsupported(`Softmax over several axes (${axis.join(', ')})`);
  return applyActivation(ctx.builder, ctx.inputs[0]!, 'softmax', ctx.baseName, axis[0]!)!;
}

/** Dropout and noise layers do nothing at inference. */
export function convertIdentity(ctx: LayerConversionContext): OnnxValue {
  return ctx.inputs[0]!;
}
