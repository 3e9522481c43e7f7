/*
 * Shared by rwseg's SIMD kernel sources (kernels.c, kernels3d.c), linked into one module: types, the export
 * attribute and the multiply-add of the convolution kernels.
 */
#ifndef RWSEG_SIMD_COMMON_H
#define RWSEG_SIMD_COMMON_H
#include <wasm_simd128.h>

typedef unsigned int u32;
typedef unsigned char u8;

#define EXPORT(name) __attribute__((export_name(#name)))

/*
 * acc + a * b for the convolution kernels. The RWSEG_FMA build uses relaxed SIMD's fused multiply-add. clang 14
 * knows it only as the pre-standard f32x4.fma (opcode 0xfd 0xaf 0x01, computing x + y * z), which V8 rejects;
 * build.sh rewrites each one to the standard f32x4.relaxed_madd (0xfd 0x85 0x02, computing x * y + z), which is
 * why the operands are passed as (a, b, acc).
 */
#ifdef RWSEG_FMA
#define MADD(acc, a, b) __builtin_wasm_fma_f32x4((a), (b), (acc))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

#endif
