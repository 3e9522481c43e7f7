/**
 * Validates a dataset before training: every image readable and paired with a label of the same shape and spacing,
 * label values inside the declared classes, the same channel count everywhere. Collects every problem rather than
 * stopping at the first, and reports class frequencies and sizes.
 */
import { isRwsegError } from '../errors.js';
import { FORMAT_NAMES } from '../io/formats.js';
import { readImage, type ImageRead, type SpacingSource } from '../io/volume-io.js';
import { spatialShapeOf } from '../volume.js';
import { BINARY_MASK_MAPPING, readCase, type CaseRef, type DatasetInfo } from './dataset.js';
import { classHistogram } from './labels.js';

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
  /** classVoxels as fractions of all labeled voxels. */
  classFrequency: number[];
  /** Training cases containing each class at least once. */
  casesWithClass: number[];
  /** Smallest and largest spatial shape per axis, and the distinct spacings seen (up to 10). */
  shape: { min: number[]; max: number[] };
  spacings: number[][];
  /** Files per format (FORMAT_NAMES, or "DICOM series"), images and labels apart. */
  formats: { images: Record<string, number>; labels: Record<string, number> };
  /** Where the images' spacing came from (file header, TIFF resolution tags, ImageJ, DICOM, none), in files. */
  spacingSources: Partial<Record<SpacingSource, number>>;
  /** Folder datasets: the pairing rule applied. */
  pairing?: string;
  /** Things done on the user's behalf that they should know (0/255 masks read as 0/1). */
  notices: string[];
  problems: DatasetProblem[];
  ok: boolean;
}

const SPACING_TOLERANCE = 1e-3;

function sameSpacing(a: readonly number[], b: readonly number[]): boolean {
  return (
    a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= SPACING_TOLERANCE * Math.max(1, Math.abs(v)))
  );
}

function problemOf(error: unknown, caseId: string): DatasetProblem {
  const file = isRwsegError(error) && typeof error.details.file === 'string' ? error.details.file : undefined;
  return { caseId, ...(file ? { file } : {}), message: (error as Error).message };
}

export async function checkDataset(
  info: DatasetInfo,
  onCase?: (done: number, total: number, caseId: string) => void,
): Promise<DatasetReport> {
  const problems: DatasetProblem[] = [];
  const classVoxels = new Array<number>(info.numClasses).fill(0);
  const casesWithClass = new Array<number>(info.numClasses).fill(0);
  let min: number[] | undefined;
  let max: number[] | undefined;
  const spacings: number[][] = [];
  let channels: number | undefined;
  let firstCase = '';
  const formats = { images: {} as Record<string, number>, labels: {} as Record<string, number> };
  const spacingSources: Partial<Record<SpacingSource, number>> = {};
  let binaryMasks = 0;
  const count = (table: Record<string, number>, key: string) => {
    table[key] = (table[key] ?? 0) + 1;
  };
  const formatName = (read: ImageRead) => (read.format === 'dicom-series' ? 'DICOM series' : FORMAT_NAMES[read.format]);
  const readNoted = async (file: string, table: Record<string, number>, options?: { color: 'reject' }) => {
    const read = await readImage(file, options);
    count(table, formatName(read));
    return read;
  };
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
      problems.push({
        caseId: ref.id,
        file: ref.images[0],
        message: `case ${ref.id} has ${c} channel(s) but ${firstCase} has ${channels}`,
      });
    }
  };

  for (const ref of info.training) {
    try {
      const read = await readCase(info, ref, {
        declaredChannels: false,
        onRead: (_, image, role) => {
          count(role === 'image' ? formats.images : formats.labels, formatName(image));
          if (role === 'image') spacingSources[image.spacingSource] = (spacingSources[image.spacingSource] ?? 0) + 1;
        },
        onImage: (image) => note(spatialShapeOf(image), image.spacing, image.channels, ref),
      });
      const { image, label } = read.case;
      if (!label) throw new Error(`case ${ref.id} has no label file`);
      // A mask format without physical size (PNG, GIF, ...) takes the image's, as loading does.
      const labelSpacing = read.labelRead?.volume.spacing ?? image.spacing;
      if (read.labelRead && read.labelRead.spacingSource !== 'none' && !sameSpacing(labelSpacing, image.spacing)) {
        problems.push({
          caseId: ref.id,
          file: ref.label,
          message: `${ref.label}: label spacing [${labelSpacing.join(', ')}] differs from image ${ref.images[0]} [${image.spacing.join(', ')}]`,
        });
      }
      if (read.labelMapping === BINARY_MASK_MAPPING) binaryMasks++;
      classHistogram(label.data, info.numClasses).forEach((n, k) => {
        classVoxels[k]! += n;
        if (n > 0) casesWithClass[k]!++;
      });
    } catch (error) {
      problems.push(problemOf(error, ref.id));
    }
    onCase?.(++done, total, ref.id);
  }
  for (const ref of info.test) {
    try {
      for (const file of ref.images) await readNoted(file, formats.images);
    } catch (error) {
      problems.push(problemOf(error, ref.id));
    }
    onCase?.(++done, total, ref.id);
  }
  // A folder dataset declares no channels: its images say (RGB -> 3); the cases must only agree with each other.
  if (info.kind !== 'folder' && channels !== undefined && channels !== info.channelNames.length) {
    problems.push({
      caseId: firstCase,
      message: `the dataset declares ${info.channelNames.length} channel(s) (${info.channelNames.join(', ')}) but case ${firstCase} has ${channels}`,
    });
  }
  const notices: string[] = [];
  if (binaryMasks > 0) {
    notices.push(
      `${binaryMasks} mask(s) hold only 0 and 255: read as class 0 (0) and class 1 (255); ` +
        'if 255 is the background, give a label map (--label-map 0:1,255:0)',
    );
  }
  const labeled = classVoxels.reduce((a, b) => a + b, 0);
  return {
    name: info.name,
    kind: info.kind,
    ...(info.root ? { root: info.root } : {}),
    numClasses: info.numClasses,
    classNames: info.classNames,
    // A folder dataset's channels are what its images hold (an RGB image: three).
    channels:
      info.kind === 'folder' && channels !== undefined && channels !== info.channelNames.length
        ? channels === 3
          ? ['R', 'G', 'B']
          : Array.from({ length: channels }, (_, c) => `channel${c}`)
        : info.channelNames,
    trainingCases: info.training.length,
    testCases: info.test.length,
    classVoxels,
    classFrequency: classVoxels.map((n) => (labeled ? n / labeled : 0)),
    casesWithClass,
    shape: { min: min ?? [], max: max ?? [] },
    spacings,
    formats,
    spacingSources,
    ...(info.pairing ? { pairing: info.pairing } : {}),
    notices,
    problems,
    ok: problems.length === 0,
  };
}
