/*
 * rwseg's WebAssembly SIMD kernels for 3D training on the tfjs wasm backend: the 3D convolution (forward, and the
 * input gradient as the convolution of dy with the flipped kernel), its filter gradient, the block rearrangement
 * behind 2x2x2 transposed-convolution up-sampling, and 2x2x2 max-pooling with its gradient.
 *
 * Same contract as kernels.c (linked into the same module): pointers are addresses in the tfjs heap, counts are
 * in elements, and the code owns no memory (no globals, no static data, no address-taken locals).
 * Layouts: channels-last, x [N, D, H, W, C]; filters [kd, kh, kw, Ci, Co] (DHWIO, TF.js's conv3d layout).
 */
#include "simd-common.h"

/*
 * Stride-1, dilation-1 3D convolution on a zero-padded input:
 *   out[n, d, i, j, o] = sum over a < kd, b < kh, e < kw, c < ci of xp[n, d + a, i + b, j + e, c] * w[a, b, e, c, o]
 * xp [n, dp, hp, wp, ci] with dp >= dout + kd - 1 (same for h, w); w [kd, kh, kw, ci, co]; out [n, dout, ho, wo, co]
 * (overwritten). co must be a multiple of 4. Blocks of 4 output voxels along W x 8 output channels live in
 * registers, as in conv2d_s1: each x value loaded is used for 8 outputs, each filter vector for 4.
 * The input channels are taken `chunk` at a time over the whole output (each later chunk adds into it), so that
 * the filter slice one block reads, kd*kh*kw*chunk*8 floats, stays in the L1 cache whatever ci is.
 */
