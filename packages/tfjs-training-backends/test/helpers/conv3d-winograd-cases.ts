/**
 * The Winograd F(2x2x2, 3x3x3) path of the 3D convolutions (simd/winograd3d.c) against the cpu backend, shared by
 * kernels-conv3d-winograd.test.ts (plain SIMD build) and kernels-conv3d-winograd-fma.test.ts (FMA build).
 *
 * Tolerance, normwise relative (max |wasm - cpu| / max |cpu|), for the forward pass and both gradients:
 *  - F(2x2x2): 1e-5, as for the direct kernels (kernels-conv3d.test.ts). Its transforms have coefficients 0, +-1,
 *    +-1/2 only, so each transformed value is a short sum rounded in float32 and the error stays at the direct
 *    convolution's order. Measured worst over these geometries, both builds: 1.4e-6 (direct kernels: 1.8e-6).
 *  - F(2x4x4): 3e-5. F(4,3)'s constants (up to 8 in A^T, 1/24 in G) scale the rounding of each transformed value
 *    by several times, on two axes. Measured worst: 6.1e-6 (ava --verbose logs each).
 */
import type { ExecutionContext } from 'ava';
import { tf } from '../../src/tf.js';
import { useBackend } from '../../src/use-backend.js';
import '../../src/gradients/conv3d-transpose.js';
import { conv3dBackpropFilterPath } from '../../src/wasm-kernels/conv3d-backprop-filter.js';
import { conv3dBackpropInputPath } from '../../src/wasm-kernels/conv3d-backprop-input.js';
import { conv3dForwardPath } from '../../src/wasm-kernels/conv3d-forward.js';
import { setWinogradEnabled, winogradTiling } from '../../src/wasm-kernels/conv3d-geometry.js';
import type { WasmBackend } from '../../src/wasm-kernels/stock.js';
import { compareBackends, relativeDifference, runOn, seededValues } from '../../src/testing/compare-backends.js';

export const WINOGRAD_TOLERANCE = { 'F(2x2x2)': 1e-5, 'F(2x4x4)': 3e-5 };

export interface WinogradGeometry {
  n: number;
  d: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  pad: 'same' | 'valid';
}

/**
 * Sizes that are not a multiple of the 2x2x2 tile in any, some or all axes, the smallest Winograd output (2 per
 * side), input channels 4 to 64 including tails of 1 to 3 after the 4-channel groups (5, 7, 21), output channels 4
 * to 40 (the 8-wide and 4-wide register blocks), batch 1 to 3, 'same' and 'valid'. Where an input gradient would
 * need Ci % 4 (5, 7, 21 channels) it leaves Winograd for the cpu backend; the paths are asserted below.
 */
export const WINOGRAD_GEOMETRIES: WinogradGeometry[] = [
  { n: 2, d: 5, h: 6, w: 7, ci: 4, co: 8, pad: 'same' },
  { n: 1, d: 2, h: 2, w: 2, ci: 8, co: 4, pad: 'same' },
  { n: 3, d: 3, h: 5, w: 2, ci: 5, co: 4, pad: 'same' },
  { n: 1, d: 9, h: 4, w: 6, ci: 21, co: 12, pad: 'same' },
  { n: 2, d: 6, h: 7, w: 5, ci: 7, co: 16, pad: 'valid' },
  { n: 1, d: 4, h: 5, w: 3, ci: 36, co: 40, pad: 'same' },
  { n: 2, d: 4, h: 4, w: 4, ci: 64, co: 64, pad: 'same' },
  { n: 1, d: 8, h: 7, w: 9, ci: 16, co: 16, pad: 'same' },
  // F(2x4x4) (height and width >= 16): tiles cut in height, width or both; channel tails; 'valid'; 32 channels.
  { n: 2, d: 3, h: 17, w: 18, ci: 8, co: 8, pad: 'same' },
  { n: 1, d: 4, h: 16, w: 19, ci: 5, co: 12, pad: 'same' },
  { n: 1, d: 5, h: 18, w: 20, ci: 4, co: 4, pad: 'valid' },
  { n: 2, d: 2, h: 16, w: 16, ci: 32, co: 16, pad: 'same' },
];

const wasm = (): WasmBackend => tf.backend() as unknown as WasmBackend;
export const describeGeometry = (g: WinogradGeometry): string =>
  `x[${g.n},${g.d},${g.h},${g.w},${g.ci}] 3x3x3 co${g.co} ${g.pad}`;

/** Forward, input gradient and filter gradient of sum(conv3d(x, w) * r) from seeded inputs. */
function convAndGradients(g: WinogradGeometry, seed: number): () => tf.Tensor[] {
  return () => {
    const x = tf.tensor5d(seededValues(g.n * g.d * g.h * g.w * g.ci, seed), [g.n, g.d, g.h, g.w, g.ci]);
    const filter = tf.tensor5d(seededValues(27 * g.ci * g.co, seed + 1), [3, 3, 3, g.ci, g.co]);
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, g.pad);
    const y = conv(x, filter);
    const r = tf.tensor(seededValues(y.size, seed + 2), y.shape);
    const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), r)))([x, filter]);
    return [y, dx!, dFilter!];
  };
}

/**
 * One geometry: the expected paths (Winograd forward and filter gradient; Winograd input gradient where Ci % 4 is
 * 0), wasm vs cpu within the tiling's WINOGRAD_TOLERANCE, and Winograd vs the direct SIMD kernels within the same.
 */
export async function checkWinograd(t: ExecutionContext, g: WinogradGeometry, seed: number): Promise<void> {
  await useBackend('wasm');
  const info = tf.backend_util.computeConv3DInfo([g.n, g.d, g.h, g.w, g.ci], [3, 3, 3, g.ci, g.co], 1, 1, g.pad);
  t.is(conv3dForwardPath(wasm(), info), 'winograd');
  t.is(conv3dBackpropInputPath(wasm(), info), g.ci % 4 === 0 ? 'winograd' : 'cpu');
  t.is(conv3dBackpropFilterPath(wasm(), info), 'winograd');
  const compute = convAndGradients(g, seed);
  const worst = await compareBackends(compute);
  const tiling = winogradTiling([info.outDepth, info.outHeight, info.outWidth]);
  const tolerance = WINOGRAD_TOLERANCE[tiling];
  t.log(`${tiling} vs cpu: ${worst.toExponential(2)}`);
  t.true(worst <= tolerance, `${tiling} vs cpu: relative difference ${worst}`);
  const winograd = await runOn('wasm', compute);
  setWinogradEnabled(false);
  try {
    t.is(conv3dForwardPath(wasm(), info), 'simd');
    const direct = await runOn('wasm', compute);
    const cpu = await runOn('cpu', compute);
    const directWorst = Math.max(...direct.values.map((v, i) => relativeDifference(v, cpu.values[i]!)));
    t.log(`direct vs cpu: ${directWorst.toExponential(2)}`);
    direct.values.forEach((values, i) => {
      const difference = relativeDifference(winograd.values[i]!, values);
      t.true(difference <= tolerance, `output ${i}: ${tiling} vs direct SIMD ${difference}`);
    });
  } finally {
    setWinogradEnabled(true);
  }
}
