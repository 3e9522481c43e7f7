import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import '../src/gradients/conv3d-transpose.js';
import { conv3dBackpropFilterPath } from '../src/wasm-kernels/conv3d-backprop-filter.js';
import { conv3dBackpropInputPath } from '../src/wasm-kernels/conv3d-backprop-input.js';
import { conv3dForwardPath } from '../src/wasm-kernels/conv3d-forward.js';
import { conv3dChannelChunk, type Conv3DPath } from '../src/wasm-kernels/conv3d-geometry.js';
import { setSimdKernelsEnabled } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { compareBackends, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

type Triple = [number, number, number];
interface Conv3DGeometry {
  n: number;
  d: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: Triple;
  stride: number;
  pad: 'same' | 'valid';
}

/**
 * Every path of conv3d.ts: 3x3x3 'same' and 'valid' stride 1 (SIMD), input channels 1 to 20 and output channels
 * 3 to 20 (8-wide register blocks, a 4-wide one, and counts that are not multiples of 4, which leave SIMD),
 * widths leaving 1-3 voxels after the 4-voxel blocks, rectangular kernels, 1x1x1 (matmul), kernel == stride 2
 * (blocks + matmul), stride 2 with 3x3x3 (stock / cpu forward and input gradient, SIMD filter gradient), batch 1-3,
 * and input channels wide enough for the forward convolution to take two passes.
 */
const GEOMETRIES: Conv3DGeometry[] = [
  { n: 2, d: 5, h: 6, w: 7, ci: 3, co: 8, k: [3, 3, 3], stride: 1, pad: 'same' },
  { n: 1, d: 6, h: 5, w: 9, ci: 16, co: 12, k: [3, 3, 3], stride: 1, pad: 'same' },
  { n: 3, d: 4, h: 7, w: 6, ci: 4, co: 4, k: [3, 3, 3], stride: 1, pad: 'valid' },
  { n: 1, d: 5, h: 5, w: 5, ci: 20, co: 16, k: [3, 2, 1], stride: 1, pad: 'same' },
  { n: 2, d: 6, h: 6, w: 6, ci: 4, co: 6, k: [3, 3, 3], stride: 1, pad: 'same' },
  // 27 x 36 input values per output exceed one pass (conv3dChannelChunk): channels 0-31, then 32-35 added in.
  { n: 1, d: 3, h: 4, w: 5, ci: 36, co: 8, k: [3, 3, 3], stride: 1, pad: 'same' },
  { n: 2, d: 3, h: 4, w: 5, ci: 1, co: 4, k: [3, 3, 3], stride: 1, pad: 'same' },
  { n: 2, d: 8, h: 6, w: 4, ci: 8, co: 20, k: [2, 2, 2], stride: 2, pad: 'valid' },
  { n: 1, d: 6, h: 4, w: 8, ci: 2, co: 4, k: [2, 2, 2], stride: 2, pad: 'same' },
  { n: 2, d: 4, h: 6, w: 8, ci: 5, co: 3, k: [1, 1, 1], stride: 1, pad: 'valid' },
  { n: 2, d: 7, h: 5, w: 6, ci: 4, co: 8, k: [3, 3, 3], stride: 2, pad: 'same' },
];

const describe = (g: Conv3DGeometry): string =>
  `x[${g.n},${g.d},${g.h},${g.w},${g.ci}] k${g.k.join('x')} co${g.co} stride ${g.stride} ${g.pad}`;
const wasmBackend = (): WasmBackend => tf.backend() as unknown as WasmBackend;
const infoOf = (g: Conv3DGeometry): tf.backend_util.Conv3DInfo =>
  tf.backend_util.computeConv3DInfo([g.n, g.d, g.h, g.w, g.ci], [...g.k, g.ci, g.co], g.stride, 1, g.pad);

/** Runs `check` with the SIMD kernels, then with them switched off (stock / cpu-bridge fallbacks). */
async function bothPaths(check: (simd: boolean) => Promise<void>): Promise<void> {
  await check(true);
  setSimdKernelsEnabled(false);
  try {
    await check(false);
  } finally {
    setSimdKernelsEnabled(true);
  }
}

const seen = { forward: new Set<Conv3DPath>(), input: new Set<Conv3DPath>(), filter: new Set<Conv3DPath>() };

for (const [index, g] of GEOMETRIES.entries()) {
  const values = (count: number, seed: number) => seededValues(count, seed + index * 10);
  const title = `Conv3D and its input and filter gradients on wasm match cpu, SIMD and fallback: ${describe(g)}`;
  test.serial(title, async (t) => {
    await bothPaths(async (simd) => {
      await useBackend('wasm');
      const info = infoOf(g);
      const paths = [conv3dForwardPath, conv3dBackpropInputPath, conv3dBackpropFilterPath].map((path) =>
        path(wasmBackend(), info),
      );
      if (simd) {
        seen.forward.add(paths[0]!);
        seen.input.add(paths[1]!);
        seen.filter.add(paths[2]!);
      } else {
        t.deepEqual(paths, ['stock', 'cpu', 'cpu']);
      }
      const worst = await compareBackends(() => {
        const x = tf.tensor5d(values(g.n * g.d * g.h * g.w * g.ci, 1), [g.n, g.d, g.h, g.w, g.ci]);
        const filter = tf.tensor5d(values(g.k[0] * g.k[1] * g.k[2] * g.ci * g.co, 2), [...g.k, g.ci, g.co]);
        const y = tf.conv3d(x, filter, g.stride, g.pad);
        const r = tf.tensor(values(y.size, 3), y.shape);
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, g.stride, g.pad);
        const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), r)))([x, filter]);
        return [y, dx!, dFilter!];
      });
      t.true(worst <= 1e-5, `${simd ? `paths ${paths.join('/')}` : 'fallback'}: relative difference ${worst}`);
    });
  });
}

