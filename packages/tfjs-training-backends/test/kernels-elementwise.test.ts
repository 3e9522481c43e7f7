import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SIMD_FMA_KERNELS_WASM_BASE64, SIMD_KERNELS_WASM_BASE64 } from '../src/wasm-kernels/simd-binary.js';
import { maxPoolGradUsesSimd } from '../src/wasm-kernels/max-pool-grad.js';
import { tf } from '../src/tf.js';
import { useBackend } from '../src/use-backend.js';
import { setSimdKernelsEnabled, simdKernels, simdVariant } from '../src/wasm-kernels/simd.js';
import type { WasmBackend } from '../src/wasm-kernels/stock.js';
import { compareBackends, runOn, seededValues } from '../src/testing/compare-backends.js';

test.before(async () => {
  await useBackend('wasm');
  await useBackend('cpu');
});

const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const tensor = (shape: number[], seed: number): tf.Tensor => tf.tensor(seededValues(count(shape), seed), shape);
/** Activation shapes: batch 1 and 3, odd sizes, channels 1, 3, 16 and 17 (a SIMD remainder), rows > 64. */
const SHAPES = [
  [1, 5, 7, 1],
  [3, 9, 11, 3],
  [3, 13, 7, 16],
  [1, 6, 5, 17],
  [2, 4, 3, 2],
  [1, 3, 5, 4],
];

// The WebAssembly API is not in this project's ES2022 lib typings.
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      validate(b: Uint8Array): boolean;
      Module: { new (b: Uint8Array): object; imports(m: object): unknown };
    };
  }
).WebAssembly;

test('the embedded SIMD modules are the checked-in builds of simd/kernels.c and import nothing but memory', (t) => {
  for (const [file, embedded] of [
    ['rwseg-kernels.wasm', SIMD_KERNELS_WASM_BASE64],
    ['rwseg-kernels-fma.wasm', SIMD_FMA_KERNELS_WASM_BASE64],
  ] as const) {
    const built = readFileSync(fileURLToPath(new URL(`../../simd/${file}`, import.meta.url)));
    t.deepEqual(Buffer.from(embedded, 'base64'), built, file);
    if (file === 'rwseg-kernels.wasm')
      t.deepEqual(wasmApi.Module.imports(new wasmApi.Module(built)), [
        { module: 'env', name: 'memory', kind: 'memory' },
      ]);
  }
});

test.serial(
  'the SIMD kernels load into the wasm backend: the FMA build only where relaxed SIMD validates',
  async (t) => {
    await useBackend('wasm');
    t.not(simdKernels(tf.backend() as unknown as WasmBackend), undefined);
    // Without RWSEG_WASM_RELAXED_SIMD=1, Node 20 does not validate relaxed SIMD (kernels-fma.test.ts covers the opt-in).
    const relaxed = wasmApi.validate(Buffer.from(SIMD_FMA_KERNELS_WASM_BASE64, 'base64'));
    t.is(simdVariant(tf.backend() as unknown as WasmBackend), relaxed ? 'fma' : 'simd');
  },
);

