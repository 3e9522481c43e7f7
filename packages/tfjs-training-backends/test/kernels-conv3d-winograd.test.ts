// The Winograd path of the 3D convolutions on the plain SIMD build (conv3d-winograd-cases.ts says what and why),
// its shape rule, and its gradients against finite differences.
import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { conv3dForwardPath } from '../src/wasm-kernels/conv3d-forward.js';
import { winogradApplies, winogradBlock, winogradTiling } from '../src/wasm-kernels/conv3d-geometry.js';
import { simdVariant } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { checkWinograd, describeGeometry, WINOGRAD_GEOMETRIES } from './helpers/conv3d-winograd-cases.js';
import { seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

test.serial('the plain SIMD build runs here (the FMA build has its own file)', async (t) => {
  await useBackend('wasm');
  t.is(simdVariant(tf.backend() as unknown as WasmBackend), 'simd');
});

for (const [index, g] of WINOGRAD_GEOMETRIES.entries()) {
  const title = `Winograd Conv3D and its gradients match cpu and the direct kernels: ${describeGeometry(g)}`;
  test.serial(title, async (t) => {
    await checkWinograd(t, g, 100 + 10 * index);
  });
}

test('the Winograd shape rule: 3x3x3, >= 4 reduced channels, produced channels % 4, output >= 2 per side', (t) => {
  t.true(winogradApplies([3, 3, 3], 16, 16, [32, 32, 32]));
  t.true(winogradApplies([3, 3, 3], 4, 4, [2, 2, 2]));
  t.false(winogradApplies([3, 3, 3], 1, 16, [32, 32, 32]), 'the first layer (1 channel) stays direct');
  t.false(winogradApplies([3, 3, 3], 16, 6, [8, 8, 8]), 'output channels not a multiple of 4');
  t.false(winogradApplies([3, 3, 3], 16, 16, [8, 1, 8]), 'an output side of 1');
  t.false(winogradApplies([3, 3, 1], 16, 16, [8, 8, 8]), 'not 3x3x3');
});

test.serial('a 3x3x3 conv whose output is 1 voxel wide, or strided, stays on the direct kernels', async (t) => {
  await useBackend('wasm');
  const backend = tf.backend() as unknown as WasmBackend;
  const info = (shape: number[], stride: number, pad: 'same' | 'valid') =>
    tf.backend_util.computeConv3DInfo(shape as never, [3, 3, 3, 8, 8], stride, 1, pad);
  t.is(conv3dForwardPath(backend, info([1, 3, 3, 3, 8], 1, 'valid')), 'simd');
  t.is(conv3dForwardPath(backend, info([1, 6, 6, 6, 8], 2, 'same')), 'stock');
  t.is(conv3dForwardPath(backend, info([1, 6, 6, 6, 8], 1, 'same')), 'winograd');
});

test('winogradTiling: F(2x4x4) from 16 high and wide, else F(2x2x2)', (t) => {
  t.is(winogradTiling([32, 32, 32]), 'F(2x4x4)');
  t.is(winogradTiling([2, 16, 16]), 'F(2x4x4)');
  t.is(winogradTiling([40, 15, 40]), 'F(2x2x2)');
  t.is(winogradTiling([8, 8, 8]), 'F(2x2x2)');
});

test('winogradBlock: a multiple of 4 tiles, at least 4, fewer for wider channels', (t) => {
  const blocks = [
    [16, 16],
    [32, 32],
    [128, 128],
    [512, 512],
  ].map(([ci, co]) => winogradBlock(ci!, co!));
  for (const b of blocks) t.true(b >= 4 && b % 4 === 0, `${b}`);
  t.true(blocks[0]! > blocks[2]!);
  t.is(blocks[3], 4);
});

/**
 * Central differences of L = sum(conv3d(x, w) * r), linear in each argument (exact up to float32 rounding), against
 * the Winograd gradients of each tiling, for every filter entry and a spread of input entries; sizes that cut tiles.
 */
type Shape5 = [number, number, number, number, number];
const FD_CASES: { tiling: 'F(2x2x2)' | 'F(2x4x4)'; xShape: Shape5; wShape: Shape5; xStep: number }[] = [
  { tiling: 'F(2x2x2)', xShape: [2, 3, 5, 4, 4], wShape: [3, 3, 3, 4, 8], xStep: 5 },
  { tiling: 'F(2x4x4)', xShape: [1, 2, 17, 18, 4], wShape: [3, 3, 3, 4, 4], xStep: 17 },
];

for (const { tiling, xShape, wShape, xStep } of FD_CASES) {
  test.serial(`Winograd ${tiling} gradients match central finite differences`, async (t) => {
    await useBackend('wasm');
    const info = tf.backend_util.computeConv3DInfo(xShape, wShape, 1, 1, 'same');
    t.is(conv3dForwardPath(tf.backend() as unknown as WasmBackend, info), 'winograd');
    t.is(winogradTiling([info.outDepth, info.outHeight, info.outWidth]), tiling);
    const xValues = seededValues(tf.util.sizeFromShape(xShape), 41);
    const wValues = seededValues(tf.util.sizeFromShape(wShape), 42);
    const yShape: Shape5 = [...xShape.slice(0, 4), wShape[4]] as Shape5;
    const r = tf.tensor5d(seededValues(tf.util.sizeFromShape(yShape), 43), yShape);
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, 'same');
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), r));
    const value = (xv: Float32Array, wv: Float32Array): number =>
      tf.tidy(() => loss(tf.tensor5d(xv, xShape), tf.tensor5d(wv, wShape)).dataSync()[0]!);
    const [gx, gw] = tf.tidy(() =>
      tf
        .grads(loss)([tf.tensor5d(xValues, xShape), tf.tensor5d(wValues, wShape)])
        .map((g) => g.dataSync().slice()),
    );
    const eps = 0.05;
    const central = (values: Float32Array, i: number, isX: boolean): number => {
      const plus = values.slice();
      const minus = values.slice();
      plus[i]! += eps;
      minus[i]! -= eps;
      return isX
        ? (value(plus, wValues) - value(minus, wValues)) / (2 * eps)
        : (value(xValues, plus) - value(xValues, minus)) / (2 * eps);
    };
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < wValues.length; i++) {
      worst = Math.max(worst, Math.abs(central(wValues, i, false) - gw![i]!));
      scale = Math.max(scale, Math.abs(gw![i]!));
    }
    for (let i = 0; i < xValues.length; i += xStep) {
      worst = Math.max(worst, Math.abs(central(xValues, i, true) - gx![i]!));
      scale = Math.max(scale, Math.abs(gx![i]!));
    }
    r.dispose();
    t.true(scale > 0.1, `gradient scale ${scale}`);
    // The loss sums 500-1200 products of order 1: its float32 rounding, over 2 * eps, is ~1e-3 of the gradient scale.
    t.true(worst / scale < 2e-3, `finite differences: worst ${worst}, scale ${scale}`);
  });
}
