/**
 * What a color raster (RGB or RGBA samples, interleaved, as every decoder hands them back) becomes in a Volume.
 *
 * - gray saved as color (R = G = B everywhere) becomes one channel, whatever the policy: label masks often are;
 * - 'channels' (the default): three channels-last input channels, as the U-Net, export and server take them;
 * - 'reject': an error naming the first colored pixel (labels: a color label image would invent classes);
 * - 'luminance': Rec. 601 luma, rounded, one channel.
 * Alpha is dropped: it is display transparency, not signal.
 */
import { RwsegError } from '../errors.js';
import type { Volume, VoxelArray } from '../volume.js';

export type ColorPolicy = 'channels' | 'reject' | 'luminance';

export function colorSamplesToVolume(
  samples: VoxelArray,
  spatialShape: readonly number[],
  samplesPerPixel: number,
  spacing: readonly number[],
  file: string,
  policy: ColorPolicy = 'channels',
): Volume {
  const n = spatialShape.reduce((a, b) => a * b, 1);
  const Ctor = samples.constructor as new (length: number) => VoxelArray;
  const colorSamples = Math.min(samplesPerPixel, 3);
  if (samplesPerPixel === 1 || samplesPerPixel === 2) {
    // Gray, or gray + alpha.
    if (samplesPerPixel === 1) return { data: samples, shape: [...spatialShape], spacing: [...spacing] };
    const gray = new Ctor(n);
    for (let i = 0; i < n; i++) gray[i] = samples[i * 2]!;
    return { data: gray, shape: [...spatialShape], spacing: [...spacing] };
  }
  let colored = -1;
  for (let i = 0, p = 0; i < n; i++, p += samplesPerPixel) {
    if (samples[p] !== samples[p + 1] || samples[p + 1] !== samples[p + 2]) {
      colored = i;
      break;
    }
  }
  if (colored < 0) {
    const gray = new Ctor(n);
    for (let i = 0; i < n; i++) gray[i] = samples[i * samplesPerPixel]!;
    return { data: gray, shape: [...spatialShape], spacing: [...spacing] };
  }
  if (policy === 'reject') {
    const width = spatialShape[spatialShape.length - 1]!;
    const x = colored % width,
      y = Math.floor(colored / width) % (spatialShape[spatialShape.length - 2] ?? 1);
    throw new RwsegError(
      'INVALID_INPUT',
      `${file}: color image (pixel x=${x}, y=${y} has different R, G, B) where one channel is needed (a label image ` +
        "must hold class values); convert it to grayscale, or read it with color: 'luminance'",
      { file, x, y },
    );
  }
  if (policy === 'luminance') {
    const gray = new Ctor(n);
    for (let i = 0, p = 0; i < n; i++, p += samplesPerPixel) {
      gray[i] = Math.round(0.299 * samples[p]! + 0.587 * samples[p + 1]! + 0.114 * samples[p + 2]!);
    }
    return { data: gray, shape: [...spatialShape], spacing: [...spacing] };
  }
  const data = new Ctor(n * colorSamples);
  for (let i = 0, p = 0, q = 0; i < n; i++, p += samplesPerPixel) {
    for (let c = 0; c < colorSamples; c++) data[q++] = samples[p + c]!;
  }
  return { data, shape: [...spatialShape, colorSamples], spacing: [...spacing], channels: colorSamples };
}
