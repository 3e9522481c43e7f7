/**
 * UpSampling2D (and a custom 'UpSampling3D' with the same `size`/`interpolation` config, since tfjs-layers has
 * none). TF.js resizes with alignCorners = halfPixelCenters = false: source coordinate = output coordinate /
 * scale, rounded down for nearest. That is ONNX Resize's 'asymmetric' transform with nearest_mode 'floor'.
 */
import { perAxis } from '../convert/arrays.js';
import { toChannelsFirst } from '../convert/layout.js';
import type { LayerConversionContext } from '../convert/registry.js';
import type { OnnxValue } from '../onnx/graph-builder.js';

export function convertUpSampling(ctx: LayerConversionContext): OnnxValue {
  if (ctx.config['dataFormat'] === 'channelsFirst') ctx.unsupported("dataFormat 'channelsFirst'");
  const b = ctx.builder;
  const x = toChannelsFirst(b, ctx.inputs[0]!, ctx.baseName);
  const size = perAxis(ctx.config['size'], x.rank - 2, 2);
  const interpolation = String(ctx.config['interpolation'] ?? 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') ctx.unsupported(`interpolation '${interpolation}'`);
  const scales = b.addFloat(`${ctx.baseName}_scales`, [1, 1, ...size], [x.rank]);
  const attrs =
    interpolation === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
  return { ...x, name: b.op('Resize', [x.name, '', scales], ctx.baseName, attrs) };
}
