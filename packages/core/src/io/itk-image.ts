/**
 * Images read and written by ITK-Wasm (@itk-wasm/image-io: Kitware's ITK IO compiled to WebAssembly, shipped in
 * the npm package and run in-process, no network): TIFF, JPEG, BMP, NRRD, MetaImage and single DICOM files.
 *
 * Axis order: ITK lists size, spacing and the direction matrix's columns x first; a Volume lists the slowest axis
 * first, so each is reversed and the voxel bytes stay as they are (multi-component pixels are interleaved, which
 * is channels-last). ITK's world is LPS, the same as VolumeOrientation's; its direction is a row-major matrix
 * whose column c is the unit vector of index axis c.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { readImageNode as ReadImageNode } from '@itk-wasm/image-io';
import { RwsegError } from '../errors.js';
import type { Volume, VolumeOrientation, VoxelArray } from '../volume.js';
import { colorSamplesToVolume, type ColorPolicy } from './color.js';
import { FORMAT_EXTENSIONS, FORMAT_NAMES, type ImageFormat } from './formats.js';
import { assertVolumeConsistent } from './nifti.js';
import { withImageJCalibration } from './tiff-imagej.js';

type ItkImage = Awaited<ReturnType<typeof ReadImageNode>>;

/** Loaded on first use: a command that reads no TIFF/NRRD/MHA/DICOM does not pay for ITK's module graph. */
let itk: Promise<typeof import('@itk-wasm/image-io')> | undefined;
function itkIo(): Promise<typeof import('@itk-wasm/image-io')> {
  itk ??= import('@itk-wasm/image-io');
  return itk;
}
let runtime: Promise<typeof import('itk-wasm')> | undefined;
function itkRuntime(): Promise<typeof import('itk-wasm')> {
  runtime ??= import('itk-wasm');
  return runtime;
}

/** ITK's name for the IO module of each format (its pipelines are `<io>-read-image` and `<io>-write-image`). */
const ITK_IO: Partial<Record<ImageFormat, string>> = {
  tiff: 'tiff',
  jpeg: 'jpeg',
  bmp: 'bmp',
  nrrd: 'nrrd',
  metaimage: 'meta',
  dicom: 'gdcm',
};

/** The folder of @itk-wasm/image-io's compiled pipelines (each a .js loader and a .wasm.zst module). */
function pipelinePath(format: ImageFormat, direction: 'read' | 'write'): string {
  const io = ITK_IO[format];
  if (!io) throw new Error(`no ITK-Wasm IO for ${format}`);
  const entry = createRequire(import.meta.url).resolve('@itk-wasm/image-io');
  return path.join(path.dirname(entry), 'pipelines', `${io}-${direction}-image`);
}

/**
 * Runs one ITK-Wasm IO pipeline on bytes held in memory: the file lives in the module's own in-memory file system
 * (named with the format's extension, as ITK chooses its reader by extension and NRRD's refuses other names), so
 * nothing touches the disk and a body's content decides, not the name it came with. Each call instantiates a fresh
 * module, so the copy is freed with it.
 */
async function runItkPipeline(
  format: ImageFormat,
  direction: 'read' | 'write',
  args: string[],
  outputs: unknown[],
  inputs: unknown[],
): Promise<unknown[]> {
  const { runPipelineNode } = await itkRuntime();
  const result = await runPipelineNode(
    pipelinePath(format, direction),
    [...args, '--memory-io'],
    outputs as never,
    inputs as never,
  );
  if (result.returnValue !== 0)
    throw new Error(result.stderr || `ITK ${direction} pipeline returned ${result.returnValue}`);
  return (result.outputs ?? []).map((o) => o?.data);
}

/** Formats whose files place the image in the scanner; the raster formats only say how big a pixel is. */
const ORIENTED_FORMATS: ReadonlySet<ImageFormat> = new Set(['nrrd', 'metaimage', 'dicom']);

const VOXEL_ARRAYS = [
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
];

export interface ItkReadResult {
  volume: Volume;
  /** The DICOM tags (group|element -> value) and other key/value metadata the file carries. */
  metadata: ReadonlyMap<string, unknown>;
}

/** ITK's messages carry its C++ source paths; the first line that says what went wrong is enough. */
function itkReason(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('WARNING')) ?? 'unknown error'
  );
}

/** The in-memory name a pipeline sees: the format's own extension, whatever the bytes were called. */
function memoryName(format: ImageFormat, stem: string): string {
  return `/${stem}${FORMAT_EXTENSIONS[format][0]}`;
}

async function decodeWithItk(bytes: Uint8Array, format: ImageFormat): Promise<ItkImage> {
  const input = memoryName(format, 'input');
  const [couldRead, image] = await runItkPipeline(
    format,
    'read',
    [input, '0', '1'],
    [{ type: 'JsonCompatible' }, { type: 'Image' }],
    [{ type: 'BinaryFile', data: { path: input, data: bytes } }],
  );
  if (!couldRead || !image) throw new Error('the decoder gave up');
  return image as ItkImage;
}

function decodeFailure(name: string, format: ImageFormat, error: unknown): RwsegError {
  const reason = itkReason(error).replace(/Could not read: \S+/, 'the decoder gave up');
  return new RwsegError(
    'IO_ERROR',
    `${name}: not a readable ${FORMAT_NAMES[format]} file (${reason})`,
    { file: name, format },
    { cause: error },
  );
}

/** Decodes a single-file TIFF, JPEG, BMP, NRRD, MHA or DICOM held in memory; `name` is for messages. */
export async function decodeItkImage(
  bytes: Uint8Array,
  format: ImageFormat,
  name: string,
  color?: ColorPolicy,
): Promise<ItkReadResult> {
  let image: ItkImage;
  try {
    image = await decodeWithItk(bytes, format);
  } catch (error) {
    throw decodeFailure(name, format, error);
  }
  return itkToVolume(image, format, name, color);
}

