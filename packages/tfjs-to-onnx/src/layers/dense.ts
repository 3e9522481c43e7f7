/** Dense: y = activation(x W + b) over TF.js's last axis; Gemm for [N, in] inputs, MatMul + Add otherwise. */
import { applyActivation } from '../convert/activation.js';
import { toChannelsLast, toPreferred } from '../convert/layout.js';
import type { LayerConversionContext } from '../convert/registry.js';
import type { OnnxValue } from '../onnx/graph-builder.js';

export function convertDense(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const [kernel, bias] = ctx.weights();
  if (!kernel) ctx.unsupported('a Dense layer without a kernel weight (was the layer built?)');
  const useBias = ctx.config['useBias'] !== false && bias !== undefined;
  const x = toChannelsLast(b, ctx.inputs[0]!, ctx.baseName);
  const w = b.addFloat(`${ctx.baseName}_W`, kernel.data, kernel.shape);
  const units = kernel.shape[1]!;
  const biasName = b.addFloat(`${ctx.baseName}_B`, useBias ? bias.data : new Float32Array(units), [units]);
  let y: string;
  if (x.rank === 2) {
    y = b.op('Gemm', [x.name, w, biasName], ctx.baseName);
  } else {
    y = b.op('Add', [b.op('MatMul', [x.name, w], `${ctx.baseName}_matmul`), biasName], ctx.baseName);
  }
  const activation = String(ctx.config['activation'] ?? 'linear');
  const out = applyActivation(
    b,
    { name: y, rank: x.rank, channelsFirst: false },
    activation,
    `${ctx.baseName}_${activation}`,
  );
  if (!out) ctx.unsupported(`activation '${activation}'`);
  return toPreferred(b, out, ctx.baseName);
}
