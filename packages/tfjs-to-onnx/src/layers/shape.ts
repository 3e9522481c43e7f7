/**
 * Layers that move elements between axes: Reshape, Flatten, Permute follow TF.js's channels-last element order,
 * so they run on a channels-last view; ZeroPadding2D/Cropping2D work on the channels-first value directly.
 */
import { toChannelsFirst, toChannelsLast, toPreferred } from '../convert/layout.js';
import type { LayerConversionContext } from '../convert/registry.js';
import type { OnnxValue } from '../onnx/graph-builder.js';

export function convertReshape(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const x = toChannelsLast(b, ctx.inputs[0]!, ctx.baseName);
  const target = ctx.config['targetShape'] as number[];
  // 0 copies the batch dimension from the input, keeping it dynamic.
  const shape = b.addInt64(`${ctx.baseName}_shape`, [0, ...target]);
  const y: OnnxValue = {
    name: b.op('Reshape', [x.name, shape], `${ctx.baseName}_reshaped`),
    rank: target.length + 1,
    channelsFirst: false,
  };
  return toPreferred(b, y, ctx.baseName);
}

export function convertFlatten(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const x = toChannelsLast(b, ctx.inputs[0]!, ctx.baseName);
  return { name: b.op('Flatten', [x.name], ctx.baseName, { axis: 1 }), rank: 2, channelsFirst: false };
}

export function convertPermute(ctx: LayerConversionContext): OnnxValue {
  const b = ctx.builder;
  const x = toChannelsLast(b, ctx.inputs[0]!, ctx.baseName);
  const dims = ctx.config['dims'] as number[];
  const y: OnnxValue = {
    name: b.op('Transpose', [x.name], `${ctx.baseName}_permuted`, { perm: [0, ...dims] }),
    rank: x.rank,
    channelsFirst: false,
  };
  return toPreferred(b, y, ctx.baseName);
}

function pairs(value: unknown): [number, number][] {
  if (typeof value === 'number')
    return [
      [value, value],
      [value, value],
    ];
  return (value as (number | number[])[]).map((p) => (typeof p === 'number' ? [p, p] : [p[0]!, p[1]!]));
}

export function convertZeroPadding2D(ctx: LayerConversionContext): OnnxValue {
  if (ctx.config['dataFormat'] === 'channelsFirst') ctx.unsupported("dataFormat 'channelsFirst'");
  const b = ctx.builder;
  const x = toChannelsFirst(b, ctx.inputs[0]!, ctx.baseName);
  const [[t, bottom], [l, r]] = pairs(ctx.config['padding']) as [[number, number], [number, number]];
  const pads = b.addInt64(`${ctx.baseName}_pads`, [0, 0, t, l, 0, 0, bottom, r]);
  return { ...x, name: b.op('Pad', [x.name, pads], ctx.baseName, { mode: 'constant' }) };
}

export function convertCropping2D(ctx: LayerConversionContext): OnnxValue {
  if (ctx.config['dataFormat'] === 'channelsFirst') ctx.unsupported("dataFormat 'channelsFirst'");
  const b = ctx.builder;
  const x = toChannelsFirst(b, ctx.inputs[0]!, ctx.baseName);
  const [[t, bottom], [l, r]] = pairs(ctx.config['cropping']) as [[number, number], [number, number]];
  // Ends count back from each axis' end, which keeps H and W dynamic.
  const starts = b.addInt64(`${ctx.baseName}_starts`, [t, l]);
  const ends = b.addInt64(`${ctx.baseName}_ends`, [
    bottom > 0 ? -bottom : Number.MAX_SAFE_INTEGER,
    r > 0 ? -r : Number.MAX_SAFE_INTEGER,
  ]);
  const axes = b.addInt64(`${ctx.baseName}_axes`, [2, 3]);
  return { ...x, name: b.op('Slice', [x.name, starts, ends, axes], ctx.baseName) };
}
