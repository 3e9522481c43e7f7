/**
 * The U-Net's configuration and its size rules, without TF.js: what a pipeline's schema validates (and the model
 * artifact's reader, through it) before anything is built. unet.ts builds the layers from it.
 */
import { z } from 'zod';
import { RwsegError } from '../errors.js';

export const unetConfigSchema = z
  .object({
    /** 2 or 3 spatial dimensions. */
    dims: z.union([z.literal(2), z.literal(3)]).default(2),
    /** Number of resolution levels, bottleneck included (depth 4 = three poolings). */
    depth: z.number().int().min(1).max(8).default(4),
    /** Filters at the top level; doubled at each level down, capped at maxFilters. */
    baseFilters: z.number().int().positive().default(16),
    maxFilters: z.number().int().positive().default(320),
    inputChannels: z.number().int().positive().default(1),
    numClasses: z.number().int().min(2).default(2),
    normalization: z.enum(['batch', 'instance', 'none']).default('instance'),
    activation: z.enum(['relu', 'leaky-relu']).default('leaky-relu'),
    upsampling: z.enum(['transposed', 'resize']).default('transposed'),
    /** Number of softmax heads: 1 = no deep supervision; n > 1 adds heads at the n - 1 coarser decoder scales. */
    deepSupervision: z.number().int().min(1).default(1),
    /** Seed of the weight initializers (He normal for convolutions). */
    seed: z.number().int().default(0),
  })
  .strict();

export type UNetConfig = z.output<typeof unetConfigSchema>;
export type UNetConfigInput = z.input<typeof unetConfigSchema>;

/** nnU-Net's LeakyReLU slope. */
export const LEAKY_RELU_SLOPE = 0.01;

/** Filters at level l (0 = top). */
export function filtersAtLevel(config: Pick<UNetConfig, 'baseFilters' | 'maxFilters'>, level: number): number {
  return Math.min(config.baseFilters * 2 ** level, config.maxFilters);
}

/** The size grid of a depth-`depth` U-Net: every patch axis must be a positive multiple of 2^(depth-1). */
export function patchGrid(depth: number): number {
  return 2 ** (depth - 1);
}

/** The valid size nearest to `size` on the grid (at least one grid step; a tie goes up, to keep the context). */
export function nearestValidSize(size: number, depth: number): number {
  const grid = patchGrid(depth);
  return Math.max(grid, Math.round(size / grid) * grid);
}

/** The valid patch nearest to `patch`, axis by axis (what the errors suggest). */
export function nearestValidPatch(patch: readonly number[], depth: number): number[] {
  return patch.map((size) => nearestValidSize(size, depth));
}

/**
 * Checks that each axis of the patch survives depth - 1 halvings exactly; names the axis, the sizes either side,
 * and the nearest valid patch, so the user can copy it.
 */
export function checkPatchShape(patch: readonly number[], depth: number, dims: number): void {
  if (patch.length !== dims) {
    throw new RwsegError(
      'INVALID_CONFIG',
      `patch size [${patch.join(', ')}] has ${patch.length} axes but the model is ${dims}D`,
      { patch, dims },
    );
  }
  const factor = patchGrid(depth);
  const axis = patch.findIndex((size) => !Number.isInteger(size) || size < factor || size % factor !== 0);
  if (axis < 0) return;
  const size = patch[axis]!;
  const lower = Math.max(factor, Math.floor(size / factor) * factor);
  const upper = Math.ceil(Math.max(size, 1) / factor) * factor;
  const nearest = nearestValidPatch(patch, depth);
  throw new RwsegError(
    'INVALID_CONFIG',
    `patch size ${size} on axis ${axis} of patch [${patch.join(', ')}] is not a multiple of ${factor} ` +
      `(2^(depth-1) for depth ${depth}); use ${lower === upper ? upper : `${lower} or ${upper}`}: ` +
      `the nearest valid patch is [${nearest.join(', ')}], or use a smaller depth`,
    { patch, depth, axis, nearest },
  );
}
