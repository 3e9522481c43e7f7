/**
 * Augmentation, all driven by a `Random` so the same seed gives the same bytes. Spatial augmentation (flips,
 * 90-degree rotations, free rotation, scaling) is one affine map from patch to source coordinates, applied while
 * the patch is cut out: one interpolation per voxel, and padding comes for free where the map leaves the image.
 * Intensity augmentation (scale, gamma, noise, blur) follows nnU-Net's defaults and acts on the patch.
 */
import { z } from 'zod';
import { RwsegError } from '../errors.js';
import { voxelCount } from '../volume.js';
import type { Random } from './random.js';

const probability = z.number().min(0).max(1);
const range = z.tuple([z.number(), z.number()]);

/**
 * The augmentation settings as a pipeline file or the loader takes them: every key optional (omitted keys take the
 * defaults resolveAugment gives), unknown keys refused. AugmentOptions is derived from it, so the two cannot drift.
 */
export const augmentOptionsSchema = z
  .object({
    /** Probability of flipping each spatial axis (default 0.5). */
    mirror: probability,
    /** Spatial axes that may be flipped / rotated (default all). */
    axes: z.array(z.number().int().nonnegative()),
    /** Probability of a random multiple of 90 degrees in one plane (default 0). */
    rotate90: probability,
    /** Probability of a free rotation (default 0.2) up to +-maxDegrees (default 180 in 2D, 30 in 3D, per axis). */
    rotation: probability,
    maxDegrees: z.number().nonnegative(),
    /** Probability of zooming (default 0.2) by a factor in `scaleRange` (default [0.7, 1.4], as the paper). */
    scaling: probability,
    scaleRange: range,
    /** Multiplicative intensity change (default p 0.15, range [0.75, 1.25]). */
    intensityScale: probability,
    intensityRange: range,
    /** Gamma on the patch's own range (default p 0.3, gamma in [0.7, 1.5]). */
    gamma: probability,
    gammaRange: range,
    /** Additive Gaussian noise (default p 0.1, variance up to 0.1). */
    noise: probability,
    noiseVariance: z.number().nonnegative(),
    /** Gaussian blur (default p 0.2, sigma in [0.5, 1] voxels). */
    blur: probability,
    blurSigma: range,
  })
  .partial()
  .strict();

export type AugmentOptions = z.infer<typeof augmentOptionsSchema>;

export type ResolvedAugment = Required<AugmentOptions>;

export function resolveAugment(options: AugmentOptions | false | undefined, rank: number): ResolvedAugment {
  if (options === false) {
    return resolveAugment(
      { mirror: 0, rotate90: 0, rotation: 0, scaling: 0, intensityScale: 0, gamma: 0, noise: 0, blur: 0 },
      rank,
    );
  }
  const o = options ?? {};
  const resolved: ResolvedAugment = {
    mirror: o.mirror ?? 0.5,
    axes: o.axes ?? Array.from({ length: rank }, (_, i) => i),
    rotate90: o.rotate90 ?? 0,
    rotation: o.rotation ?? 0.2,
    maxDegrees: o.maxDegrees ?? (rank === 2 ? 180 : 30),
    scaling: o.scaling ?? 0.2,
    scaleRange: o.scaleRange ?? [0.7, 1.4],
    intensityScale: o.intensityScale ?? 0.15,
    intensityRange: o.intensityRange ?? [0.75, 1.25],
    gamma: o.gamma ?? 0.3,
    gammaRange: o.gammaRange ?? [0.7, 1.5],
    noise: o.noise ?? 0.1,
    noiseVariance: o.noiseVariance ?? 0.1,
    blur: o.blur ?? 0.2,
    blurSigma: o.blurSigma ?? [0.5, 1],
  };
  for (const key of [
    'mirror',
    'rotate90',
    'rotation',
    'scaling',
    'intensityScale',
    'gamma',
    'noise',
    'blur',
  ] as const) {
    if (!(resolved[key] >= 0 && resolved[key] <= 1))
      throw new RwsegError('INVALID_OPTIONS', `augment.${key} is a probability in [0, 1], got ${resolved[key]}`, {
        option: `augment.${key}`,
      });
  }
  if (resolved.axes.some((a) => !Number.isInteger(a) || a < 0 || a >= rank)) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `augment.axes [${resolved.axes.join(', ')}] must be spatial axes 0..${rank - 1}`,
      { option: 'augment.axes' },
    );
  }
  if (!(resolved.scaleRange[0] > 0 && resolved.scaleRange[0] <= resolved.scaleRange[1])) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `augment.scaleRange [${resolved.scaleRange.join(', ')}] must be 0 < low <= high`,
      { option: 'augment.scaleRange' },
    );
  }
  return resolved;
}

type Matrix = number[][];

function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

