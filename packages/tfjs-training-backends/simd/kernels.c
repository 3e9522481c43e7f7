/*
 * rwseg's WebAssembly SIMD kernels for the memory-bound ops of a training step on the tfjs wasm backend.
 *
 * The module imports tfjs-backend-wasm's own linear memory, so every pointer below is an address in the tfjs
 * heap (a tensor's memoryOffset) and no data is copied in or out. For that reason the module must own no memory:
 * no globals, no static data, no address-taken locals (clang then needs no linear-memory stack). The build
 * script checks that the binary has no data segments and never touches a stack pointer.
 *
 * Layouts: "rows x C" is a channels-last tensor [N, H, W, C] viewed as [N*H*W, C]; counts are in elements.
 * Build: packages/core/simd/build.sh (clang + wasm-ld, -msimd128).
 */
#include "simd-common.h"

/* Rows added in float32 before each flush into the float64 totals: keeps the float32 partial sums short. */
#define SUM_BLOCK 64

/*
 * totals[c] = sum over rows of x[r, c], for x viewed as rows x C. `partial` is float32 scratch of C elements,
 * `totals` float64 of C elements (8-byte aligned); both are overwritten.
 */
EXPORT(sum_rows)
void sum_rows(const float *x, u32 rows, u32 C, float *partial, double *totals) {
  for (u32 c = 0; c < C; c++) totals[c] = 0;
  if (C == 1 || C == 2 || C == 4) {
    /* Lane l of a vector starting at a multiple of 4 always holds channel l % C: add the tensor as flat vectors. */
    const u32 n = rows * C;
    u32 i = 0;
    while (i + 4 <= n) {
      const u32 end = (n - i) / 4 > SUM_BLOCK * 4 ? i + SUM_BLOCK * 16 : i + ((n - i) & ~3u);
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i + 16 <= end; i += 16) {
        a0 = wasm_f32x4_add(a0, wasm_v128_load(x + i));
        a1 = wasm_f32x4_add(a1, wasm_v128_load(x + i + 4));
        a2 = wasm_f32x4_add(a2, wasm_v128_load(x + i + 8));
        a3 = wasm_f32x4_add(a3, wasm_v128_load(x + i + 12));
      }
      for (; i + 4 <= end; i += 4) a0 = wasm_f32x4_add(a0, wasm_v128_load(x + i));
      const v128_t s = wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3));
      totals[0 % C] += wasm_f32x4_extract_lane(s, 0);
      totals[1 % C] += wasm_f32x4_extract_lane(s, 1);
      totals[2 % C] += wasm_f32x4_extract_lane(s, 2);
      totals[3 % C] += wasm_f32x4_extract_lane(s, 3);
    }
    for (; i < n; i++) totals[i % C] += x[i];
    return;
  }
  for (u32 r0 = 0; r0 < rows; r0 += SUM_BLOCK) {
    const u32 r1 = rows - r0 < SUM_BLOCK ? rows : r0 + SUM_BLOCK;
    if ((C & 3) == 0) {
      /* 16 channels at a time in registers down the block's rows (no partial store per row), then 4. */
      u32 c = 0;
      for (; c + 16 <= C; c += 16) {
        v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (u32 r = r0; r < r1; r++) {
          const float *row = x + (unsigned long)r * C + c;
          a0 = wasm_f32x4_add(a0, wasm_v128_load(row));
          a1 = wasm_f32x4_add(a1, wasm_v128_load(row + 4));
          a2 = wasm_f32x4_add(a2, wasm_v128_load(row + 8));
          a3 = wasm_f32x4_add(a3, wasm_v128_load(row + 12));
        }
        wasm_v128_store(partial + c, a0);
        wasm_v128_store(partial + c + 4, a1);
        wasm_v128_store(partial + c + 8, a2);
        wasm_v128_store(partial + c + 12, a3);
      }
      for (; c < C; c += 4) {
        v128_t a0 = wasm_f32x4_splat(0);
        for (u32 r = r0; r < r1; r++) a0 = wasm_f32x4_add(a0, wasm_v128_load(x + (unsigned long)r * C + c));
        wasm_v128_store(partial + c, a0);
      }
      for (c = 0; c < C; c++) totals[c] += partial[c];
      continue;
    }
    for (u32 c = 0; c < C; c++) partial[c] = 0;
    for (u32 r = r0; r < r1; r++) {
      const float *row = x + (unsigned long)r * C;
      u32 c = 0;
      for (; c + 4 <= C; c += 4) wasm_v128_store(partial + c, wasm_f32x4_add(wasm_v128_load(partial + c), wasm_v128_load(row + c)));
      for (; c < C; c++) partial[c] += row[c];
    }
    for (u32 c = 0; c < C; c++) totals[c] += partial[c];
  }
}

