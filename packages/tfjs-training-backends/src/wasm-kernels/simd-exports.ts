/**
 * The functions rwseg's WebAssembly SIMD module exports (simd/kernels.c, kernels3d.c, winograd3d.c: each marked
 * EXPORT(name)), declared once, with their parameter names. simd.ts checks every instantiated module against this
 * table, so a build that lacks an export, or whose export takes another number of parameters, fails at load with
 * the export named rather than as a wrong result inside a kernel; `SimdKernels`, the type the kernels call
 * through, is derived from it. Pointers are byte addresses in the tfjs heap, counts are in elements.
 */
export const SIMD_EXPORTS = {
  // simd/kernels.c
  sum_rows: ['x', 'rows', 'channels', 'partial', 'totals'],
  leaky_relu: ['x', 'y', 'n', 'alpha'],
  greater_scalar: ['x', 's', 'out', 'n'],
  select_f32: ['cond', 'a', 'b', 'out', 'n'],
  channel_binary: ['x', 'v', 'out', 'rows', 'channels', 'op', 'vFirst'],
  channel_affine: ['x', 'mean', 'factor', 'offset', 'out', 'rows', 'channels'],
  copy_rows: ['src', 'srcStride', 'dst', 'dstStride', 'rows', 'width'],
  conv2d_s1: ['xp', 'w', 'out', 'n', 'hp', 'wp', 'ci', 'ho', 'wo', 'co', 'kh', 'kw'],
  max_pool_grad_2x2: ['x', 'dy', 'dx', 'n', 'h', 'w', 'c', 'ho', 'wo'],
  conv2d_filter_grad: ['xp', 'dy', 'dw', 'n', 'hp', 'wp', 'ci', 'ho', 'wo', 'co', 'kh', 'kw', 'sh', 'sw', 'chunkRows'],
  // simd/kernels3d.c
  conv3d_s1: ['xp', 'w', 'out', 'n', 'dp', 'hp', 'wp', 'ci', 'od', 'oh', 'ow', 'co', 'kd', 'kh', 'kw', 'chunk'],
  conv3d_filter_grad: [
    'xp',
    'dy',
    'dw',
    'n',
    'dp',
    'hp',
    'wp',
    'ci',
    'od',
    'oh',
    'ow',
    'co',
    'kd',
    'kh',
    'kw',
    'sd',
    'sh',
    'sw',
    'chunkRows',
  ],
  blocks3d: ['x', 'blocks', 'n', 'd', 'h', 'w', 'c', 'bd', 'bh', 'bw', 'toBlocks'],
  pad3d: ['x', 'xp', 'n', 'd', 'h', 'w', 'c', 'front', 'back', 'top', 'bottom', 'left', 'right'],
  max_pool3d_2x2x2: ['x', 'y', 'n', 'd', 'h', 'w', 'c'],
  max_pool3d_grad_2x2x2: ['x', 'dy', 'dx', 'n', 'd', 'h', 'w', 'c'],
  // simd/winograd3d.c: Winograd F(2x2x2, 3x3x3) ...
  winograd3d_filter: ['w', 'u', 'ci', 'co'],
  winograd3d_conv: ['xp', 'u', 'out', 'scratch', 'n', 'dp', 'hp', 'wp', 'ci', 'od', 'oh', 'ow', 'co', 'block'],
  winograd3d_filter_grad: ['xp', 'dy', 'dw', 'scratch', 'n', 'dp', 'hp', 'wp', 'ci', 'od', 'oh', 'ow', 'co', 'block'],
  // ... and F(2x4x4, 3x3x3)
  winograd3d_filter_244: ['w', 'u', 'ci', 'co'],
  winograd3d_conv_244: ['xp', 'u', 'out', 'scratch', 'n', 'dp', 'hp', 'wp', 'ci', 'od', 'oh', 'ow', 'co', 'block'],
  winograd3d_filter_grad_244: [
    'xp',
    'dy',
    'dw',
    'scratch',
    'n',
    'dp',
    'hp',
    'wp',
    'ci',
    'od',
    'oh',
    'ow',
    'co',
    'block',
  ],
} as const satisfies Record<string, readonly string[]>;

export type SimdExportName = keyof typeof SIMD_EXPORTS;

/** One number per declared parameter (wasm i32 or f32: both are JS numbers). */
type Numbers<Params extends readonly string[]> = { [K in keyof Params]: number };

/** The module's exports as the kernels call them. */
export type SimdKernels = { [Name in SimdExportName]: (...args: Numbers<(typeof SIMD_EXPORTS)[Name]>) => void };
