/**
 * An in-process BatchSource over cases held in memory: random patches (a third centred on foreground, as
 * nnU-Net oversamples it), random flips per axis, one-hot targets and the loss's maps at every scale the model
 * supervises (labels nearest-downsampled by 2 per scale). Seeded: the same seed yields the same batches.
 * The worker-thread loader of ../data is the faster path for large sets; this one keeps small runs simple.
 */
import { RwsegError } from '../errors.js';
import type { Batch, BatchSource, ScaleTargets } from '../data/batch.js';
import type { BoundMapGenerator } from '../registry.js';
import { SeededRandom } from '../training/rng.js';
import type { Volume } from '../volume.js';

export interface PatchCase {
  readonly id: string;
  /** Normalised image, [...spatial] (one channel) or [...spatial, C]. */
  readonly image: Volume<Float32Array>;
  readonly labels: Volume;
}

export interface PatchSourceOptions {
  readonly cases: readonly PatchCase[];
  readonly patch: readonly number[];
  readonly batchSize: number;
  readonly numClasses: number;
  readonly scales: number;
  readonly maps: readonly BoundMapGenerator[];
  readonly seed: number;
  readonly flip?: boolean;
  readonly foregroundFraction?: number;
}

const product = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1]! * shape[a + 1]!;
  return s;
}

/** Every 2^s-th voxel along each axis: nearest down-sampling of a label map by 2 per scale. */
export function downsampleLabels(labels: Int32Array, shape: readonly number[], factor: number): { labels: Int32Array; shape: number[] } {
  const out = shape.map((d) => Math.floor(d / factor));
  const inStrides = strides(shape);
  const result = new Int32Array(product(out));
  const index = new Array<number>(out.length).fill(0);
  for (let i = 0; i < result.length; i++) {
    let offset = 0;
    for (let a = 0; a < out.length; a++) offset += index[a]! * factor * inStrides[a]!;
    result[i] = labels[offset]!;
    for (let a = out.length - 1; a >= 0; a--) {
      if (++index[a]! < out[a]!) break;
      index[a] = 0;
    }
  }
  return { labels: result, shape: out };
}

export function createPatchSource(options: PatchSourceOptions): BatchSource {
  const { cases, patch, numClasses } = options;
  if (cases.length === 0) throw new RwsegError('INVALID_INPUT', 'no training cases to sample patches from', {});
  const rng = new SeededRandom(options.seed);
  const channels = cases[0]!.image.channels ?? 1;
  const patchVoxels = product(patch);
  const foregroundFraction = options.foregroundFraction ?? 1 / 3;
  const foreground = cases.map((c) => {
    const idx: number[] = [];
    for (let i = 0; i < c.labels.data.length; i++) if (c.labels.data[i]! > 0) idx.push(i);
    return idx;
  });

  function samplePatch(caseIndex: number, image: Float32Array, labels: Int32Array, b: number): void {
    const c = cases[caseIndex]!;
    const shape = c.image.channels ? c.image.shape.slice(0, -1) : c.image.shape;
    const caseStrides = strides(shape);
    let start: number[];
    const fg = foreground[caseIndex]!;
    if (fg.length > 0 && rng.next() < foregroundFraction) {
      let v = fg[rng.int(fg.length)]!;
      const centre = caseStrides.map((s) => {
        const x = Math.floor(v / s);
        v -= x * s;
        return x;
      });
      start = centre.map((x, a) => x - Math.floor(patch[a]! / 2));
    } else {
      start = shape.map((d, a) => rng.int(Math.max(1, d - patch[a]! + 1)));
    }
    // Clamp into the image where it is larger than the patch; smaller axes are zero-padded past their end.
    start = start.map((s, a) => Math.max(0, Math.min(s, Math.max(0, shape[a]! - patch[a]!))));
    const flips = patch.map(() => options.flip !== false && rng.next() < 0.5);
    const index = new Array<number>(patch.length).fill(0);
    for (let p = 0; p < patchVoxels; p++) {
      let v = 0;
      let inside = true;
      for (let a = 0; a < patch.length; a++) {
        const x = start[a]! + (flips[a] ? patch[a]! - 1 - index[a]! : index[a]!);
        if (x >= shape[a]!) inside = false;
        v += x * caseStrides[a]!;
      }
      const out = b * patchVoxels + p;
      if (inside) {
        labels[out] = c.labels.data[v]!;
        for (let ch = 0; ch < channels; ch++) image[out * channels + ch] = c.image.data[v * channels + ch]!;
      }
      for (let a = patch.length - 1; a >= 0; a--) {
        if (++index[a]! < patch[a]!) break;
        index[a] = 0;
      }
    }
  }

  function scaleTargets(labels: Int32Array, size: number, scale: number, spacing: readonly number[]): ScaleTargets {
    const factor = 2 ** scale;
    const shape = patch.map((d) => Math.floor(d / factor));
    const n = product(shape);
    const scaled = new Int32Array(size * n);
    for (let b = 0; b < size; b++) scaled.set(downsampleLabels(labels.subarray(b * patchVoxels, (b + 1) * patchVoxels), patch, factor).labels, b * n);
    const target = new Float32Array(size * n * numClasses);
    for (let i = 0; i < scaled.length; i++) target[i * numClasses + scaled[i]!] = 1;
    const maps: Record<string, Float32Array> = {};
    for (const generator of options.maps) {
      const map = new Float32Array(size * n * numClasses);
      for (let b = 0; b < size; b++) {
        const one = scaled.subarray(b * n, (b + 1) * n);
        map.set(generator.generate({ labels: one, shape, numClasses, spacing: spacing.map((s) => s * factor) }), b * n * numClasses);
      }
      maps[generator.key] = map;
    }
    return { shape, labels: scaled, target, maps };
  }

  return {
    async next(): Promise<Batch> {
      const size = options.batchSize;
      const image = new Float32Array(size * patchVoxels * channels);
      const labels = new Int32Array(size * patchVoxels);
      const caseIds: string[] = [];
      for (let b = 0; b < size; b++) {
        const caseIndex = rng.int(cases.length);
        caseIds.push(cases[caseIndex]!.id);
        samplePatch(caseIndex, image, labels, b);
      }
      const spacing = cases[0]!.image.spacing;
      const scales = Array.from({ length: options.scales }, (_, s) => scaleTargets(labels, size, s, spacing));
      return { size, image, channels, numClasses, spacing, scales, caseIds };
    },
    async close() {},
  };
}
