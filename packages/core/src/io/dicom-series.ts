/**
 * A DICOM series (a folder of single-slice files) as one Volume. Each file is decoded by ITK-Wasm's GDCM reader
 * (any transfer syntax GDCM knows, RescaleSlope/Intercept applied); the series geometry is rwseg's:
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
import type { Volume, VoxelArray } from '../volume.js';
import { readItkImage } from './itk-image.js';

const TAG = {
  series: '0020|000e',
  instance: '0020|0013',
  position: '0020|0032',
  orientation: '0020|0037',
  pixelSpacing: '0028|0030',
  thickness: '0018|0050',
} as const;

/** Relative tolerance on slice steps and geometry; scanners write positions with a few decimals. */
const TOLERANCE = 1e-3;

interface Slice {
  file: string;
  volume: Volume;
  series: string;
  instance?: number;
  position?: number[];
  orientation?: number[];
  thickness?: number;
}

function numbers(value: unknown): number[] | undefined {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const parts = value.split('\\').map((p) => Number(p.trim()));
  return parts.every(Number.isFinite) ? parts : undefined;
}

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

async function readSlice(file: string): Promise<Slice> {
  const { volume, metadata } = await readItkImage(file, 'dicom', 'reject');
  const tag = (key: string) => metadata.get(key);
  const instance = numbers(tag(TAG.instance))?.[0];
  const position = numbers(tag(TAG.position));
  const orientation = numbers(tag(TAG.orientation));
  const thickness = numbers(tag(TAG.thickness))?.[0];
  return {
    file,
    volume,
    series: String(tag(TAG.series) ?? '').trim(),
    ...(instance !== undefined ? { instance } : {}),
    ...(position?.length === 3 ? { position } : {}),
    ...(orientation?.length === 6 ? { orientation } : {}),
    ...(thickness !== undefined && thickness > 0 ? { thickness } : {}),
  };
}

/** Drops the size-1 slice axis GDCM gives one file, so a single 2D DICOM image reads as [H, W]. */
export function squeezeSingleSlice(volume: Volume): Volume {
  if (volume.shape.length - (volume.channels ? 1 : 0) !== 3 || volume.shape[0] !== 1) return volume;
  const orientation = volume.orientation ? { orientation: { origin: volume.orientation.origin, direction: volume.orientation.direction.slice(1) } } : {};
  return { ...volume, shape: volume.shape.slice(1), spacing: volume.spacing.slice(1), ...orientation };
}

function seriesError(dir: string, message: string, files: string[] = []): RwsegError {
  return new RwsegError('INVALID_INPUT', `${dir}: DICOM series ${message}`, { file: dir, files });
}

