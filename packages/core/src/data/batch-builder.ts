/**
 * Turns augmented samples into a Batch: stacked image patches, and per deep-supervision scale the integer labels,
 * the one-hot target and every requested map, each computed from that scale's labels (spec: maps are computed
 * after cropping and augmentation, and again per scale from the nearest-downsampled label).
 */
import { RwsegError, isRwsegError } from '../errors.js';
import type { BoundMapGenerator } from '../plugins/registry.js';
import { voxelCount } from '../volume.js';
import type { Batch, ScaleTargets } from './batch.js';
import type { Sample } from './sampler.js';

/** Nearest downsampling by 2 on every axis: output voxel q takes input voxel 2q; sizes become ceil(s / 2). */
export function downsampleLabels(
  labels: Int32Array,
  shape: readonly number[],
): { labels: Int32Array; shape: number[] } {
  const out = shape.map((s) => Math.ceil(s / 2));
  const result = new Int32Array(voxelCount(out));
  const strides = shape.map((_, a) => voxelCount(shape.slice(a + 1)));
  const q = new Array<number>(out.length).fill(0);
  for (let i = 0; i < result.length; i++) {
    let src = 0;
    for (let a = 0; a < out.length; a++) src += 2 * q[a]! * strides[a]!;
    result[i] = labels[src]!;
    for (let a = out.length - 1; a >= 0; a--) {
      if (++q[a]! < out[a]!) break;
      q[a] = 0;
    }
  }
  return { labels: result, shape: out };
}

/** One-hot channels-last [...shape, K] written into `out` at `offset`. */
export function oneHotInto(labels: Int32Array, numClasses: number, out: Float32Array, offset: number): void {
  for (let i = 0; i < labels.length; i++) out[offset + i * numClasses + labels[i]!] = 1;
}

export interface BuildBatchOptions {
  numClasses: number;
  channels: number;
  patchShape: readonly number[];
  maps: readonly BoundMapGenerator[];
  /** Number of scales: 1 = full resolution only. */
  scales: number;
}

export function buildBatch(samples: readonly Sample[], options: BuildBatchOptions): Batch {
  const { numClasses: K, channels, patchShape, maps } = options;
  const B = samples.length;
  const image = new Float32Array(B * voxelCount(patchShape) * channels);
  samples.forEach((s, b) => image.set(s.image, b * s.image.length));
  let current = samples.map((s) => s.labels);
  let shape = [...patchShape];
  const scales: ScaleTargets[] = [];
  for (let scale = 0; scale < options.scales; scale++) {
    if (scale > 0) {
      const down = current.map((l) => downsampleLabels(l, shape));
      current = down.map((d) => d.labels);
      shape = down[0]!.shape;
    }
    const n = voxelCount(shape);
    const labels = new Int32Array(B * n);
    const target = new Float32Array(B * n * K);
    const mapArrays: Record<string, Float32Array> = {};
    for (const m of maps) mapArrays[m.key] = new Float32Array(B * n * K);
    for (let b = 0; b < B; b++) {
      labels.set(current[b]!, b * n);
      oneHotInto(current[b]!, K, target, b * n * K);
      const spacing = samples[b]!.spacing.map((s) => s * 2 ** scale);
      for (const m of maps) {
        let map: Float32Array;
        try {
          map = m.generate({ labels: current[b]!, shape, numClasses: K, spacing });
        } catch (error) {
          const message = `map "${m.map}" failed on a patch of case ${samples[b]!.caseId} (scale ${scale}, shape [${shape.join(', ')}]): ${(error as Error).message}`;
          throw new RwsegError(
            isRwsegError(error) ? error.code : 'NUMERICAL_ERROR',
            message,
            { caseId: samples[b]!.caseId, map: m.map },
            { cause: error },
          );
        }
        if (map.length !== n * K) {
          throw new RwsegError(
            'INVALID_PLUGIN',
            `map "${m.map}" returned ${map.length} values for case ${samples[b]!.caseId}; expected ${n * K} ([${shape.join(', ')}, ${K}])`,
            { caseId: samples[b]!.caseId, map: m.map },
          );
        }
        mapArrays[m.key]!.set(map, b * n * K);
      }
    }
    scales.push({ shape, labels, target, maps: mapArrays });
  }
  return {
    size: B,
    image,
    channels,
    numClasses: K,
    spacing: samples[0]!.spacing,
    scales,
    caseIds: samples.map((s) => s.caseId),
  };
}

/** The ArrayBuffers of a batch, for a zero-copy postMessage transfer. */
export function batchTransferList(batch: Batch): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>([batch.image.buffer as ArrayBuffer]);
  for (const s of batch.scales) {
    buffers.add(s.labels.buffer as ArrayBuffer);
    buffers.add(s.target.buffer as ArrayBuffer);
    for (const m of Object.values(s.maps)) buffers.add(m.buffer as ArrayBuffer);
  }
  return [...buffers];
}
