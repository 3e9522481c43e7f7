/**
 * The built-in synthetic dataset: seeded 2D or 3D images of shapes on a shaded, noisy background, one shape kind
 * per class (1: discs/ellipses, 2: rectangles/boxes, 3: blobs, then the cycle repeats with other intensities).
 * Classes differ in shape and in mean intensity, with per-image gain and bias, so a small U-Net learns it in
 * minutes; `objectScale` and `classWeights` make foreground classes rarer to exercise imbalance.
 */
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { writeVolume } from '../io/volume-io.js';
import { writeBytesAtomic } from '../io/files.js';
import { voxelCount } from '../volume.js';
import type { Case, CaseRef, DatasetInfo } from './dataset.js';
import { createRandom, type Random } from './random.js';

export interface SyntheticOptions {
  dim?: 2 | 3;
  /** Spatial shape (row-major, [H, W] or [D, H, W]); default 96x96 or 48x48x48. */
  size?: number[];
  /** Number of cases (default 24). */
  cases?: number;
  /** Classes including background, 2..8 (default 3). */
  numClasses?: number;
  seed?: number;
  /** Objects per image (default 2D 5, 3D 4). */
  objects?: number;
  /** Multiplies object radii; below 1 makes foreground rarer (default 1). */
  objectScale?: number;
  /** Relative frequency of each foreground class among objects (length numClasses - 1; default all 1). */
  classWeights?: number[];
  /** Gaussian noise, relative to the contrast between classes (default 0.15). */
  noise?: number;
  /** Voxel spacing (default all 1 mm). */
  spacing?: number[];
}

const SHAPE_NAMES = ['disc', 'rectangle', 'blob'];
/** Mean intensity per foreground class (background is 0); distinct but overlapping once noise and gain apply. */
const CLASS_INTENSITY = [1.0, 0.55, 1.5, 0.3, 1.25, 0.8, 1.75];

export function resolveSyntheticOptions(options: SyntheticOptions = {}): Required<SyntheticOptions> {
  const dim = options.dim ?? (options.size?.length === 3 ? 3 : 2);
  const size = options.size ?? (dim === 2 ? [96, 96] : [48, 48, 48]);
  const numClasses = options.numClasses ?? 3;
  const bad = (option: string, why: string) =>
    new RwsegError('INVALID_OPTIONS', `synthetic dataset option ${option}: ${why}`, { option });
  if (dim !== 2 && dim !== 3) throw bad('dim', 'must be 2 or 3');
  if (size.length !== dim || size.some((s) => !Number.isInteger(s) || s < 8))
    throw bad('size', `needs ${dim} integers >= 8, got [${size.join(', ')}]`);
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 8)
    throw bad('numClasses', 'must be an integer in 2..8');
  const classWeights = options.classWeights ?? new Array<number>(numClasses - 1).fill(1);
  if (
    classWeights.length !== numClasses - 1 ||
    classWeights.some((w) => !(w >= 0)) ||
    !classWeights.some((w) => w > 0)
  ) {
    throw bad('classWeights', `needs ${numClasses - 1} non-negative weights, not all zero`);
  }
  const spacing = options.spacing ?? new Array<number>(dim).fill(1);
  if (spacing.length !== dim || spacing.some((s) => !(s > 0))) throw bad('spacing', `needs ${dim} positive numbers`);
  const cases = options.cases ?? 24;
  if (!Number.isInteger(cases) || cases < 1) throw bad('cases', 'must be a positive integer');
  return {
    dim,
    size,
    cases,
    numClasses,
    classWeights,
    spacing,
    seed: options.seed ?? 0,
    objects: options.objects ?? (dim === 2 ? 5 : 4),
    objectScale: options.objectScale ?? 1,
    noise: options.noise ?? 0.15,
  };
}

export function syntheticClassNames(numClasses: number): string[] {
  return [
    'background',
    ...Array.from({ length: numClasses - 1 }, (_, i) => `${SHAPE_NAMES[i % 3]}${i >= 3 ? Math.floor(i / 3) + 1 : ''}`),
  ];
}

export function syntheticDatasetInfo(options: SyntheticOptions = {}): DatasetInfo {
  const resolved = resolveSyntheticOptions(options);
  const training: CaseRef[] = Array.from({ length: resolved.cases }, (_, i) => ({
    id: syntheticCaseId(i),
    images: [],
    syntheticIndex: i,
  }));
  return {
    kind: 'synthetic',
    name: `synthetic-${resolved.dim}d`,
    numClasses: resolved.numClasses,
    classNames: syntheticClassNames(resolved.numClasses),
    channelNames: ['synthetic'],
    training,
    test: [],
    synthetic: resolved,
  };
}

export function syntheticCaseId(index: number): string {
  return `synth_${String(index).padStart(3, '0')}`;
}

/** Visits the voxels of a box [lo, hi) (clipped to the image), calling fn(flatIndex, coords). */
function forBox(shape: readonly number[], lo: number[], hi: number[], fn: (flat: number, p: number[]) => void): void {
  const a = lo.map((v) => Math.max(0, Math.floor(v)));
  const b = hi.map((v, i) => Math.min(shape[i]!, Math.ceil(v)));
  if (a.some((v, i) => v >= b[i]!)) return;
  const p = [...a];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  for (;;) {
    let flat = 0;
    for (let i = 0; i < p.length; i++) flat += p[i]! * strides[i]!;
    fn(flat, p);
    let axis = p.length - 1;
    while (axis >= 0 && ++p[axis]! >= b[axis]!) {
      p[axis] = a[axis]!;
      axis--;
    }
    if (axis < 0) return;
  }
}

