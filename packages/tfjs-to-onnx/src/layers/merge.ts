/** Concatenate and the element-wise merges. Inputs are brought to one layout first (channels-first if any is). */
import { onnxAxis, toChannelsFirst } from '../convert/layout.js';
import type { LayerConversionContext } from '../convert/registry.js';
import type { OnnxValue } from '../onnx/graph-builder.js';

function alignedInputs(ctx: LayerConversionContext): OnnxValue[] {
  const rank = ctx.inputs[0]!.rank;
  if (ctx.inputs.some((v) => v.rank !== rank))
    ctx.unsupported(`merging tensors of different ranks (${ctx.inputs.map((v) => v.rank).join(', ')})`);
  return ctx.inputs.map((v, i) => toChannelsFirst(ctx.builder, v, `${ctx.baseName}_in${i}`));
}

export function convertConcatenate(ctx: LayerConversionContext): OnnxValue {
  const inputs = alignedInputs(ctx);
  const axis = onnxAxis(inputs[0]!, Number(ctx.config['axis'] ?? -1));
  return {
    ...inputs[0]!,
    name: ctx.builder.op(
      'Concat',
      inputs.map((v) => v.name),
      ctx.baseName,
      { axis },
    ),
  };
}

/** n-ary ops ONNX has (Sum, Mean, Max, Min) take all inputs at once; Mul is binary, so it chains. */
export function elementwiseConverter(op: 'Sum' | 'Mean' | 'Max' | 'Min' | 'Mul') {
  return (ctx: LayerConversionContext): OnnxValue => {
    const inputs = alignedInputs(ctx);
    const b = ctx.builder;
    if (op !== 'Mul')
      return {
        ...inputs[0]!,
        name: b.op(
          op,
          inputs.map((v) => v.name),
          ctx.baseName,
        ),
      };
    let acc = inputs[0]!.name;
    for (let i = 1; i < inputs.length; i++)
      acc = b.op('Mul', [acc, inputs[i]!.name], i === inputs.length - 1 ? ctx.baseName : `${ctx.baseName}_${i}`);
    return { ...inputs[0]!, name: acc };
  };
}