for (const simd of [true, false]) {
  const mode = simd ? 'SIMD' : 'fallback';
  const compare = async (compute: () => tf.Tensor | tf.Tensor[]): Promise<number> => {
    setSimdKernelsEnabled(simd);
    try {
      return await compareBackends(compute);
    } finally {
      setSimdKernelsEnabled(true);
    }
  };

  test.serial(`${mode}: LeakyRelu, Greater(x, scalar) and Select match cpu`, async (t) => {
    for (const [i, shape] of SHAPES.entries()) {
      const worst = await compare(() => {
        const x = tensor(shape, 10 + i);
        const y = tensor(shape, 20 + i);
        return [
          tf.leakyRelu(x, 0.01),
          tf.leakyRelu(x, 0.3),
          tf.cast(tf.greater(x, 0.25), 'float32'),
          tf.where(tf.greater(x, 0), x, y),
        ];
      });
      t.true(worst <= 1e-7, `${JSON.stringify(shape)}: relative difference ${worst}`);
    }
    // Signed zeros, infinities, subnormals and NaN, compared exactly (with a remainder past the SIMD width).
    const special = (): tf.Tensor[] => {
      const x = tf.tensor([-0, 0, -1, 1, -Infinity, Infinity, 3e-39, -3e-39, NaN, 2, -2], [11]);
      return [tf.leakyRelu(x, 0.5), tf.cast(tf.greater(x, 0), 'float32')];
    };
    setSimdKernelsEnabled(simd);
    const [expected, actual] = [await runOn('cpu', special), await runOn('wasm', special)];
    setSimdKernelsEnabled(true);
    t.deepEqual(
      actual.values.map((v) => Array.from(v)),
      expected.values.map((v) => Array.from(v)),
    );
  });

  test.serial(`${mode}: Multiply, Add, Sub, RealDiv with same shapes and per-channel vectors match cpu`, async (t) => {
    for (const [i, shape] of SHAPES.entries()) {
      const c = shape[3] as number;
      const worst = await compare(() => {
        const x = tensor(shape, 30 + i);
        const y = tensor(shape, 40 + i);
        const v = tf.add(tensor([c], 50 + i), 2); // away from 0, for RealDiv
        const v4 = tf.reshape(v, [1, 1, 1, c]);
        const out: tf.Tensor[] = [];
        for (const op of [tf.mul, tf.add, tf.sub, tf.div]) out.push(op(x, y), op(x, v), op(v, x), op(v4, x), op(x, v4));
        // Broadcasts that are not per-channel take the stock kernels.
        out.push(
          tf.mul(x, tf.tensor(seededValues(shape[0] as number, 60), [shape[0] as number, 1, 1, 1])),
          tf.sub(x, tf.scalar(0.5)),
        );
        return out;
      });
      t.true(worst <= 1e-6, `${JSON.stringify(shape)}: relative difference ${worst}`);
    }
  });

  test.serial(
    `${mode}: per-sample channel vectors [B, 1, ..., 1, C] and Sum / Mean over the middle axes (instance norm) match cpu`,
    async (t) => {
      for (const [i, shape] of [
        [2, 4, 5, 6, 16],
        [3, 3, 7, 5, 3],
        [1, 6, 5, 4, 17],
        [2, 9, 11, 5],
        [3, 40, 30, 2, 4],
      ].entries()) {
        const rank = shape.length;
        const middle = Array.from({ length: rank - 2 }, (_, k) => k + 1);
        const vShape = [shape[0] as number, ...middle.map(() => 1), shape[rank - 1] as number];
        const worst = await compare(() => {
          const x = tf.add(tensor(shape, 200 + i), 0.25);
          const v = tf.add(tensor(vShape, 210 + i), 2); // away from 0, for RealDiv
          const out: tf.Tensor[] = [];
          for (const op of [tf.mul, tf.add, tf.sub, tf.div]) out.push(op(x, v), op(v, x));
          const { mean, variance } = tf.moments(x, middle, true);
          out.push(tf.sum(x, middle), tf.sum(x, middle, true), tf.mean(x, middle, true), mean, variance);
          // Instance norm and its gradient through the same kernels.
          const norm = (input: tf.Tensor) => {
            const m = tf.moments(input, middle, true);
            return tf.div(tf.sub(input, m.mean), tf.sqrt(tf.add(m.variance, 1e-5)));
          };
          const weights = tensor(shape, 220 + i);
          out.push(norm(x), tf.grad((input: tf.Tensor) => tf.sum(tf.mul(norm(input), weights)))(x));
          return out;
        });
        t.true(worst <= 1e-5, `${JSON.stringify(shape)}: relative difference ${worst}`);
      }
    },
  );

  test.serial(`${mode}: FusedBatchNorm with per-channel and scalar parameters matches cpu`, async (t) => {
    for (const [i, shape] of SHAPES.entries()) {
      const c = shape[3] as number;
      const worst = await compare(() => {
        const x = tensor(shape, 70 + i);
        const mean = tensor([c], 71 + i);
        const variance = tf.add(tf.abs(tensor([c], 72 + i)), 0.1);
        const offset = tensor([c], 73 + i);
        const scale = tensor([c], 74 + i);
        return [
          tf.batchNorm(x, mean, variance, offset, scale, 1e-3),
          tf.batchNorm(x, mean, variance, undefined, undefined, 1e-5),
          tf.batchNorm(x, tf.scalar(0.2), tf.scalar(2), tf.scalar(0.5), tf.scalar(-1.5), 1e-3),
        ];
      });
      t.true(worst <= 1e-5, `${JSON.stringify(shape)}: relative difference ${worst}`);
    }
  });

  test.serial(`${mode}: Concat and SplitV along the channel axis (and others) match cpu`, async (t) => {
    for (const [i, shape] of SHAPES.entries()) {
      const c = shape[3] as number;
      const worst = await compare(() => {
        const x = tensor(shape, 80 + i);
        const y = tensor([...shape.slice(0, 3), 3], 81 + i);
        const z = tensor([...shape.slice(0, 3), 1], 82 + i);
        const joined = tf.concat([x, y, z], 3);
        return [
          joined,
          tf.concat([y, x], -1),
          tf.concat([x, x], 0),
          ...tf.split(joined, [c, 3, 1], 3),
          ...tf.split(joined, [1, c + 2, 1], -1),
          ...tf.split(tf.concat([x, x], 0), 2, 0),
        ];
      });
      t.true(worst === 0, `${JSON.stringify(shape)}: relative difference ${worst}`);
    }
  });

  test.serial(`${mode}: DepthToSpace (NHWC, block sizes 2 and 3) matches cpu`, async (t) => {
    for (const [i, [n, h, w, c, block]] of [
      [1, 3, 5, 1, 2],
      [3, 4, 3, 3, 2],
      [2, 5, 7, 16, 2],
      [1, 2, 3, 2, 3],
    ].entries()) {
      const worst = await compare(() =>
        tf.depthToSpace(
          tensor(
            [n as number, h as number, w as number, (c as number) * (block as number) ** 2],
            95 + i,
          ) as tf.Tensor4D,
          block as number,
        ),
      );
      t.true(worst === 0, `[${n},${h},${w},${c}] block ${block}: relative difference ${worst}`);
    }
  });

  test.serial(
    `${mode}: MaxPoolGrad 2x2 stride 2 (ties, all-negative windows, odd sizes, channel remainders) matches cpu`,
    async (t) => {
      for (const [i, shape] of [
        [1, 4, 6, 1],
        [3, 8, 6, 4],
        [2, 7, 9, 3],
        [1, 6, 4, 17],
        [2, 10, 8, 16],
      ].entries()) {
        for (const pad of ['valid', 'same'] as const) {
          const worst = await compare(() => {
            // Values on a coarse grid (many ties), shifted so that some windows are all negative.
            const x = tf.sub(tf.round(tf.mul(tensor(shape, 120 + i), 2)), 0.5) as tf.Tensor4D;
            const weights = tf.add(tensor(tf.maxPool(x, 2, 2, pad).shape, 130 + i), 1.5);
            return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, pad), weights)))(
              x,
            );
          });
          t.true(worst === 0, `${JSON.stringify(shape)} ${pad}: relative difference ${worst}`);
        }
      }
      setSimdKernelsEnabled(simd);
      await useBackend('wasm');
      const pool = (shape: [number, number, number, number], pad: 'valid' | 'same') =>
        tf.backend_util.computePool2DInfo(shape, 2, 2, 1, pad);
      t.is(
        maxPoolGradUsesSimd(tf.backend() as unknown as WasmBackend, pool([2, 7, 9, 3], 'valid')),
        simd,
        'odd sizes, valid: SIMD',
      );
      t.false(
        maxPoolGradUsesSimd(tf.backend() as unknown as WasmBackend, pool([2, 7, 9, 3], 'same')),
        'odd sizes, same (padded): JavaScript',
      );
      setSimdKernelsEnabled(true);
    },
  );

  test.serial(`${mode}: Sum and Mean over every axis but the last match cpu (rows beyond one block)`, async (t) => {
    for (const [i, shape] of [...SHAPES, [2, 30, 40, 16], [1, 300, 7, 1], [3, 50, 21, 2], [2, 33, 10, 5]].entries()) {
      const worst = await compare(() => {
        const x = tf.add(tensor(shape, 90 + i), 0.25);
        return [
          tf.sum(x, [0, 1, 2]),
          tf.mean(x, [0, 1, 2], true),
          tf.mean(x, [1, 2]),
          tf.sum(tf.reshape(x, [-1, shape[3] as number]), 0),
          tf.moments(x, [0, 1, 2]).variance,
        ];
      });
      t.true(worst <= 1e-5, `${JSON.stringify(shape)}: relative difference ${worst}`);
    }
  });
}

test.serial('Identity shares storage: the clone keeps its values after the original is disposed', async (t) => {
  await useBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const before = backend.numDataIds();
  const x = tensor([3, 4, 5, 2], 1);
  const expected = Array.from(x.dataSync());
  const y = tf.clone(x);
  t.is(backend.numDataIds(), before + 1, 'the clone allocates no second buffer');
  x.dispose();
  t.deepEqual(Array.from(y.dataSync()), expected);
  y.dispose();
  t.is(backend.numDataIds(), before, 'the buffer is freed with its last tensor');
});