test('conv3dChannelChunk: one pass while taps x channels fit, else passes of a multiple of 4 channels', (t) => {
  t.is(conv3dChannelChunk(27, 32), 32);
  t.is(conv3dChannelChunk(27, 36), 32);
  t.is(conv3dChannelChunk(27, 128), 32);
  t.is(conv3dChannelChunk(1, 500), 500);
  t.is(conv3dChannelChunk(6, 20), 20);
});

test.serial('every conv3d path is exercised by the geometries above', (t) => {
  t.deepEqual([...seen.forward].sort(), ['blocks-matmul', 'matmul', 'simd', 'stock', 'winograd']);
  t.deepEqual([...seen.input].sort(), ['blocks-matmul', 'cpu', 'matmul', 'simd', 'winograd']);
  t.deepEqual([...seen.filter].sort(), ['cpu', 'matmul', 'simd', 'winograd']);
});

/** conv3dTranspose (2x2x2, stride 2: a 3D U-Net's up-sampling) and both its gradients. */
const TRANSPOSED: { n: number; d: number; h: number; w: number; ci: number; co: number }[] = [
  { n: 2, d: 3, h: 2, w: 4, ci: 8, co: 4 },
  { n: 1, d: 2, h: 3, w: 2, ci: 3, co: 5 },
  { n: 3, d: 2, h: 2, w: 3, ci: 16, co: 8 },
];

for (const [index, g] of TRANSPOSED.entries()) {
  const values = (count: number, seed: number) => seededValues(count, seed + index * 10 + 500);
  const shape = `x[${g.n},${g.d},${g.h},${g.w},${g.ci}] -> ${g.co}`;
  test.serial(`conv3dTranspose 2x2x2 stride 2 and its gradients on wasm match cpu: ${shape}`, async (t) => {
    await bothPaths(async (simd) => {
      const worst = await compareBackends(() => {
        const x = tf.tensor5d(values(g.n * g.d * g.h * g.w * g.ci, 1), [g.n, g.d, g.h, g.w, g.ci]);
        const filter = tf.tensor5d(values(8 * g.co * g.ci, 2), [2, 2, 2, g.co, g.ci]);
        const outShape: [number, number, number, number, number] = [g.n, 2 * g.d, 2 * g.h, 2 * g.w, g.co];
        const up = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, outShape, 2, 'same');
        const y = up(x, filter);
        const r = tf.tensor(values(y.size, 3), y.shape);
        const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(up(a, b), r)))([x, filter]);
        return [y, dx!, dFilter!];
      });
      t.true(worst <= 1e-5, `${simd ? 'simd' : 'fallback'}: relative difference ${worst}`);
    });
  });
}

