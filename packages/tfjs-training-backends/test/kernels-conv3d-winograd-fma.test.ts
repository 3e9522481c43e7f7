// The Winograd path of the 3D convolutions on the relaxed-SIMD (FMA) build: as kernels-fma.test.ts, the opt-in
// RWSEG_WASM_RELAXED_SIMD=1 is set in this file's own process (ava runs each file in one), before the backend loads.
import test from 'ava';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { simdVariant } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { checkWinograd, describeGeometry, WINOGRAD_GEOMETRIES } from './helpers/conv3d-winograd-cases.js';

test.before(async () => {
  process.env['RWSEG_WASM_RELAXED_SIMD'] = '1';
  await useBackend('wasm');
  await useBackend('cpu');
});

test.serial('with RWSEG_WASM_RELAXED_SIMD=1 the FMA build runs', async (t) => {
  await useBackend('wasm');
  t.is(simdVariant(tf.backend() as unknown as WasmBackend), 'fma');
});

for (const [index, g] of WINOGRAD_GEOMETRIES.entries()) {
  test.serial(
    `FMA build: Winograd Conv3D and its gradients match cpu and the direct kernels: ${describeGeometry(g)}`,
    async (t) => {
      await checkWinograd(t, g, 300 + 10 * index);
    },
  );
}