/* y = x < 0 ? alpha * x : x (the cpu backend's definition, NaN passes through). */
EXPORT(leaky_relu)
void leaky_relu(const float *x, float *y, u32 n, float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha), zero = wasm_f32x4_splat(0);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    wasm_v128_store(y + i, wasm_v128_bitselect(wasm_f32x4_mul(v, va), v, wasm_f32x4_lt(v, zero)));
  }
  for (; i < n; i++) y[i] = x[i] < 0 ? alpha * x[i] : x[i];
}

/* out = x > s as bytes 0/1 (tfjs's bool layout). */
EXPORT(greater_scalar)
void greater_scalar(const float *x, float s, u8 *out, u32 n) {
  const v128_t vs = wasm_f32x4_splat(s), one = wasm_i8x16_splat(1);
  u32 i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t m0 = wasm_f32x4_gt(wasm_v128_load(x + i), vs), m1 = wasm_f32x4_gt(wasm_v128_load(x + i + 4), vs);
    const v128_t m2 = wasm_f32x4_gt(wasm_v128_load(x + i + 8), vs), m3 = wasm_f32x4_gt(wasm_v128_load(x + i + 12), vs);
    const v128_t bytes = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(m0, m1), wasm_i16x8_narrow_i32x4(m2, m3));
    wasm_v128_store(out + i, wasm_v128_and(bytes, one));
  }
  for (; i < n; i++) out[i] = x[i] > s ? 1 : 0;
}

/* out = cond ? a : b, cond as bytes. */
EXPORT(select_f32)
void select_f32(const u8 *cond, const float *a, const float *b, float *out, u32 n) {
  const v128_t zero = wasm_i32x4_splat(0);
  u32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t m = wasm_i32x4_ne(wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(cond + i))), zero);
    wasm_v128_store(out + i, wasm_v128_bitselect(wasm_v128_load(a + i), wasm_v128_load(b + i), m));
  }
  for (; i < n; i++) out[i] = cond[i] ? a[i] : b[i];
}

enum { OP_MUL = 0, OP_ADD = 1, OP_SUB = 2, OP_DIV = 3 };

static inline v128_t apply_op(u32 op, v128_t a, v128_t b) {
  switch (op) {
    case OP_MUL: return wasm_f32x4_mul(a, b);
    case OP_ADD: return wasm_f32x4_add(a, b);
    case OP_SUB: return wasm_f32x4_sub(a, b);
    default: return wasm_f32x4_div(a, b);
  }
}

static inline float apply_op1(u32 op, float a, float b) {
  switch (op) {
    case OP_MUL: return a * b;
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    default: return a / b;
  }
}

/*
 * Elementwise op between x (rows x C) and a per-channel vector v (C): out = x op v, or v op x when v_first.
 * With rows = 1 and C = n it is the same-shape elementwise op.
 */
EXPORT(channel_binary)
void channel_binary(const float *x, const float *v, float *out, u32 rows, u32 C, u32 op, u32 v_first) {
  for (u32 r = 0; r < rows; r++) {
    const float *xr = x + (unsigned long)r * C;
    float *or = out + (unsigned long)r * C;
    u32 c = 0;
    if (v_first) {
      for (; c + 4 <= C; c += 4) wasm_v128_store(or + c, apply_op(op, wasm_v128_load(v + c), wasm_v128_load(xr + c)));
      for (; c < C; c++) or[c] = apply_op1(op, v[c], xr[c]);
    } else {
      for (; c + 4 <= C; c += 4) wasm_v128_store(or + c, apply_op(op, wasm_v128_load(xr + c), wasm_v128_load(v + c)));
      for (; c < C; c++) or[c] = apply_op1(op, xr[c], v[c]);
    }
  }
}

