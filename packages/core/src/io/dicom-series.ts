/**
 * A DICOM series (a folder of single-slice files) as one Volume. Each file is decoded by io/dicom-slice.ts
 * (RescaleSlope/Intercept applied); the series geometry is rwseg's:
 * - slices are sorted by ImagePositionPatient projected on the slice normal (ImageOrientationPatient's row x
 *   column), or by InstanceNumber where positions are missing;
 * - spacing is [slice step from the positions, PixelSpacing row, PixelSpacing column];
 * - a missing slice (a gap), two slices at one position, mixed series, sizes, orientations or pixel spacings are
 *   errors naming the files, because training on a silently broken volume is worse than not training.
 */
import { readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import type { Volume, VolumeOrientation, VoxelArray } from '../volume.js';
import { readDicomSlice, type DicomSlice } from './dicom-slice.js';

/** Relative tolerance on slice steps and geometry; scanners write positions with a few decimals. */
const TOLERANCE = 1e-3;

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((s, v, i) => s + v * b[i]!, 0);
}

function cross(a: readonly number[], b: readonly number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

function close(a: readonly number[], b: readonly number[], scale = 1): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= TOLERANCE * Math.max(scale, Math.abs(v)));
}

async function hasDicomPreamble(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    return bytesRead === 132 && head.toString('latin1', 128, 132) === 'DICM';
  } finally {
    await handle.close();
  }
}

/** The DICOM files of a folder: .dcm files and files with the DICM preamble (scanners often write no extension). */
export async function listDicomFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (name.startsWith('.') || name.toUpperCase() === 'DICOMDIR' || !statSync(file).isFile()) continue;
    if (name.toLowerCase().endsWith('.dcm') || (await hasDicomPreamble(file))) files.push(file);
  }
  return files;
}

function seriesError(dir: string, message: string, files: string[] = []): RwsegError {
  return new RwsegError('INVALID_INPUT', `${dir}: DICOM series ${message}`, { file: dir, files });
}

/**
 * One file as a Volume: [frames, rows, columns] (or [rows, columns] for one frame), spacing from PixelSpacing
 * (the frame step from SliceThickness, or 1), orientation from ImageOrientationPatient / ImagePositionPatient.
 */
export function sliceVolume(slice: DicomSlice): Volume {
  const plane = [slice.rows, slice.columns];
  const shape = slice.frames > 1 ? [slice.frames, ...plane] : plane;
  const spacing = slice.frames > 1 ? [slice.thickness ?? 1, ...slice.pixelSpacing] : [...slice.pixelSpacing];
  let orientation: VolumeOrientation | undefined;
  if (slice.orientation && slice.position) {
    // Volume axes are [rows (down a column: the column direction), columns (along a row: the row direction)].
    const rowDir = slice.orientation.slice(0, 3),
      colDir = slice.orientation.slice(3, 6);
    const inPlane = [colDir, rowDir];
    orientation = {
      origin: slice.position,
      direction: slice.frames > 1 ? [cross(rowDir, colDir), ...inPlane] : inPlane,
    };
  }
  return {
    data: slice.data,
    shape: slice.samples > 1 ? [...shape, slice.samples] : shape,
    spacing,
    ...(slice.samples > 1 ? { channels: slice.samples } : {}),
    ...(orientation ? { orientation } : {}),
  };
}