#define CV3_BLOCK(NP, NV)                                                                         \
  {                                                                                               \
    const v128_t z = wasm_f32x4_splat(0);                                                         \
    float *o = out + (((unsigned long)(img * dout + d) * ho + i) * wo + j0) * co + o0;            \
    v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;                \
    if (c_begin > 0) {                                                                            \
      s00 = wasm_v128_load(o);                                                                    \
      if (NV > 1) s01 = wasm_v128_load(o + 4);                                                    \
      if (NP > 1) {                                                                               \
        s10 = wasm_v128_load(o + co); s20 = wasm_v128_load(o + 2 * co); s30 = wasm_v128_load(o + 3 * co); \
        if (NV > 1) {                                                                             \
          s11 = wasm_v128_load(o + co + 4); s21 = wasm_v128_load(o + 2 * co + 4);                 \
          s31 = wasm_v128_load(o + 3 * co + 4);                                                   \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    const float *wr = w + (unsigned long)c_begin * co + o0;                                       \
    for (u32 a = 0; a < kd; a++) {                                                                \
      for (u32 b = 0; b < kh; b++) {                                                              \
        for (u32 e = 0; e < kw; e++, wr += (unsigned long)(ci - c_count) * co) {                  \
          const float *xr = xp + (((unsigned long)(img * dp + d + a) * hp + i + b) * wp + j0 + e) * ci + c_begin; \
          for (u32 c = 0; c < c_count; c++, wr += co) {                                           \
            const v128_t w0 = wasm_v128_load(wr);                                                 \
            const v128_t w1 = NV > 1 ? wasm_v128_load(wr + 4) : w0;                               \
            const v128_t x0 = wasm_v128_load32_splat(xr + c);                                     \
            s00 = MADD(s00, x0, w0);                                                              \
            if (NV > 1) s01 = MADD(s01, x0, w1);                                                  \
            if (NP > 1) {                                                                         \
              const v128_t x1 = wasm_v128_load32_splat(xr + ci + c);                              \
              const v128_t x2 = wasm_v128_load32_splat(xr + 2 * ci + c);                          \
              const v128_t x3 = wasm_v128_load32_splat(xr + 3 * ci + c);                          \
              s10 = MADD(s10, x1, w0);                                                            \
              s20 = MADD(s20, x2, w0);                                                            \
              s30 = MADD(s30, x3, w0);                                                            \
              if (NV > 1) {                                                                       \
                s11 = MADD(s11, x1, w1);                                                          \
                s21 = MADD(s21, x2, w1);                                                          \
                s31 = MADD(s31, x3, w1);                                                          \
              }                                                                                   \
            }                                                                                     \
          }                                                                                       \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
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

EXPORT(conv3d_s1)
void conv3d_s1(const float *xp, const float *w, float *out, u32 n, u32 dp, u32 hp, u32 wp, u32 ci, u32 dout, u32 ho,
               u32 wo, u32 co, u32 kd, u32 kh, u32 kw, u32 chunk) {
  for (u32 c_begin = 0; c_begin < ci; c_begin += chunk) {
  const u32 c_count = ci - c_begin < chunk ? ci - c_begin : chunk;
  for (u32 img = 0; img < n; img++) {
    for (u32 d = 0; d < dout; d++) {
      for (u32 i = 0; i < ho; i++) {
        u32 o0 = 0;
        for (; o0 + 8 <= co; o0 += 8) {
          u32 j0 = 0;
          for (; j0 + 4 <= wo; j0 += 4) CV3_BLOCK(4, 2)
          for (; j0 < wo; j0++) CV3_BLOCK(1, 2)
        }
        if (o0 < co) {
          u32 j0 = 0;
          for (; j0 + 4 <= wo; j0 += 4) CV3_BLOCK(4, 1)
          for (; j0 < wo; j0++) CV3_BLOCK(1, 1)
        }
      }
    }
  }
  }
}

/*
 * Filter gradient of a 3D convolution with strides sd, sh, sw (dilation 1):
 *   dw[a, b, e, c, o] = sum over n, d < dout, i < ho, j < wo of
 *                         xp[n, d*sd + a, i*sh + b, j*sw + e, c] * dy[n, d, i, j, o]
 * xp the zero-padded input [n, dp, hp, wp, ci] (dp >= (dout-1)*sd + kd, same for h, w), dy [n, dout, ho, wo, co],
 * dw [kd, kh, kw, ci, co] (overwritten). co must be a multiple of 4.
 * The output rows (n, d, i) are taken `chunk_rows` at a time so their x and dy stay in cache while every
 * (tap, 4 input channels, 8 output channels) block of dw is accumulated over them in registers (conv2d_filter_grad's
 * scheme); each chunk's block sums are then added into dw.
 */
#define FG3_ACCUMULATE(NC, NV)                                                                    \
  /* (img, d, i) of row r advance with r: no division per row (rows are short at the coarse levels). */ \
  u32 img = r0_img, d = r0_d, i = r0_i;                                                           \
  for (u32 r = r0; r < r1; r++) {                                                                 \
    const float *xr = xp + (((unsigned long)(img * dp + d * sd + a) * hp + i * sh + b) * wp + e) * ci + c0; \
    const float *dr = dy + (unsigned long)r * wo * co + o0;                                       \
    if (++i == ho) { i = 0; if (++d == dout) { d = 0; img++; } }                                  \
    for (u32 j = 0; j < wo; j++, xr += xstep, dr += co) {                                         \
      const v128_t d0 = wasm_v128_load(dr);                                                       \
      const v128_t d1 = NV > 1 ? wasm_v128_load(dr + 4) : d0;                                     \
      const v128_t x0 = wasm_v128_load32_splat(xr);                                               \
      s00 = MADD(s00, x0, d0);                                                                    \
      if (NV > 1) s01 = MADD(s01, x0, d1);                                                        \
      if (NC > 1) {                                                                               \
        const v128_t x1 = wasm_v128_load32_splat(xr + 1), x2 = wasm_v128_load32_splat(xr + 2);    \
        const v128_t x3 = wasm_v128_load32_splat(xr + 3);                                         \
        s10 = MADD(s10, x1, d0);                                                                  \
        s20 = MADD(s20, x2, d0);                                                                  \
        s30 = MADD(s30, x3, d0);                                                                  \
        if (NV > 1) {                                                                             \
          s11 = MADD(s11, x1, d1);                                                                \
          s21 = MADD(s21, x2, d1);                                                                \
          s31 = MADD(s31, x3, d1);                                                                \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
  }

#define FG3_FLUSH(ROW, S0, S1, NV)                                                                \
  {                                                                                               \
    float *t = dw + ((unsigned long)((a * kh + b) * kw + e) * ci + c0 + ROW) * co + o0;           \
    wasm_v128_store(t, wasm_f32x4_add(wasm_v128_load(t), S0));                                    \
    if (NV > 1) wasm_v128_store(t + 4, wasm_f32x4_add(wasm_v128_load(t + 4), S1));                \
  }

#define FG3_BLOCK(NC, NV)                                                                         \
  {                                                                                               \
    const v128_t z = wasm_f32x4_splat(0);                                                         \
    v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;                \
    FG3_ACCUMULATE(NC, NV)                                                                        \
    FG3_FLUSH(0, s00, s01, NV)                                                                    \
    if (NC > 1) { FG3_FLUSH(1, s10, s11, NV) FG3_FLUSH(2, s20, s21, NV) FG3_FLUSH(3, s30, s31, NV) } \
  }

EXPORT(conv3d_filter_grad)
void conv3d_filter_grad(const float *xp, const float *dy, float *dw, u32 n, u32 dp, u32 hp, u32 wp, u32 ci, u32 dout,
                        u32 ho, u32 wo, u32 co, u32 kd, u32 kh, u32 kw, u32 sd, u32 sh, u32 sw, u32 chunk_rows) {
  const u32 total = kd * kh * kw * ci * co, xstep = sw * ci;
  for (u32 k = 0; k < total; k++) dw[k] = 0;
  const u32 rows = n * dout * ho;
  for (u32 r0 = 0; r0 < rows; r0 += chunk_rows) {
    const u32 r1 = rows - r0 < chunk_rows ? rows : r0 + chunk_rows;
    const u32 r0_img = r0 / (dout * ho), r0_rest = r0 - r0_img * dout * ho;
    const u32 r0_d = r0_rest / ho, r0_i = r0_rest - r0_d * ho;
    for (u32 a = 0; a < kd; a++) {
      for (u32 b = 0; b < kh; b++) {
        for (u32 e = 0; e < kw; e++) {
          u32 c0 = 0;
          for (; c0 + 4 <= ci; c0 += 4) {
            u32 o0 = 0;
            for (; o0 + 8 <= co; o0 += 8) FG3_BLOCK(4, 2)
            if (o0 < co) FG3_BLOCK(4, 1)
          }
          for (; c0 < ci; c0++) {
            u32 o0 = 0;
            for (; o0 + 8 <= co; o0 += 8) FG3_BLOCK(1, 2)
            if (o0 < co) FG3_BLOCK(1, 1)
          }
        }
      }
    }
  }
}

/*
 * Rearranges x [n, D, H, W, c] and its non-overlapping bd x bh x bw blocks
 * blocks [n, D/bd, H/bh, W/bw, bd*bh*bw*c] (block offsets (a, b, e) in row-major order, then the channel):
 * to_blocks = 1 writes blocks from x (a 3D space-to-depth), 0 writes x from blocks (depth-to-space). D, H, W are
 * multiples of the block sizes. With kernel == stride convolutions this turns them into one matrix product.
 */
EXPORT(blocks3d)
void blocks3d(float *x, float *blocks, u32 n, u32 D, u32 H, u32 W, u32 c, u32 bd, u32 bh, u32 bw, u32 to_blocks) {
  const u32 od = D / bd, oh = H / bh, ow = W / bw;
  float *blk = blocks;
  for (u32 img = 0; img < n; img++) {
    for (u32 p = 0; p < od; p++) {
      for (u32 q = 0; q < oh; q++) {
        for (u32 s = 0; s < ow; s++) {
          for (u32 a = 0; a < bd; a++) {
            for (u32 b = 0; b < bh; b++) {
              float *row = x + (((unsigned long)(img * D + p * bd + a) * H + q * bh + b) * W + s * bw) * c;
              /* bw consecutive voxels of one x row are bw*c contiguous floats, as in the block. */
              const u32 width = bw * c;
              u32 k = 0;
              if (to_blocks) {
                for (; k + 4 <= width; k += 4) wasm_v128_store(blk + k, wasm_v128_load(row + k));
                for (; k < width; k++) blk[k] = row[k];
              } else {
                for (; k + 4 <= width; k += 4) wasm_v128_store(row + k, wasm_v128_load(blk + k));
                for (; k < width; k++) row[k] = blk[k];
              }
              blk += width;
            }
          }
        }
      }
    }
  }
}

/*
 * Zero-pads x [n, D, H, W, c] into xp [n, D + d0 + d1, H + h0 + h1, W + w0 + w1, c] (xp overwritten).
 */
EXPORT(pad3d)
void pad3d(const float *x, float *xp, u32 n, u32 D, u32 H, u32 W, u32 c, u32 d0, u32 d1, u32 h0, u32 h1, u32 w0,
           u32 w1) {
  const u32 dp = D + d0 + d1, hp = H + h0 + h1, wp = W + w0 + w1;
  const unsigned long plane = (unsigned long)hp * wp * c, row = (unsigned long)wp * c, width = (unsigned long)W * c;
  const v128_t zero = wasm_f32x4_splat(0);
  for (u32 img = 0; img < n; img++) {
    for (u32 d = 0; d < dp; d++) {
      float *pd = xp + ((unsigned long)img * dp + d) * plane;
      const int inside_d = d >= d0 && d < d0 + D;
      for (u32 i = 0; i < hp; i++) {
        float *pr = pd + i * row;
        unsigned long k = 0;
        if (!inside_d || i < h0 || i >= h0 + H) {
          for (; k + 4 <= row; k += 4) wasm_v128_store(pr + k, zero);
          for (; k < row; k++) pr[k] = 0;
          continue;
        }
        const float *src = x + (((unsigned long)img * D + d - d0) * H + i - h0) * width;
        const unsigned long left = (unsigned long)w0 * c, right = (unsigned long)w1 * c;
        for (k = 0; k < left; k++) pr[k] = 0;
        float *dst = pr + left;
        for (k = 0; k + 4 <= width; k += 4) wasm_v128_store(dst + k, wasm_v128_load(src + k));
        for (; k < width; k++) dst[k] = src[k];
        for (k = 0; k < right; k++) dst[width + k] = 0;
      }
    }
  }
}

/* Offset of voxel t (0..7, (d, h, w) row-major) of a 2x2x2 window; computed, not tabled (no static data). */
#define WINDOW_OFFSET(t) (((t) >> 2) * sd + (((t) >> 1) & 1) * sh + ((t) & 1) * sw)

/*
 * 2x2x2 max-pooling with stride 2 and no padding: y [n, D/2, H/2, W/2, c] (floor) from x [n, D, H, W, c].
 * NaN propagates as in the cpu backend's max (a NaN anywhere in the window gives NaN): f32x4.max does that.
 */
EXPORT(max_pool3d_2x2x2)
void max_pool3d_2x2x2(const float *x, float *y, u32 n, u32 D, u32 H, u32 W, u32 c) {
  const u32 od = D / 2, oh = H / 2, ow = W / 2;
  const unsigned long sw = c, sh = (unsigned long)W * c, sd = (unsigned long)H * W * c;
  for (u32 img = 0; img < n; img++) {
    for (u32 p = 0; p < od; p++) {
      for (u32 q = 0; q < oh; q++) {
        for (u32 s = 0; s < ow; s++) {
          const float *b = x + (((unsigned long)(img * D + 2 * p) * H + 2 * q) * W + 2 * s) * c;
          float *o = y + (((unsigned long)(img * od + p) * oh + q) * ow + s) * c;
          u32 k = 0;
          for (; k + 4 <= c; k += 4) {
            v128_t m = wasm_f32x4_max(wasm_v128_load(b + k), wasm_v128_load(b + sw + k));
            m = wasm_f32x4_max(m, wasm_f32x4_max(wasm_v128_load(b + sh + k), wasm_v128_load(b + sh + sw + k)));
            m = wasm_f32x4_max(m, wasm_f32x4_max(wasm_v128_load(b + sd + k), wasm_v128_load(b + sd + sw + k)));
            const v128_t v6 = wasm_v128_load(b + sd + sh + k), v7 = wasm_v128_load(b + sd + sh + sw + k);
            m = wasm_f32x4_max(m, wasm_f32x4_max(v6, v7));
            wasm_v128_store(o + k, m);
          }
          for (; k < c; k++) {
            float m = b[k];
            for (u32 t = 1; t < 8; t++) {
              const float v = b[WINDOW_OFFSET(t) + k];
              m = (v > m || v != v) ? v : m;
            }
            o[k] = m;
          }
        }
      }
    }
  }
}

/*
 * MaxPool3DGrad for 2x2x2 windows with stride 2 and no padding: dx gets dy at each window's LAST maximum in
 * (d, h, w) order, zero elsewhere: the cpu backend's maxPool3dPositions keeps a position when `value >= max`.
 * x, dx [n, D, H, W, c]; dy [n, D/2, H/2, W/2, c]; voxels past the last window get zeros.
 */
EXPORT(max_pool3d_grad_2x2x2)
void max_pool3d_grad_2x2x2(const float *x, const float *dy, float *dx, u32 n, u32 D, u32 H, u32 W, u32 c) {
  const u32 od = D / 2, oh = H / 2, ow = W / 2;
  if (2 * od != D || 2 * oh != H || 2 * ow != W) {
    const unsigned long total = (unsigned long)n * D * H * W * c;
    for (unsigned long k = 0; k < total; k++) dx[k] = 0;
  }
  const unsigned long sw = c, sh = (unsigned long)W * c, sd = (unsigned long)H * W * c;
  const v128_t zero = wasm_f32x4_splat(0);
  for (u32 img = 0; img < n; img++) {
    for (u32 p = 0; p < od; p++) {
      for (u32 q = 0; q < oh; q++) {
        for (u32 s = 0; s < ow; s++) {
          const unsigned long base = (((unsigned long)(img * D + 2 * p) * H + 2 * q) * W + 2 * s) * c;
          const float *g = dy + (((unsigned long)(img * od + p) * oh + q) * ow + s) * c;
          u32 k = 0;
          for (; k + 4 <= c; k += 4) {
            /* Running maximum and, per lane, the index (0..7) of the last position reaching it. */
            v128_t m = wasm_f32x4_splat(-__builtin_inff()), best = wasm_i32x4_splat(-1);
            for (u32 t = 0; t < 8; t++) {
              const v128_t v = wasm_v128_load(x + base + WINDOW_OFFSET(t) + k);
              const v128_t wins = wasm_f32x4_ge(v, m);
              m = wasm_v128_bitselect(v, m, wins);
              best = wasm_v128_bitselect(wasm_i32x4_splat((int)t), best, wins);
            }
            const v128_t gv = wasm_v128_load(g + k);
            for (u32 t = 0; t < 8; t++) {
              const v128_t mine = wasm_i32x4_eq(best, wasm_i32x4_splat((int)t));
              wasm_v128_store(dx + base + WINDOW_OFFSET(t) + k, wasm_v128_bitselect(gv, zero, mine));
            }
          }
          for (; k < c; k++) {
            float m = -__builtin_inff();
            int best = -1;
            for (u32 t = 0; t < 8; t++) {
              const float v = x[base + WINDOW_OFFSET(t) + k];
              if (v >= m) { m = v; best = (int)t; }
            }
            for (u32 t = 0; t < 8; t++) dx[base + WINDOW_OFFSET(t) + k] = best == (int)t ? g[k] : 0;
          }
        }
      }
    }
  }
}
