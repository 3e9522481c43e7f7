/**
 * TF.js activation functions (a layer's `activation` option, the Activation layer) as ONNX ops. Softmax runs
 * over TF.js's last axis, which is the channel axis 1 of a channels-first value.
 */
import type { GraphBuilder, OnnxValue } from '../onnx/graph-builder.js';
import { onnxAxis } from './layout.js';

// SELU's constants as TF.js (and Klambauer et al. 2017) fix them.
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softplus',
  'softsign',
  'softmax',
  'logSoftmax',
  'swish',
  'mish',
] as const;

function same(v: OnnxValue, name: string): OnnxValue {
  return { ...v, name };
}

/** Clip(x, lo, hi) with the bounds as inputs, as opset >= 11 wants them. */
export function clip(
  b: GraphBuilder,
  v: OnnxValue,
  lo: number | undefined,
  hi: number | undefined,
  base: string,
): OnnxValue {
  const inputs = [
    v.name,
    lo === undefined ? '' : b.addFloat(`${base}_min`, [lo], []),
    hi === undefined ? '' : b.addFloat(`${base}_max`, [hi], []),
  ];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  return same(v, b.op('Clip', inputs, base));
}

/** Applies the TF.js activation called `name`; returns the value unchanged for 'linear'. Unknown names: null. */
export function applyActivation(
  b: GraphBuilder,
  v: OnnxValue,
  name: string,
  base: string,
  axis = -1,
): OnnxValue | null {
  switch (name) {
    case 'linear':
      return v;
    case 'relu':
      return same(v, b.op('Relu', [v.name], base));
    case 'relu6':
      return clip(b, v, 0, 6, base);
    case 'elu':
      return same(v, b.op('Elu', [v.name], base, { alpha: { float: 1 } }));
    case 'selu':
      return same(v, b.op('Selu', [v.name], base, { alpha: { float: SELU_ALPHA }, gamma: { float: SELU_SCALE } }));
    case 'sigmoid':
      return same(v, b.op('Sigmoid', [v.name], base));
    case 'hardSigmoid':
      return same(v, b.op('HardSigmoid', [v.name], base, { alpha: { float: 0.2 }, beta: { float: 0.5 } }));
    case 'tanh':
      return same(v, b.op('Tanh', [v.name], base));
    case 'softplus':
      return same(v, b.op('Softplus', [v.name], base));
    case 'softsign':
      return same(v, b.op('Softsign', [v.name], base));
    case 'softmax':
      return same(v, b.op('Softmax', [v.name], base, { axis: onnxAxis(v, axis) }));
    case 'logSoftmax':
      return same(v, b.op('LogSoftmax', [v.name], base, { axis: onnxAxis(v, axis) }));
    case 'swish':
      return same(v, b.op('Mul', [v.name, b.op('Sigmoid', [v.name], `${base}_sigmoid`)], base));
    case 'mish': {
      const t = b.op('Tanh', [b.op('Softplus', [v.name], `${base}_softplus`)], `${base}_tanh`);
      return same(v, b.op('Mul', [v.name, t], base));
    }
    default:
      return null;
  }
}