/* Batch-norm inference form per channel: out = (x - mean[c]) * factor[c] + offset[c]. */
EXPORT(channel_affine)
void channel_affine(const float *x, const float *mean, const float *factor, const float *offset, float *out, u32 rows, u32 C) {
  for (u32 r = 0; r < rows; r++) {
    const float *xr = x + (unsigned long)r * C;
    float *or = out + (unsigned long)r * C;
    u32 c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t centered = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      wasm_v128_store(or + c, wasm_f32x4_add(wasm_f32x4_mul(centered, wasm_v128_load(factor + c)), wasm_v128_load(offset + c)));
    }
    for (; c < C; c++) or[c] = (xr[c] - mean[c]) * factor[c] + offset[c];
  }
}

/* Copies `width` floats from each of `rows` rows: dst[r*dst_stride + i] = src[r*src_stride + i] (concat/split). */
EXPORT(copy_rows)
void copy_rows(const float *src, u32 src_stride, float *dst, u32 dst_stride, u32 rows, u32 width) {
  for (u32 r = 0; r < rows; r++) {
    const float *s = src + (unsigned long)r * src_stride;
    float *d = dst + (unsigned long)r * dst_stride;
    u32 i = 0;
    for (; i + 4 <= width; i += 4) wasm_v128_store(d + i, wasm_v128_load(s + i));
    for (; i < width; i++) d[i] = s[i];
  }
}

/*
 * Filter gradient of a 2D convolution with strides sh, sw (dilation 1):
 *   dw[a, b, c, o] = sum over n, i < ho, j < wo of xp[n, i*sh + a, j*sw + b, c] * dy[n, i, j, o]
 * with xp the zero-padded input [n, hp, wp, ci] (hp >= (ho-1)*sh + kh, wp >= (wo-1)*sw + kw), dy [n, ho, wo, co] and
 * dw [kh, kw, ci, co] (overwritten). co must be a multiple of 4.
 * The (n, i) output rows are taken `chunk_rows` at a time so that their x and dy stay in cache while every
 * (tap, 4 input channels, 8 output channels) block of dw is accumulated over them in SIMD registers; each chunk's
 * block sum is then added into dw (shorter float32 sums than one running total over all pixels).
 */
#define FG_ACCUMULATE(NC, NV)                                                                     \
  for (u32 r = r0; r < r1; r++) {                                                                 \
    const u32 img = r / ho, i = r - img * ho;                                                     \
    const float *xr = xp + ((unsigned long)(img * hp + i * sh + a) * wp + b) * ci + c0;           \
    const float *dr = dy + (unsigned long)r * wo * co + o0;                                       \
    for (u32 j = 0; j < wo; j++, xr += xstep, dr += co) {                                         \
      const v128_t d0 = wasm_v128_load(dr);                                                       \
      const v128_t d1 = NV > 1 ? wasm_v128_load(dr + 4) : d0;                                     \
      const v128_t x0 = wasm_v128_load32_splat(xr);                                               \
      s00 = MADD(s00, x0, d0);                                          \
      if (NV > 1) s01 = MADD(s01, x0, d1);                              \
      if (NC > 1) {                                                                               \
        const v128_t x1 = wasm_v128_load32_splat(xr + 1), x2 = wasm_v128_load32_splat(xr + 2);    \
        const v128_t x3 = wasm_v128_load32_splat(xr + 3);                                         \
        s10 = MADD(s10, x1, d0);                                        \
        s20 = MADD(s20, x2, d0);                                        \
        s30 = MADD(s30, x3, d0);                                        \
        if (NV > 1) {                                                                             \
          s11 = MADD(s11, x1, d1);                                      \
          s21 = MADD(s21, x2, d1);                                      \
          s31 = MADD(s31, x3, d1);                                      \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
  }

#define FG_FLUSH(ROW, S0, S1, NV)                                                                 \
  {                                                                                               \
    float *w = dw + ((unsigned long)(a * kw + b) * ci + c0 + ROW) * co + o0;                      \
    wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), S0));                                    \
    if (NV > 1) wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), S1));                \
  }

#define FG_BLOCK(NC, NV)                                                                          \
  {                                                                                               \
    const v128_t z = wasm_f32x4_splat(0);                                                         \
    v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;                \
    FG_ACCUMULATE(NC, NV)                                                                         \
    FG_FLUSH(0, s00, s01, NV)                                                                     \
    if (NC > 1) { FG_FLUSH(1, s10, s11, NV) FG_FLUSH(2, s20, s21, NV) FG_FLUSH(3, s30, s31, NV) } \
  }

EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const float *xp, const float *dy, float *dw, u32 n, u32 hp, u32 wp, u32 ci, u32 ho, u32 wo,
                        u32 co, u32 kh, u32 kw, u32 sh, u32 sw, u32 chunk_rows) {
  const u32 total = kh * kw * ci * co, xstep = sw * ci;
  for (u32 k = 0; k < total; k++) dw[k] = 0;
  const u32 rows = n * ho;
  for (u32 r0 = 0; r0 < rows; r0 += chunk_rows) {
    const u32 r1 = rows - r0 < chunk_rows ? rows : r0 + chunk_rows;
    for (u32 a = 0; a < kh; a++) {
      for (u32 b = 0; b < kw; b++) {
        u32 c0 = 0;
        for (; c0 + 4 <= ci; c0 += 4) {
          u32 o0 = 0;
          for (; o0 + 8 <= co; o0 += 8) FG_BLOCK(4, 2)
          if (o0 < co) FG_BLOCK(4, 1)
        }
        for (; c0 < ci; c0++) {
          u32 o0 = 0;
          for (; o0 + 8 <= co; o0 += 8) FG_BLOCK(1, 2)
          if (o0 < co) FG_BLOCK(1, 1)
        }
      }
    }
  }
}

/*
 * Stride-1, dilation-1 2D convolution on a zero-padded input (the U-Net's 3x3 "same" convolutions, and
 * Conv2DBackpropInput as the convolution of dy with the flipped kernel):
 *   out[n, i, j, o] = sum over a < kh, b < kw, c < ci of xp[n, i + a, j + b, c] * w[a, b, c, o]
 * xp [n, hp, wp, ci] with hp >= ho + kh - 1, wp >= wo + kw - 1; w [kh, kw, ci, co]; out [n, ho, wo, co]
 * (overwritten). co must be a multiple of 4. Blocks of 4 output pixels x 8 output channels live in registers.
 */