/** Rotation by `radians` in the plane of axes (i, j). Multiples of 90 degrees are built exactly (0 and +-1). */
function planeRotation(n: number, i: number, j: number, radians: number, quarterTurns?: number): Matrix {
  const m = identity(n);
  const [c, s] =
    quarterTurns === undefined
      ? [Math.cos(radians), Math.sin(radians)]
      : ([
          [1, 0],
          [0, 1],
          [-1, 0],
          [0, -1],
        ][((quarterTurns % 4) + 4) % 4] as [number, number]);
  m[i]![i] = c;
  m[i]![j] = -s;
  m[j]![i] = s;
  m[j]![j] = c;
  return m;
}

/**
 * Draws the spatial transform: a matrix M such that source = center + M (q - patchCenter) for patch voxel q.
 * Draw order is fixed so each augmentation's randomness stays put when another's probability changes.
 */
export function drawSpatialTransform(rank: number, aug: ResolvedAugment, rng: Random): Matrix {
  let m = identity(rank);
  const planes: [number, number][] = [];
  for (let a = 0; a < aug.axes.length; a++)
    for (let b = a + 1; b < aug.axes.length; b++) planes.push([aug.axes[a]!, aug.axes[b]!]);
  const r90 = rng.next();
  const r90Plane = rng.int(Math.max(1, planes.length));
  const r90Turns = 1 + rng.int(3);
  if (r90 < aug.rotate90 && planes.length) m = multiply(m, planeRotation(rank, ...planes[r90Plane]!, 0, r90Turns));
  const rot = rng.next();
  const angles = planes.map(() => rng.uniform(-aug.maxDegrees, aug.maxDegrees) * (Math.PI / 180));
  if (rot < aug.rotation)
    planes.forEach((plane, k) => (m = multiply(m, planeRotation(rank, plane[0], plane[1], angles[k]!))));
  const zoom = rng.next();
  const factor = rng.uniform(aug.scaleRange[0], aug.scaleRange[1]);
  // A zoom factor f shows the content f times larger: each patch step covers 1/f source voxels.
  if (zoom < aug.scaling) m = m.map((row) => row.map((v) => v / factor));
  for (const axis of aug.axes) {
    if (rng.next() < aug.mirror) m = m.map((row) => row.map((v, j) => (j === axis ? -v : v)));
  }
  return m;
}

export interface SpatialSource {
  image: Float32Array;
  label?: Int32Array;
  /** Spatial shape (rank 2 or 3). */
  shape: readonly number[];
  channels: number;
}

/**
 * Cuts a patch through the transform: image by (bi/tri)linear interpolation, label by nearest neighbor; points
 * outside the source read `padValue` (image) and 0 (label). Integer source positions reproduce voxels exactly.
 */
export function samplePatch(
  source: SpatialSource,
  patchShape: readonly number[],
  center: readonly number[],
  matrix: Matrix,
  padValue = 0,
): { image: Float32Array; label: Int32Array } {
  const rank = patchShape.length;
  if (rank !== 2 && rank !== 3)
    throw new RwsegError('INVALID_OPTIONS', `patch shape [${patchShape.join(', ')}] must be 2D or 3D`, {
      option: 'patchShape',
    });
  const C = source.channels;
  const n = voxelCount(patchShape);
  const image = new Float32Array(n * C);
  const label = new Int32Array(n);
  const S = rank === 3 ? source.shape : [1, ...source.shape];
  const P = rank === 3 ? patchShape : [1, ...patchShape];
  const M: Matrix =
    rank === 3
      ? matrix
      : [
          [1, 0, 0],
          [0, ...matrix[0]!],
          [0, ...matrix[1]!],
        ];
  const c = rank === 3 ? center : [0, ...center];
  const h = P.map((p) => (p - 1) / 2);
  const [S0, S1, S2] = S as [number, number, number];
  const s1 = S2 * C;
  const s0 = S1 * s1;
  const src = source.image;
  const lab = source.label;
  let out = 0;
  // Source position moves by one matrix column per patch step, so it is accumulated rather than recomputed.
  const [m00, m01, m02] = M[0]! as [number, number, number];
  const [m10, m11, m12] = M[1]! as [number, number, number];
  const [m20, m21, m22] = M[2]! as [number, number, number];
  for (let q0 = 0; q0 < P[0]!; q0++) {
    for (let q1 = 0; q1 < P[1]!; q1++) {
      const d0 = q0 - h[0]!,
        d1 = q1 - h[1]!,
        d2 = -h[2]!;
      let p0 = c[0]! + m00 * d0 + m01 * d1 + m02 * d2;
      let p1 = c[1]! + m10 * d0 + m11 * d1 + m12 * d2;
      let p2 = c[2]! + m20 * d0 + m21 * d1 + m22 * d2;
      for (let q2 = 0; q2 < P[2]!; q2++, out++, p0 += m02, p1 += m12, p2 += m22) {
        // Label: nearest voxel.
        const n0 = Math.round(p0),
          n1 = Math.round(p1),
          n2 = Math.round(p2);
        if (lab && n0 >= 0 && n0 < S0 && n1 >= 0 && n1 < S1 && n2 >= 0 && n2 < S2)
          label[out] = lab[(n0 * S1 + n1) * S2 + n2]!;
        // Image: trilinear over the 8 neighbors; a neighbor outside the image reads padValue.
        const f0 = Math.floor(p0),
          f1 = Math.floor(p1),
          f2 = Math.floor(p2);
        const w0 = p0 - f0,
          w1 = p1 - f1,
          w2 = p2 - f2;
        const inside = f0 >= 0 && f0 + 1 < S0 && f1 >= 0 && f1 + 1 < S1 && f2 >= 0 && f2 + 1 < S2;
        if (inside || (S0 === 1 && w0 === 0 && f0 === 0 && f1 >= 0 && f1 + 1 < S1 && f2 >= 0 && f2 + 1 < S2)) {
          // Fast path: all neighbors inside (or a 2D image with its unit leading axis, where w0 is 0).
          const base = f0 * s0 + f1 * s1 + f2 * C;
          const a00 = (1 - w1) * (1 - w2),
            a01 = (1 - w1) * w2,
            a10 = w1 * (1 - w2),
            a11 = w1 * w2;
          for (let ch = 0; ch < C; ch++) {
            const i = base + ch;
            let value = a00 * src[i]! + a01 * src[i + C]! + a10 * src[i + s1]! + a11 * src[i + s1 + C]!;
            if (w0 !== 0) {
              const j = i + s0;
              value =
                (1 - w0) * value +
                w0 * (a00 * src[j]! + a01 * src[j + C]! + a10 * src[j + s1]! + a11 * src[j + s1 + C]!);
            }
            image[out * C + ch] = value;
          }
          continue;
        }
        for (let ch = 0; ch < C; ch++) {
          let value = 0;
          for (let corner = 0; corner < 8; corner++) {
            const b0 = corner >> 2,
              b1 = (corner >> 1) & 1,
              b2 = corner & 1;
            const w = (b0 ? w0 : 1 - w0) * (b1 ? w1 : 1 - w1) * (b2 ? w2 : 1 - w2);
            if (w === 0) continue;
            const i0 = f0 + b0,
              i1 = f1 + b1,
              i2 = f2 + b2;
            const v =
              i0 >= 0 && i0 < S0 && i1 >= 0 && i1 < S1 && i2 >= 0 && i2 < S2
                ? src[i0 * s0 + i1 * s1 + i2 * C + ch]!
                : padValue;
            value += w * v;
          }
          image[out * C + ch] = value;
        }
      }
    }
  }
  return { image, label };
}