export async function readDicomSeries(dir: string): Promise<Volume> {
  const files = await listDicomFiles(dir);
  if (files.length === 0) throw seriesError(dir, 'not found: the folder holds no .dcm file and no file with the DICM preamble');
  const slices: Slice[] = [];
  for (const file of files) slices.push(await readSlice(file));
  const seriesIds = [...new Set(slices.map((s) => s.series))];
  if (seriesIds.length > 1) {
    const first = slices.find((s) => s.series === seriesIds[1])!;
    throw seriesError(dir, `mixes ${seriesIds.length} series (SeriesInstanceUID ${seriesIds[0]} in ${slices[0]!.file}, ${seriesIds[1]} in ${first.file}); put each series in its own folder`, [slices[0]!.file, first.file]);
  }
  const first = slices[0]!;
  const single = first.volume.shape[0]!;
  if (slices.length === 1) return single > 1 ? first.volume : squeezeSingleSlice(first.volume);
  if (single !== 1) throw seriesError(dir, `holds several files but ${first.file} is a multi-frame image (${single} frames); give that file alone`, [first.file]);
  for (const s of slices) {
    if (s.volume.shape.join() !== first.volume.shape.join() || s.volume.channels !== first.volume.channels) {
      throw seriesError(dir, `slices differ in size: ${first.file} is [${first.volume.shape.slice(1).join(', ')}], ${s.file} is [${s.volume.shape.slice(1).join(', ')}]`, [first.file, s.file]);
    }
    if (!close(s.volume.spacing.slice(1), first.volume.spacing.slice(1))) {
      throw seriesError(dir, `slices differ in PixelSpacing: ${first.file} [${first.volume.spacing.slice(1).join(', ')}], ${s.file} [${s.volume.spacing.slice(1).join(', ')}]`, [first.file, s.file]);
    }
    if (first.orientation && s.orientation && !close(s.orientation, first.orientation)) {
      throw seriesError(dir, `slices differ in ImageOrientationPatient: ${first.file} and ${s.file}`, [first.file, s.file]);
    }
  }
  const byPosition = slices.every((s) => s.position && s.orientation);
  let step: number;
  let sorted: Slice[];
  if (byPosition) {
    const iop = first.orientation!;
    const normal = cross(iop.slice(0, 3), iop.slice(3, 6));
    const keyed = slices.map((s) => ({ s, at: dot(s.position!, normal) })).sort((a, b) => a.at - b.at);
    sorted = keyed.map((k) => k.s);
    const steps = keyed.slice(1).map((k, i) => k.at - keyed[i]!.at);
    const duplicate = steps.findIndex((d) => Math.abs(d) < 1e-6);
    if (duplicate >= 0) {
      throw seriesError(dir, `has two slices at one position (${keyed[duplicate]!.at.toFixed(3)} mm along the normal): ${sorted[duplicate]!.file} and ${sorted[duplicate + 1]!.file}`, [sorted[duplicate]!.file, sorted[duplicate + 1]!.file]);
    }
    // A missing slice only ever lengthens a step, so the shortest one is the series' own.
    step = Math.min(...steps);
    const gap = steps.findIndex((d) => Math.abs(d - step) > TOLERANCE * Math.max(1, step) + 1e-3);
    if (gap >= 0) {
      throw seriesError(dir, `is missing slices or unevenly spaced: ${steps[gap]!.toFixed(3)} mm between ${sorted[gap]!.file} and ${sorted[gap + 1]!.file}, ${step.toFixed(3)} mm elsewhere`, [sorted[gap]!.file, sorted[gap + 1]!.file]);
    }
  } else {
    const missing = slices.find((s) => s.instance === undefined);
    if (missing) throw seriesError(dir, `cannot be ordered: ${missing.file} has neither ImagePositionPatient nor InstanceNumber`, [missing.file]);
    sorted = [...slices].sort((a, b) => a.instance! - b.instance!);
    for (let i = 1; i < sorted.length; i++) {
      const d = sorted[i]!.instance! - sorted[i - 1]!.instance!;
      if (d !== 1) {
        throw seriesError(dir, `InstanceNumber ${d === 0 ? 'repeats' : 'skips'} between ${sorted[i - 1]!.file} (${sorted[i - 1]!.instance}) and ${sorted[i]!.file} (${sorted[i]!.instance}), and there are no ImagePositionPatient tags to order by`, [sorted[i - 1]!.file, sorted[i]!.file]);
      }
    }
    // Without positions the slice step is unknown; SliceThickness is the closest the headers offer.
    step = first.thickness ?? 1;
  }
  const perSlice = first.volume.data.length;
  const Ctor = first.volume.data.constructor as new (n: number) => VoxelArray;
  const data = new Ctor(perSlice * sorted.length);
  sorted.forEach((s, k) => {
    if (s.volume.data.constructor !== Ctor) {
      throw seriesError(dir, `slices decode to different pixel types (${first.file}: ${Ctor.name}, ${s.file}: ${s.volume.data.constructor.name})`, [first.file, s.file]);
    }
    data.set(s.volume.data, k * perSlice);
  });
  const base = sorted[0]!.volume;
  const spacing = [step, ...base.spacing.slice(1)];
  const placed = byPosition && base.orientation
    ? (() => {
        const p0 = sorted[0]!.position!, p1 = sorted[sorted.length - 1]!.position!;
        const along = p1.map((v, i) => v - p0[i]!);
        const length = Math.hypot(...along);
        return { orientation: { origin: [...p0], direction: [along.map((v) => v / length), ...base.orientation!.direction.slice(1)] } };
      })()
    : {};
  return { data, shape: [sorted.length, ...base.shape.slice(1)], spacing, ...(base.channels ? { channels: base.channels } : {}), ...placed };
}