#define CV_BLOCK(NP, NV)                                                                          \
  {                                                                                               \
    const v128_t z = wasm_f32x4_splat(0);                                                         \
    v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;                \
    for (u32 a = 0; a < kh; a++) {                                                                \
      for (u32 b = 0; b < kw; b++) {                                                              \
        const float *xr = xp + ((unsigned long)(img * hp + i + a) * wp + j0 + b) * ci;            \
        const float *wr = w + (unsigned long)(a * kw + b) * ci * co + o0;                         \
        for (u32 c = 0; c < ci; c++, wr += co) {                                                  \
          const v128_t w0 = wasm_v128_load(wr);                                                   \
          const v128_t w1 = NV > 1 ? wasm_v128_load(wr + 4) : w0;                                 \
          const v128_t x0 = wasm_v128_load32_splat(xr + c);                                       \
          s00 = MADD(s00, x0, w0);                                      \
          if (NV > 1) s01 = MADD(s01, x0, w1);                          \
          if (NP > 1) {                                                                           \
            const v128_t x1 = wasm_v128_load32_splat(xr + ci + c);                                \
            const v128_t x2 = wasm_v128_load32_splat(xr + 2 * ci + c);                            \
            const v128_t x3 = wasm_v128_load32_splat(xr + 3 * ci + c);                            \
            s10 = MADD(s10, x1, w0);                                    \
            s20 = MADD(s20, x2, w0);                                    \
            s30 = MADD(s30, x3, w0);                                    \
            if (NV > 1) {                                                                         \
              s11 = MADD(s11, x1, w1);                                  \
              s21 = MADD(s21, x2, w1);                                  \
              s31 = MADD(s31, x3, w1);                                  \
            }                                                                                     \
          }                                                                                       \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    float *o = out + ((unsigned long)(img * ho + i) * wo + j0) * co + o0;                         \
    wasm_v128_store(o, s00);                                                                      \
    if (NV > 1) wasm_v128_store(o + 4, s01);                                                      \
    if (NP > 1) {                                                                                 \
      wasm_v128_store(o + co, s10);                                                               \
      wasm_v128_store(o + 2 * co, s20);                                                           \
      wasm_v128_store(o + 3 * co, s30);                                                           \
      if (NV > 1) {                                                                               \
        wasm_v128_store(o + co + 4, s11);                                                         \
        wasm_v128_store(o + 2 * co + 4, s21);                                                     \
        wasm_v128_store(o + 3 * co + 4, s31);                                                     \
      }                                                                                           \
    }                                                                                             \
  }

EXPORT(conv2d_s1)
void conv2d_s1(const float *xp, const float *w, float *out, u32 n, u32 hp, u32 wp, u32 ci, u32 ho, u32 wo, u32 co,
               u32 kh, u32 kw) {
  for (u32 img = 0; img < n; img++) {
    for (u32 i = 0; i < ho; i++) {
      u32 o0 = 0;
      for (; o0 + 8 <= co; o0 += 8) {
        u32 j0 = 0;
        for (; j0 + 4 <= wo; j0 += 4) CV_BLOCK(4, 2)
        for (; j0 < wo; j0++) CV_BLOCK(1, 2)
      }
      if (o0 < co) {
        u32 j0 = 0;
        for (; j0 + 4 <= wo; j0 += 4) CV_BLOCK(4, 1)
        for (; j0 < wo; j0++) CV_BLOCK(1, 1)
      }
    }
  }
}

/*
 * MaxPoolGrad for 2x2 windows with stride 2 and no padding: dx gets dy at each window's first maximum (row-major;
 * a NaN first element stays the maximum, as in the cpu backend), zero elsewhere. x, dx [n, h, w, c]; dy [n, ho, wo, c]
 * with 2*ho <= h, 2*wo <= w; rows and columns past the last window get zeros.
 */
EXPORT(max_pool_grad_2x2)
void max_pool_grad_2x2(const float *x, const float *dy, float *dx, u32 n, u32 h, u32 w, u32 c, u32 ho, u32 wo) {
  if (2 * ho != h || 2 * wo != w) {
    const unsigned long total = (unsigned long)n * h * w * c;
    for (unsigned long k = 0; k < total; k++) dx[k] = 0;
  }
  const u32 row = w * c;
  const v128_t zero = wasm_f32x4_splat(0);
  for (u32 img = 0; img < n; img++) {
    for (u32 i = 0; i < ho; i++) {
      for (u32 j = 0; j < wo; j++) {
        const unsigned long p00 = ((unsigned long)(img * h + 2 * i) * w + 2 * j) * c;
        const unsigned long p01 = p00 + c, p10 = p00 + row, p11 = p10 + c;
        const float *g = dy + ((unsigned long)(img * ho + i) * wo + j) * c;
        u32 k = 0;
        for (; k + 4 <= c; k += 4) {
          const v128_t a = wasm_v128_load(x + p00 + k), b = wasm_v128_load(x + p01 + k);
          const v128_t cc = wasm_v128_load(x + p10 + k), d = wasm_v128_load(x + p11 + k);
          /* Lane masks of the winning position: a later element wins only if strictly greater. */
          const v128_t bWins = wasm_f32x4_gt(b, a);
          const v128_t m1 = wasm_v128_bitselect(b, a, bWins);
          const v128_t cWins = wasm_f32x4_gt(cc, m1);
          const v128_t m2 = wasm_v128_bitselect(cc, m1, cWins);
          const v128_t dWins = wasm_f32x4_gt(d, m2);
          const v128_t cFinal = wasm_v128_andnot(cWins, dWins);
          const v128_t bFinal = wasm_v128_andnot(wasm_v128_andnot(bWins, cWins), dWins);
          const v128_t aFinal = wasm_v128_not(wasm_v128_or(wasm_v128_or(bWins, cWins), dWins));
          const v128_t gv = wasm_v128_load(g + k);
          wasm_v128_store(dx + p00 + k, wasm_v128_bitselect(gv, zero, aFinal));
          wasm_v128_store(dx + p01 + k, wasm_v128_bitselect(gv, zero, bFinal));
          wasm_v128_store(dx + p10 + k, wasm_v128_bitselect(gv, zero, cFinal));
          wasm_v128_store(dx + p11 + k, wasm_v128_bitselect(gv, zero, dWins));
        }
        for (; k < c; k++) {
          const float va = x[p00 + k], vb = x[p01 + k], vc = x[p10 + k], vd = x[p11 + k];
          u32 best = 0;
          float m = va;
          if (vb > m) { m = vb; best = 1; }
          if (vc > m) { m = vc; best = 2; }
          if (vd > m) { best = 3; }
          dx[p00 + k] = best == 0 ? g[k] : 0;
          dx[p01 + k] = best == 1 ? g[k] : 0;
          dx[p10 + k] = best == 2 ? g[k] : 0;
          dx[p11 + k] = best == 3 ? g[k] : 0;
        }
      }
    }
  }
}