/**
 * Central finite differences of L = sum(op(x, w) * r) (linear in each argument, so the difference quotient is exact
 * up to float32 rounding) against the gradients rwseg's wasm kernels compute, for every filter entry and a spread
 * of input entries.
 */
async function checkFiniteDifferences(
  t: import('ava').ExecutionContext,
  op: (x: tf.Tensor5D, w: tf.Tensor5D) => tf.Tensor,
  xShape: number[],
  wShape: number[],
  seed: number,
): Promise<void> {
  const x5 = (values: Float32Array) => tf.tensor5d(values, xShape as never);
  const w5 = (values: Float32Array) => tf.tensor5d(values, wShape as never);
  await useBackend('wasm');
  const xValues = seededValues(tf.util.sizeFromShape(xShape), seed);
  const wValues = seededValues(tf.util.sizeFromShape(wShape), seed + 1);
  const outShape = tf.tidy(() => op(x5(xValues), w5(wValues)).shape);
  const r = tf.tensor(seededValues(tf.util.sizeFromShape(outShape), seed + 2), outShape);
  const loss = (xv: Float32Array, wv: Float32Array): number =>
    tf.tidy(() => {
      const value = tf.sum(tf.mul(op(x5(xv), w5(wv)), r));
      return value.dataSync()[0] as number;
    });
  const weighted = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor5D, b as tf.Tensor5D), r));
  const [gx, gw] = tf.tidy(() =>
    tf
      .grads(weighted)([x5(xValues), w5(wValues)])
      .map((g) => g.dataSync().slice()),
  );
  const eps = 0.05;
  const difference = (values: Float32Array, i: number, which: 'x' | 'w'): number => {
    const plus = values.slice();
    const minus = values.slice();
    plus[i] = (plus[i] as number) + eps;
    minus[i] = (minus[i] as number) - eps;
    return which === 'x'
      ? (loss(plus, wValues) - loss(minus, wValues)) / (2 * eps)
      : (loss(xValues, plus) - loss(xValues, minus)) / (2 * eps);
  };
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < wValues.length; i++) {
    worst = Math.max(worst, Math.abs(difference(wValues, i, 'w') - (gw![i] as number)));
    scale = Math.max(scale, Math.abs(gw![i] as number));
  }
  for (let i = 0; i < xValues.length; i += 7) {
    worst = Math.max(worst, Math.abs(difference(xValues, i, 'x') - (gx![i] as number)));
    scale = Math.max(scale, Math.abs(gx![i] as number));
  }
  r.dispose();
  t.true(scale > 0.1, `gradient scale ${scale}`);
  t.true(worst / scale < 2e-3, `finite differences: worst ${worst}, scale ${scale}`);
}

test.serial('Conv3D gradients (Winograd paths) match central finite differences', async (t) => {
  await checkFiniteDifferences(t, (x, w) => tf.conv3d(x, w, 1, 'same'), [1, 3, 4, 5, 4], [3, 3, 3, 4, 4], 11);
});

test.serial('Conv3D gradients (direct SIMD paths: a 3x2x3 kernel) match central finite differences', async (t) => {
  await checkFiniteDifferences(t, (x, w) => tf.conv3d(x, w, 1, 'same'), [1, 3, 4, 5, 4], [3, 2, 3, 4, 4], 12);
});

test.serial('conv3dTranspose gradients (blocks + matmul, SIMD filter gradient) match finite differences', async (t) => {
  const up = (x: tf.Tensor5D, w: tf.Tensor5D) => tf.conv3dTranspose(x, w, [2, 4, 2, 6, 4], 2, 'same');
  await checkFiniteDifferences(t, up, [2, 2, 1, 3, 8], [2, 2, 2, 4, 8], 21);
});