/** Paints one object of `kind` (0 ellipsoid, 1 box, 2 blob) into `labels` with class `cls`. */
function paintObject(
  labels: Int32Array,
  shape: readonly number[],
  kind: number,
  cls: number,
  radius: number,
  rng: Random,
): void {
  const dim = shape.length;
  const center = shape.map((s) => rng.uniform(0.1 * s, 0.9 * s));
  const radii = shape.map(() => radius * rng.uniform(0.6, 1.4));
  if (kind === 0) {
    forBox(
      shape,
      center.map((c, i) => c - radii[i]!),
      center.map((c, i) => c + radii[i]! + 1),
      (flat, p) => {
        let r = 0;
        for (let i = 0; i < dim; i++) r += ((p[i]! - center[i]!) / radii[i]!) ** 2;
        if (r <= 1) labels[flat] = cls;
      },
    );
  } else if (kind === 1) {
    forBox(
      shape,
      center.map((c, i) => c - radii[i]! * 0.8),
      center.map((c, i) => c + radii[i]! * 0.8),
      (flat) => {
        labels[flat] = cls;
      },
    );
  } else {
    // A blob: the level set of a few Gaussian bumps scattered around the center.
    const bumps = Array.from({ length: 3 + rng.int(3) }, () => ({
      c: center.map((c) => c + rng.normal() * radius * 0.5),
      s: radius * rng.uniform(0.35, 0.6),
    }));
    const reach = radius * 2;
    forBox(
      shape,
      center.map((c) => c - reach),
      center.map((c) => c + reach + 1),
      (flat, p) => {
        let field = 0;
        for (const { c, s } of bumps) {
          let d2 = 0;
          for (let i = 0; i < dim; i++) d2 += (p[i]! - c[i]!) ** 2;
          field += Math.exp(-d2 / (2 * s * s));
        }
        if (field > 0.6) labels[flat] = cls;
      },
    );
  }
}

/** Generates case `index`; the same options and index always give the same bytes. */
export function generateSyntheticCase(options: Required<SyntheticOptions>, index: number): Case {
  const { size, numClasses, objects, objectScale, classWeights, noise, spacing } = options;
  const rng = createRandom(options.seed, 'synthetic', index);
  const n = voxelCount(size);
  const labels = new Int32Array(n);
  const minSide = Math.min(...size);
  const total = classWeights.reduce((a, b) => a + b, 0);
  for (let o = 0; o < objects; o++) {
    let u = rng.next() * total;
    let cls = 1;
    while (cls < numClasses - 1 && (u -= classWeights[cls - 1]!) >= 0) cls++;
    const radius = minSide * rng.uniform(0.07, 0.15) * objectScale;
    paintObject(labels, size, (cls - 1) % 3, cls, Math.max(1.5, radius), rng);
  }
  // Scanner-like variation: global gain and bias, a linear shading ramp, then noise, in arbitrary units x100.
  const gain = rng.uniform(0.75, 1.25);
  const bias = rng.uniform(-0.3, 0.3);
  const ramp = size.map(() => rng.uniform(-0.2, 0.2));
  const image = new Float32Array(n);
  forBox(
    size,
    size.map(() => 0),
    [...size],
    (flat, p) => {
      const cls = labels[flat]!;
      let shade = 0;
      for (let i = 0; i < p.length; i++) shade += ramp[i]! * (p[i]! / size[i]! - 0.5);
      const mean = cls === 0 ? 0 : CLASS_INTENSITY[(cls - 1) % CLASS_INTENSITY.length]!;
      image[flat] = 100 * (bias + shade + gain * mean + noise * rng.normal());
    },
  );
  return {
    id: syntheticCaseId(index),
    image: { data: image, shape: [...size, 1], spacing, channels: 1 },
    label: { data: labels, shape: [...size], spacing },
    source: `synthetic case ${index} (seed ${options.seed})`,
  };
}

/** Writes the synthetic dataset in the MSD layout (imagesTr/, labelsTr/ as .nii.gz, dataset.json v1). */
export async function writeSyntheticDataset(
  outDir: string,
  options: SyntheticOptions = {},
  onCase?: (done: number, total: number) => void,
): Promise<DatasetInfo> {
  const info = syntheticDatasetInfo(options);
  const resolved = info.synthetic!;
  const training = [];
  for (const ref of info.training) {
    const c = generateSyntheticCase(resolved, ref.syntheticIndex!);
    const imageRel = `./imagesTr/${c.id}.nii.gz`;
    const labelRel = `./labelsTr/${c.id}.nii.gz`;
    await writeVolume(path.join(outDir, imageRel), {
      data: c.image.data,
      shape: c.image.shape.slice(0, -1),
      spacing: c.image.spacing,
    });
    await writeVolume(path.join(outDir, labelRel), c.label!, { datatype: 'uint8' });
    training.push({ image: imageRel, label: labelRel });
    onCase?.(training.length, info.training.length);
  }
  const json = {
    name: info.name,
    description: `rwseg synthetic ${resolved.dim}D shapes (seed ${resolved.seed})`,
    reference: 'generated by rwseg dataset synth',
    licence: 'CC0 1.0',
    tensorImageSize: `${resolved.dim}D`,
    modality: { '0': 'synthetic' },
    labels: Object.fromEntries(info.classNames.map((name, i) => [String(i), name])),
    numTraining: training.length,
    numTest: 0,
    training,
    test: [],
    rwsegSynthetic: resolved,
  };
  await writeBytesAtomic(path.join(outDir, 'dataset.json'), Buffer.from(JSON.stringify(json, null, 2) + '\n'));
  return info;
}
