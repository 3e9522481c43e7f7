/** DepthToSpace (NHWC) as contiguous row copies in WebAssembly SIMD; other layouts, or no SIMD module: stock. */
import { size } from './broadcast.js';
import { fallBackToStock, type KernelArgs, type TensorInfo, type WasmBackend } from './stock.js';
import { addressOf, simdKernels } from './simd.js';

/**
 * DepthToSpace, NHWC (the transposed-conv up-sampling's last step): for each input row and block row `a`, the
 * input's channel slice [a*bs*C, (a+1)*bs*C) of every pixel is one contiguous run of the output row.
 */
export function depthToSpace(args: KernelArgs): TensorInfo | TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { blockSize, dataFormat } = args.attrs as unknown as { blockSize: number; dataFormat: string };
  const simd = simdKernels(backend);
  if (simd === undefined || x.dtype !== 'float32' || dataFormat !== 'NHWC' || x.shape.length !== 4 || size(x) === 0)
    return fallBackToStock('DepthToSpace', args);
  const [n, h, w, depth] = x.shape as [number, number, number, number];
  const bs = blockSize;
  const c = depth / (bs * bs);
  const out = backend.makeOutput([n, h * bs, w * bs, c], 'float32');
  const source = addressOf(backend, x);
  const target = addressOf(backend, out);
  const run = bs * c;
  for (let row = 0; row < n * h; row++) {
    for (let a = 0; a < bs; a++) {
      simd.copy_rows(
        source + (row * w * depth + a * run) * 4,
        depth,
        target + (row * bs + a) * w * run * 4,
        run,
        w,
        run,
      );
    }
  }
  return out;
}