/**
 * A header whose voxels are in another file (.mhd, .nhdr) is read from disk by ITK itself, which opens the data
 * file named in the header beside it.
 */
export async function readItkImage(file: string, format: ImageFormat, color?: ColorPolicy): Promise<ItkReadResult> {
  let image: ItkImage;
  try {
    const { readImageNode } = await itkIo();
    image = await readImageNode(path.resolve(file));
  } catch (error) {
    throw decodeFailure(file, format, error);
  }
  return itkToVolume(image, format, file, color);
}

function itkToVolume(image: ItkImage, format: ImageFormat, file: string, color?: ColorPolicy): ItkReadResult {
  const data = image.data as unknown;
  if (!VOXEL_ARRAYS.some((Ctor) => data instanceof Ctor)) {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: unsupported pixel component type ${image.imageType.componentType} (rwseg reads 8/16/32-bit ` +
        `integers and floats)`,
      { file, format },
    );
  }
  const voxels = data as VoxelArray;
  const rank = image.size.length;
  // A trailing axis of size 1 (one DICOM slice, a single-page stack) is kept: the series reader needs it.
  const shape = [...image.size].reverse();
  const spacing = [...image.spacing].reverse();
  const components = image.imageType.components;
  const expected = image.size.reduce((a, b) => a * b, 1) * components;
  if (voxels.length !== expected) {
    throw new RwsegError(
      'IO_ERROR',
      `${file}: truncated pixel data (${voxels.length} samples for size ${image.size.join('x')} x ${components})`,
      { file, format },
    );
  }
  const pixelType = String(image.imageType.pixelType);
  const isColor = pixelType === 'RGB' || pixelType === 'RGBA';
  let volume: Volume;
  if (isColor) {
    volume = colorSamplesToVolume(voxels, shape, components, spacing, file, color);
  } else if (components > 1) {
    volume = { data: voxels, shape: [...shape, components], spacing, channels: components };
  } else {
    volume = { data: voxels, shape, spacing };
  }
  if (ORIENTED_FORMATS.has(format)) {
    const n = rank;
    const direction: number[][] = [];
    for (let a = 0; a < n; a++) {
      const column = n - 1 - a;
      direction.push(Array.from({ length: n }, (_, row) => Number(image.direction[row * n + column])));
    }
    const orientation: VolumeOrientation = { origin: [...image.origin], direction };
    volume = { ...volume, orientation };
  }
  return { volume, metadata: image.metadata as ReadonlyMap<string, unknown> };
}

const COMPONENT_TYPES = new Map<Function, string>([
  [Uint8Array, 'uint8'],
  [Int8Array, 'int8'],
  [Uint16Array, 'uint16'],
  [Int16Array, 'int16'],
  [Uint32Array, 'uint32'],
  [Int32Array, 'int32'],
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
]);

/** Writes NRRD, MetaImage (MHA) or TIFF through ITK; the format follows the file's extension. */
/** Encodes NRRD, MetaImage (MHA) or TIFF through ITK, in memory; `file` names the target in messages. */
export async function encodeItkImage(volume: Volume, format: ImageFormat, file: string): Promise<Uint8Array> {
  const { spatialShape, channels } = assertVolumeConsistent(volume, file);
  const n = spatialShape.length;
  if (format === 'tiff' && (n < 2 || n > 3)) {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: TIFF holds a 2D image or a 3D stack; got shape [${volume.shape.join(', ')}]`,
      { file },
    );
  }
  const size = [...spatialShape].reverse();
  const direction = new Float64Array(n * n);
  const orientation =
    volume.orientation && volume.orientation.direction.length === n && format !== 'tiff'
      ? volume.orientation
      : undefined;
  for (let a = 0; a < n; a++) {
    const column = n - 1 - a;
    for (let row = 0; row < n; row++)
      direction[row * n + column] = orientation ? (orientation.direction[a]![row] ?? 0) : row === column ? 1 : 0;
  }
  const image = {
    imageType: {
      dimension: n,
      componentType: COMPONENT_TYPES.get(volume.data.constructor) ?? 'float32',
      pixelType: channels > 1 ? (channels === 3 && format === 'tiff' ? 'RGB' : 'VariableLengthVector') : 'Scalar',
      components: channels,
    },
    name: 'image',
    origin: orientation ? [...orientation.origin].slice(0, n) : new Array<number>(n).fill(0),
    spacing: [...volume.spacing].reverse(),
    direction,
    size,
    metadata: new Map(),
    data: volume.data,
  } as unknown as ItkImage;
  const output = memoryName(format, 'output');
  try {
    const args = ['0', '0', output, ...(format !== 'tiff' ? ['--use-compression'] : [])];
    const [couldWrite, written] = await runItkPipeline(
      format,
      'write',
      args,
      [{ type: 'JsonCompatible' }, { type: 'BinaryFile', data: { path: output, data: new Uint8Array() } }],
      [{ type: 'Image', data: image }],
    );
    const data = (written as { data?: Uint8Array } | undefined)?.data;
    if (!couldWrite || !data) throw new Error('the encoder gave up');
    // A stack's slice spacing, which ITK's TIFF writer drops, as ImageJ writes it.
    return format === 'tiff' && n === 3 ? withImageJCalibration(data, volume.spacing, spatialShape[0]!) : data;
  } catch (error) {
    throw new RwsegError(
      'IO_ERROR',
      `cannot write ${file} as ${FORMAT_NAMES[format]} (${itkReason(error)})`,
      { file, format },
      { cause: error },
    );
  }
}
