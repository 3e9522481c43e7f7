/**
 * Runs the same computation on the cpu backend (the numerics oracle) and on wasm with rwseg's kernels, from the
 * same seeded inputs, and measures the normwise relative difference max|a - b| / max|b|.
 */
import { tf } from '../src/tf.js';
import { useBackend } from '../src/backend.js';

/** Deterministic inputs (mulberry32), independent of any backend's RNG. */
export function seededValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
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

/** A conv geometry: x [n, h, w, ci], filter [kh, kw, ci, co]. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  stride: number | [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

export const CONV_GEOMETRIES: ConvGeometry[] = [
  { n: 1, h: 8, w: 8, ci: 3, co: 5, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, ci: 2, co: 4, kh: 3, kw: 3, stride: 2, pad: 'same' },
  { n: 3, h: 9, w: 7, ci: 4, co: 3, kh: 3, kw: 3, stride: 2, pad: 'valid' },
  { n: 2, h: 8, w: 6, ci: 4, co: 6, kh: 2, kw: 2, stride: 2, pad: 'valid' },
  { n: 2, h: 8, w: 10, ci: 3, co: 4, kh: 2, kw: 2, stride: 2, pad: 'same' },
  { n: 2, h: 5, w: 5, ci: 2, co: 3, kh: 2, kw: 2, stride: 2, pad: 'same' },
  { n: 2, h: 6, w: 10, ci: 3, co: 2, kh: 1, kw: 1, stride: 1, pad: 'valid' },
  { n: 2, h: 7, w: 6, ci: 3, co: 2, kh: 2, kw: 2, stride: 1, pad: 'same' },
  { n: 2, h: 9, w: 9, ci: 3, co: 4, kh: 3, kw: 3, stride: 3, pad: 'same' },
  { n: 1, h: 7, w: 8, ci: 2, co: 3, kh: 3, kw: 3, stride: 1, pad: 'valid' },
  {
    n: 2,
    h: 7,
    w: 7,
    ci: 2,
    co: 3,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { n: 2, h: 6, w: 9, ci: 2, co: 3, kh: 2, kw: 3, stride: [2, 3], pad: 'valid' },
  { n: 1, h: 8, w: 8, ci: 5, co: 2, kh: 5, kw: 5, stride: 1, pad: 'same' },
];

export function describeGeometry(g: ConvGeometry): string {
  return `x[${g.n},${g.h},${g.w},${g.ci}] k${g.kh}x${g.kw} co${g.co} stride ${JSON.stringify(g.stride)} pad ${JSON.stringify(g.pad)}`;
}

export function outputShape(g: ConvGeometry): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo([g.n, g.h, g.w, g.ci], [g.kh, g.kw, g.ci, g.co], g.stride, 1, g.pad);
  return info.outShape;
}

export function convInfo(g: ConvGeometry): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo([g.n, g.h, g.w, g.ci], [g.kh, g.kw, g.ci, g.co], g.stride, 1, g.pad);
}
