/**
 * Runs the same computation on the cpu backend (the numerics oracle) and on wasm with rwseg's kernels, from the
 * same seeded inputs, and measures the normwise relative difference max|a - b| / max|b|.
 */
import { tf } from '../tf.js';
import { useBackend } from '../use-backend.js';
import { seededUniform } from './probe-unet.js';

/** Deterministic inputs in [-1, 1), independent of any backend's RNG. */
export function seededValues(count: number, seed: number): Float32Array {
  return seededUniform(count, seed, -1, 1);
}

export interface Outputs {
  shapes: number[][];
  values: Float32Array[];
}

/** Runs `compute` on `backend`, returning every output's shape and values. */
export async function runOn(backend: 'cpu' | 'wasm', compute: () => tf.Tensor | tf.Tensor[]): Promise<Outputs> {
  await useBackend(backend);
  const outputs = tf.tidy(compute);
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const result = { shapes: list.map((t) => t.shape), values: list.map((t) => Float32Array.from(t.dataSync())) };
  tf.dispose(list);
  return result;
}

export function relativeDifference(actual: Float32Array, expected: Float32Array): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((actual[i] as number) - (expected[i] as number)));
    maxRef = Math.max(maxRef, Math.abs(expected[i] as number));
  }
  return maxDiff / Math.max(maxRef, 1e-12);
}

/** Compares wasm against cpu; returns the worst relative difference, or throws on a shape mismatch. */
export async function compareBackends(compute: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const expected = await runOn('cpu', compute);
  const actual = await runOn('wasm', compute);
  let worst = 0;
  expected.values.forEach((values, i) => {
    if (JSON.stringify(actual.shapes[i]) !== JSON.stringify(expected.shapes[i])) {
      throw new Error(
        `output ${i}: wasm shape ${JSON.stringify(actual.shapes[i])} != cpu ${JSON.stringify(expected.shapes[i])}`,
      );
    }
    if (values.length === 0 || values.every((v) => v === 0))
      throw new Error(`output ${i} is empty or all zeros: the comparison would prove nothing`);
    worst = Math.max(worst, relativeDifference(actual.values[i] as Float32Array, values));
  });
  return worst;
}