export async function readDicomSeries(dir: string): Promise<Volume> {
  const files = await listDicomFiles(dir);
  if (files.length === 0)
    throw seriesError(dir, 'not found: the folder holds no .dcm file and no file with the DICM preamble');
  const slices: DicomSlice[] = [];
  for (const file of files) slices.push(await readDicomSlice(file));
  const seriesIds = [...new Set(slices.map((s) => s.series))];
  if (seriesIds.length > 1) {
    const other = slices.find((s) => s.series === seriesIds[1])!;
    throw seriesError(
      dir,
      `mixes ${seriesIds.length} series (SeriesInstanceUID ${seriesIds[0]} in ${slices[0]!.file}, ${seriesIds[1]} ` +
        `in ${other.file}); put each series in its own folder`,
      [slices[0]!.file, other.file],
    );
  }
  const first = slices[0]!;
  if (slices.length === 1) return sliceVolume(first);
  if (first.frames !== 1)
    throw seriesError(
      dir,
      `holds several files but ${first.file} is a multi-frame image (${first.frames} frames); give that file alone`,
      [first.file],
    );
  for (const s of slices) {
    if (s.rows !== first.rows || s.columns !== first.columns || s.samples !== first.samples || s.frames !== 1) {
      throw seriesError(
        dir,
        `slices differ in size: ${first.file} is ${first.rows}x${first.columns}, ${s.file} is ` +
          `${s.rows}x${s.columns}${s.frames > 1 ? ` x ${s.frames} frames` : ''}`,
        [first.file, s.file],
      );
    }
    if (!close(s.pixelSpacing, first.pixelSpacing)) {
      throw seriesError(
        dir,
        `slices differ in PixelSpacing: ${first.file} [${first.pixelSpacing.join(', ')}], ${s.file} ` +
          `[${s.pixelSpacing.join(', ')}]`,
        [first.file, s.file],
      );
    }
    if (first.orientation && s.orientation && !close(s.orientation, first.orientation)) {
      throw seriesError(dir, `slices differ in ImageOrientationPatient: ${first.file} and ${s.file}`, [
        first.file,
        s.file,
      ]);
    }
    if (s.data.constructor !== first.data.constructor) {
      throw seriesError(
        dir,
        `slices decode to different pixel types (${first.file}: ${first.data.constructor.name}, ${s.file}: ` +
          `${s.data.constructor.name}); their RescaleSlope/Intercept differ`,
        [first.file, s.file],
      );
    }
  }
  const byPosition = slices.every((s) => s.position && s.orientation);
  let step: number;
  let sorted: DicomSlice[];
  if (byPosition) {
    const iop = first.orientation!;
    const normal = cross(iop.slice(0, 3), iop.slice(3, 6));
    const keyed = slices.map((s) => ({ s, at: dot(s.position!, normal) })).sort((a, b) => a.at - b.at);
    sorted = keyed.map((k) => k.s);
    const steps = keyed.slice(1).map((k, i) => k.at - keyed[i]!.at);
    const duplicate = steps.findIndex((d) => Math.abs(d) < 1e-6);
    if (duplicate >= 0) {
      throw seriesError(
        dir,
        `has two slices at one position (${keyed[duplicate]!.at.toFixed(3)} mm along the normal): ` +
          `${sorted[duplicate]!.file} and ${sorted[duplicate + 1]!.file}`,
        [sorted[duplicate]!.file, sorted[duplicate + 1]!.file],
      );
    }
    // A missing slice only ever lengthens a step, so the shortest one is the series' own.
    step = Math.min(...steps);
    const gap = steps.findIndex((d) => Math.abs(d - step) > TOLERANCE * Math.max(1, step) + 1e-3);
    if (gap >= 0) {
      throw seriesError(
        dir,
        `is missing slices or unevenly spaced: ${steps[gap]!.toFixed(3)} mm between ${sorted[gap]!.file} and ` +
          `${sorted[gap + 1]!.file}, ${step.toFixed(3)} mm elsewhere`,
        [sorted[gap]!.file, sorted[gap + 1]!.file],
      );
    }
  } else {
    const missing = slices.find((s) => s.instance === undefined);
    if (missing)
      throw seriesError(dir, `cannot be ordered: ${missing.file} has neither ImagePositionPatient nor InstanceNumber`, [
        missing.file,
      ]);
    sorted = [...slices].sort((a, b) => a.instance! - b.instance!);
    for (let i = 1; i < sorted.length; i++) {
      const d = sorted[i]!.instance! - sorted[i - 1]!.instance!;
      if (d !== 1) {
        throw seriesError(
          dir,
          `InstanceNumber ${d === 0 ? 'repeats' : 'skips'} between ${sorted[i - 1]!.file} ` +
            `(${sorted[i - 1]!.instance}) and ${sorted[i]!.file} (${sorted[i]!.instance}), and there are no ` +
            `ImagePositionPatient tags to order by`,
          [sorted[i - 1]!.file, sorted[i]!.file],
        );
      }
    }
    // Without positions the slice step is unknown; SliceThickness is the closest the headers offer.
    step = first.thickness ?? 1;
  }
  const perSlice = first.data.length;
  const data = new (first.data.constructor as new (n: number) => VoxelArray)(perSlice * sorted.length);
  sorted.forEach((s, k) => data.set(s.data, k * perSlice));
  const plane = sliceVolume(sorted[0]!);
  let placed = {};
  if (byPosition && plane.orientation) {
    const p0 = sorted[0]!.position!,
      p1 = sorted[sorted.length - 1]!.position!;
    const along = p1.map((v, i) => v - p0[i]!);
    const length = Math.hypot(...along);
    placed = {
      orientation: { origin: [...p0], direction: [along.map((v) => v / length), ...plane.orientation.direction] },
    };
  }
  return {
    data,
    shape: [sorted.length, ...plane.shape],
    spacing: [step, ...plane.spacing],
    ...(plane.channels ? { channels: plane.channels } : {}),
    ...placed,
  };
}
