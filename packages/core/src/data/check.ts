/**
 * Validates a dataset before training: every image readable and paired with a label of the same shape and spacing,
 * label values inside the declared classes, the same channel count everywhere. Collects every problem rather than
 * stopping at the first, and reports class frequencies and sizes.
 */
import { isRwsegError } from '../errors.js';
import { readVolume } from '../io/volume-io.js';
import type { Volume } from '../volume.js';
import { loadCase, spatialShapeOf, stackChannels, type CaseRef, type DatasetInfo } from './dataset.js';
import { classHistogram, toClassLabels } from './labels.js';

export interface DatasetProblem {
  caseId: string;
  file?: string;
  message: string;
}

export interface DatasetReport {
  name: string;
  kind: DatasetInfo['kind'];
  root?: string;
  numClasses: number;
  classNames: readonly string[];
  channels: readonly string[];
  trainingCases: number;
  testCases: number;
  /** Voxels per class over all readable training labels. */
  classVoxels: number[];
  /** classVoxels as fractions of all labelled voxels. */
  classFrequency: number[];
  /** Training cases containing each class at least once. */
  casesWithClass: number[];
  /** Smallest and largest spatial shape per axis, and the distinct spacings seen (up to 10). */
  shape: { min: number[]; max: number[] };
  spacings: number[][];
  problems: DatasetProblem[];
  ok: boolean;
}

const SPACING_TOLERANCE = 1e-3;

function sameSpacing(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= SPACING_TOLERANCE * Math.max(1, Math.abs(v)));
}

function problemOf(error: unknown, caseId: string): DatasetProblem {
  const file = isRwsegError(error) && typeof error.details.file === 'string' ? error.details.file : undefined;
  return { caseId, ...(file ? { file } : {}), message: (error as Error).message };
}

export async function checkDataset(info: DatasetInfo, onCase?: (done: number, total: number, caseId: string) => void): Promise<DatasetReport> {
  const problems: DatasetProblem[] = [];
  const classVoxels = new Array<number>(info.numClasses).fill(0);
  const casesWithClass = new Array<number>(info.numClasses).fill(0);
  let min: number[] | undefined;
  let max: number[] | undefined;
  const spacings: number[][] = [];
  let channels: number | undefined;
  let firstCase = '';
  const total = info.training.length + info.test.length;
  let done = 0;

  const note = (shape: readonly number[], spacing: readonly number[], c: number, ref: CaseRef) => {
    min = min ? min.map((v, i) => Math.min(v, shape[i] ?? v)) : [...shape];
    max = max ? max.map((v, i) => Math.max(v, shape[i] ?? v)) : [...shape];
    if (spacings.length < 10 && !spacings.some((s) => sameSpacing(s, spacing))) spacings.push([...spacing]);
    if (channels === undefined) {
      channels = c;
      firstCase = ref.id;
    } else if (c !== channels) {
      problems.push({ caseId: ref.id, file: ref.images[0], message: `case ${ref.id} has ${c} channel(s) but ${firstCase} has ${channels}` });
    }
  };

  for (const ref of info.training) {
    try {
      if (info.kind === 'synthetic') {
        const c = await loadCase(info, ref);
        note(spatialShapeOf(c.image), c.image.spacing, c.image.channels, ref);
        classHistogram(c.label!.data, info.numClasses).forEach((n, k) => { classVoxels[k]! += n; if (n > 0) casesWithClass[k]!++; });
      } else {
        const volumes: Volume[] = [];
        for (const file of ref.images) volumes.push(await readVolume(file));
        const image = stackChannels(volumes, ref.images);
        const imageShape = spatialShapeOf(image);
        note(imageShape, image.spacing, image.channels!, ref);
        if (!ref.label) throw new Error(`case ${ref.id} has no label file`);
        const label = await readVolume(ref.label);
        const labelShape = spatialShapeOf(label);
        if (label.channels || labelShape.join() !== imageShape.join()) {
          problems.push({ caseId: ref.id, file: ref.label, message: `${ref.label}: label shape [${label.shape.join(', ')}] differs from image ${ref.images[0]} [${imageShape.join(', ')}]` });
        } else {
          if (!sameSpacing(label.spacing, image.spacing)) {
            problems.push({ caseId: ref.id, file: ref.label, message: `${ref.label}: label spacing [${label.spacing.join(', ')}] differs from image ${ref.images[0]} [${image.spacing.join(', ')}]` });
          }
          const classes = toClassLabels(label.data, info.numClasses, ref.label, info.labelMap);
          classHistogram(classes, info.numClasses).forEach((n, k) => { classVoxels[k]! += n; if (n > 0) casesWithClass[k]!++; });
        }
      }
    } catch (error) {
      problems.push(problemOf(error, ref.id));
    }
    onCase?.(++done, total, ref.id);
  }
  for (const ref of info.test) {
    try {
      for (const file of ref.images) await readVolume(file);
    } catch (error) {
      problems.push(problemOf(error, ref.id));
    }
    onCase?.(++done, total, ref.id);
  }
  if (channels !== undefined && channels !== info.channelNames.length) {
    problems.push({ caseId: firstCase, message: `the dataset declares ${info.channelNames.length} channel(s) (${info.channelNames.join(', ')}) but case ${firstCase} has ${channels}` });
  }
  const labelled = classVoxels.reduce((a, b) => a + b, 0);
  return {
    name: info.name,
    kind: info.kind,
    ...(info.root ? { root: info.root } : {}),
    numClasses: info.numClasses,
    classNames: info.classNames,
    channels: info.channelNames,
    trainingCases: info.training.length,
    testCases: info.test.length,
    classVoxels,
    classFrequency: classVoxels.map((n) => (labelled ? n / labelled : 0)),
    casesWithClass,
    shape: { min: min ?? [], max: max ?? [] },
    spacings,
    problems,
    ok: problems.length === 0,
  };
}