/** 1D Gaussian blur along one axis of a channels-last array, edges clamped. */
function blurAxis(
  data: Float32Array,
  shape: readonly number[],
  channels: number,
  axis: number,
  sigma: number,
): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const weights = kernel.map((k) => k / total);
  const size = shape[axis]!;
  const outer = voxelCount(shape.slice(0, axis));
  const inner = voxelCount(shape.slice(axis + 1)) * channels;
  const out = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < size; i++) {
      const dst = (o * size + i) * inner;
      for (let k = -radius; k <= radius; k++) {
        const j = Math.min(size - 1, Math.max(0, i + k));
        const w = weights[k + radius]!;
        const src = (o * size + j) * inner;
        for (let x = 0; x < inner; x++) out[dst + x]! += w * data[src + x]!;
      }
    }
  }
  return out;
}

/** Intensity augmentation of a channels-last patch, in place where possible; returns the (possibly new) array. */
export function augmentIntensity(
  image: Float32Array,
  shape: readonly number[],
  channels: number,
  aug: ResolvedAugment,
  rng: Random,
): Float32Array {
  const n = voxelCount(shape);
  const draws = {
    scale: rng.next(),
    scaleBy: rng.uniform(...aug.intensityRange),
    gamma: rng.next(),
    gammaBy: rng.uniform(...aug.gammaRange),
    noise: rng.next(),
    variance: rng.uniform(0, aug.noiseVariance),
    blur: rng.next(),
    sigma: rng.uniform(...aug.blurSigma),
  };
  let out = image;
  if (draws.scale < aug.intensityScale) for (let i = 0; i < out.length; i++) out[i]! *= draws.scaleBy;
  if (draws.gamma < aug.gamma) {
    // Gamma on the patch's range mapped to [0, 1] per channel, then mapped back.
    for (let c = 0; c < channels; c++) {
      let lo = Infinity,
        hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = out[i * channels + c]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const range = hi - lo;
      if (range <= 0) continue;
      for (let i = 0; i < n; i++)
        out[i * channels + c] = lo + range * ((out[i * channels + c]! - lo) / range) ** draws.gammaBy;
    }
  }
  if (draws.blur < aug.blur) {
    for (let axis = 0; axis < shape.length; axis++) out = blurAxis(out, shape, channels, axis, draws.sigma);
  }
  if (draws.noise < aug.noise) {
    const sd = Math.sqrt(draws.variance);
    for (let i = 0; i < out.length; i++) out[i]! += sd * rng.normal();
  }
  return out;
}
