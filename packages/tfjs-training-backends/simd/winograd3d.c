/*
 * Winograd F(2x2x2, 3x3x3) for the stride-1 3x3x3 convolutions of a 3D U-Net: each 2x2x2 block of outputs comes
 * from a 4x4x4 input tile with 64 multiplications per (input, output) channel pair instead of 216 (3.4x fewer).
 * 1D, with d the 4 inputs, g the 3 taps, y the 2 outputs (Lavin & Gray 2015):
 *   y = A^T [(G g) . (B^T d)],  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],  A^T = [1 1 1 0; 0 1 -1 -1],
 * applied along each of the three axes. Over channels the elementwise product becomes, for each of the 64 tile
 * positions, a matrix product [tiles, ci] x [ci, co]: that is where the time goes, in the same 4 x 8 register
 * blocks as conv3d_s1. F(2,3) rather than F(4,3): its transforms have only 0, +-1 and +-1/2 (exact in float32),
 * so the float32 error stays at the direct convolution's order; F(4,3)'s grows several-fold per axis.
 *
 * Tiles are processed `block` at a time, fused: input transform, 64 products, output transform, so the transformed
 * tiles (64 * block * (ci + co) floats of caller-given scratch) stay in cache and never exist for the whole volume.
 * The 64 position matrices of a block sit STRIDE_PAD floats further apart than packed: packed, they are often a
 * multiple of 4 KiB apart, and a tile's 64 stores (or loads) then all map to one L1 cache set (measured: the input
 * transform took 3x longer than the products it feeds).
 *
 * Same contract as kernels.c: heap addresses, counts in elements, no memory of its own (scratch comes from the
 * caller). Layouts channels-last; filters [3, 3, 3, ci, co]; transformed filters [64, ci, co].
 */
#include "simd-common.h"

#define STRIDE_PAD 16

/* Floats between two tile positions' matrices of `rows` x `cols`. */
#define POSITION_STRIDE(rows, cols) ((unsigned long)(rows) * (cols) + STRIDE_PAD)

#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define HALF(v) wasm_f32x4_mul((v), wasm_f32x4_splat(0.5f))

/* 4 channels of a tile, or 1 (the channel tail, in lane 0) when !full. */
static inline v128_t load_lanes(const float *p, int full) {
  return full ? wasm_v128_load(p) : wasm_v128_load32_zero(p);
}
static inline void store_lanes(float *p, v128_t v, int full) {
  if (full) wasm_v128_store(p, v); else wasm_v128_store32_lane(p, v, 0);
}

/* B^T along one axis, in place on t[i0], t[i0 + s], t[i0 + 2s], t[i0 + 3s]. */
#define BT_AXIS(t, i0, s)                                                                          \
  {                                                                                                \
    const v128_t d0 = t[i0], d1 = t[(i0) + (s)], d2 = t[(i0) + 2 * (s)], d3 = t[(i0) + 3 * (s)];   \
    t[i0] = SUB(d0, d2); t[(i0) + (s)] = ADD(d1, d2);                                              \
    t[(i0) + 2 * (s)] = SUB(d2, d1); t[(i0) + 3 * (s)] = SUB(d1, d3);                              \
  }

/*
 * The 4x4x4 input tile at x (strides sd, sh, sw between depth planes, rows, voxels) for 4 channels (1 if !full),
 * transformed, stored to v + k * vs for tile position k = (a * 4 + b) * 4 + e.
 * One output plane a at a time: each row of B^T combines two input planes, so 16 values are live instead of 64
 * (which V8 would spill); the input planes are read twice, from L1.
 */
static inline void input_tile(const float *x, unsigned long sd, unsigned long sh, unsigned long sw, float *v,
                              unsigned long vs, int full) {
#pragma clang loop unroll(full)
  for (int a = 0; a < 4; a++) {
    /* Row a of B^T: plane i plus (a == 1) or minus plane j. */
    const int i = a == 0 ? 0 : a == 2 ? 2 : 1, j = a == 0 ? 2 : a == 1 ? 2 : a == 2 ? 1 : 3;
    v128_t t[16];
#pragma clang loop unroll(full)
    for (int b = 0; b < 4; b++)
#pragma clang loop unroll(full)
      for (int e = 0; e < 4; e++) {
        const v128_t p = load_lanes(x + i * sd + b * sh + e * sw, full);
        const v128_t q = load_lanes(x + j * sd + b * sh + e * sw, full);
        t[b * 4 + e] = a == 1 ? ADD(p, q) : SUB(p, q);
      }
#pragma clang loop unroll(full)
    for (int b = 0; b < 4; b++) BT_AXIS(t, b * 4, 1)
#pragma clang loop unroll(full)
    for (int e = 0; e < 4; e++) BT_AXIS(t, e, 4)
#pragma clang loop unroll(full)
    for (int k = 0; k < 16; k++) store_lanes(v + (a * 16 + k) * vs, t[k], full);
  }
}

/*
 * The 64 tile positions of m (m + k * ms) for 4 output channels, inverse-transformed (A^T per axis) into the 2x2x2
 * outputs at y (strides sd, sh, sw); only nd x nh x nw of them (1 or 2 each) are inside the output.
 */
static inline void output_tile(const float *m, unsigned long ms, float *y, unsigned long sd, unsigned long sh,
                               unsigned long sw, u32 nd, u32 nh, u32 nw) {
  v128_t t[64], s[32], r[16], o[8];
#pragma clang loop unroll(full)
  for (int k = 0; k < 64; k++) t[k] = wasm_v128_load(m + k * ms);
#pragma clang loop unroll(full)
  for (int k = 0; k < 16; k++) { /* along w: (a, b) rows */
    s[k * 2] = ADD(ADD(t[k * 4], t[k * 4 + 1]), t[k * 4 + 2]);
    s[k * 2 + 1] = SUB(SUB(t[k * 4 + 1], t[k * 4 + 2]), t[k * 4 + 3]);
  }
#pragma clang loop unroll(full)
  for (int a = 0; a < 4; a++)
#pragma clang loop unroll(full)
    for (int e = 0; e < 2; e++) { /* along h: s[(a * 4 + b) * 2 + e] */
      const v128_t c0 = s[a * 8 + e], c1 = s[a * 8 + 2 + e], c2 = s[a * 8 + 4 + e], c3 = s[a * 8 + 6 + e];
      r[a * 4 + e] = ADD(ADD(c0, c1), c2);
      r[a * 4 + 2 + e] = SUB(SUB(c1, c2), c3);
    }
#pragma clang loop unroll(full)
  for (int k = 0; k < 4; k++) { /* along d: r[a * 4 + (b * 2 + e)] */
    o[k] = ADD(ADD(r[k], r[4 + k]), r[8 + k]);
    o[4 + k] = SUB(SUB(r[4 + k], r[8 + k]), r[12 + k]);
  }
  /* Constant indices only (fully unrolled), so the arrays stay in locals, never in linear memory. */
#pragma clang loop unroll(full)
  for (u32 a = 0; a < 2; a++)
#pragma clang loop unroll(full)
    for (u32 b = 0; b < 2; b++)
#pragma clang loop unroll(full)
      for (u32 e = 0; e < 2; e++)
        if (a < nd && b < nh && e < nw) wasm_v128_store(y + a * sd + b * sh + e * sw, o[(a * 2 + b) * 2 + e]);
}

/*
 * u [64, ci, co] = the 3x3x3 filter w [3, 3, 3, ci, co] transformed (G per axis). co a multiple of 4.
 */
EXPORT(winograd3d_filter)
void winograd3d_filter(const float *w, float *u, u32 ci, u32 co) {
  const unsigned long tap = (unsigned long)ci * co;
  for (u32 c = 0; c < ci; c++) {
    for (u32 o = 0; o < co; o += 4) {
      v128_t g[27], p[36], q[48], t[64];
      const float *src = w + (unsigned long)c * co + o;
#pragma clang loop unroll(full)
      for (int k = 0; k < 27; k++) g[k] = wasm_v128_load(src + k * tap);
#pragma clang loop unroll(full)
      for (int k = 0; k < 9; k++) { /* along w: (a, b) rows of 3 -> 4 */
        const v128_t g0 = g[k * 3], g1 = g[k * 3 + 1], g2 = g[k * 3 + 2], even = ADD(g0, g2);
        p[k * 4] = g0; p[k * 4 + 1] = HALF(ADD(even, g1)); p[k * 4 + 2] = HALF(SUB(even, g1)); p[k * 4 + 3] = g2;
      }
#pragma clang loop unroll(full)
      for (int a = 0; a < 3; a++)
#pragma clang loop unroll(full)
        for (int e = 0; e < 4; e++) { /* along h: p[(a * 3 + b) * 4 + e] -> q[(a * 4 + b) * 4 + e] */
          const v128_t g0 = p[a * 12 + e], g1 = p[a * 12 + 4 + e], g2 = p[a * 12 + 8 + e], even = ADD(g0, g2);
          q[a * 16 + e] = g0; q[a * 16 + 4 + e] = HALF(ADD(even, g1));
          q[a * 16 + 8 + e] = HALF(SUB(even, g1)); q[a * 16 + 12 + e] = g2;
        }
#pragma clang loop unroll(full)
      for (int k = 0; k < 16; k++) { /* along d: q[a * 16 + k] -> t[a * 16 + k] */
        const v128_t g0 = q[k], g1 = q[16 + k], g2 = q[32 + k], even = ADD(g0, g2);
        t[k] = g0; t[16 + k] = HALF(ADD(even, g1)); t[32 + k] = HALF(SUB(even, g1)); t[48 + k] = g2;
      }
      float *dst = u + (unsigned long)c * co + o;
#pragma clang loop unroll(full)
      for (int k = 0; k < 64; k++) wasm_v128_store(dst + k * tap, t[k]);
    }
  }
}

/* c [rows, cols] = a [rows, k] x b [k, cols]; cols a multiple of 4. NP rows x NV*4 columns per register block. */
#define GEMM_BLOCK(NP, NV)                                                                         \
  {                                                                                                \
    const v128_t z = wasm_f32x4_splat(0);                                                          \
    v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;                 \
    const float *ar = a + (unsigned long)r * k;                                                    \
    const float *br = b + o0;                                                                      \
    for (u32 kk = 0; kk < k; kk++, br += cols) {                                                   \
      const v128_t w0 = wasm_v128_load(br);                                                        \
      const v128_t w1 = NV > 1 ? wasm_v128_load(br + 4) : w0;                                      \
      const v128_t x0 = wasm_v128_load32_splat(ar + kk);                                           \
      s00 = MADD(s00, x0, w0);                                                                     \
      if (NV > 1) s01 = MADD(s01, x0, w1);                                                         \
      if (NP > 1) {                                                                                \
        const v128_t x1 = wasm_v128_load32_splat(ar + k + kk);                                     \
        const v128_t x2 = wasm_v128_load32_splat(ar + 2 * k + kk);                                 \
        const v128_t x3 = wasm_v128_load32_splat(ar + 3 * k + kk);                                 \
        s10 = MADD(s10, x1, w0);                                                                   \
        s20 = MADD(s20, x2, w0);                                                                   \
        s30 = MADD(s30, x3, w0);                                                                   \
        if (NV > 1) {                                                                              \
          s11 = MADD(s11, x1, w1);                                                                 \
          s21 = MADD(s21, x2, w1);                                                                 \
          s31 = MADD(s31, x3, w1);                                                                 \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    float *cr = c + (unsigned long)r * cols + o0;                                                  \
    wasm_v128_store(cr, s00);                                                                      \
    if (NV > 1) wasm_v128_store(cr + 4, s01);                                                      \
    if (NP > 1) {                                                                                  \
      wasm_v128_store(cr + cols, s10); wasm_v128_store(cr + 2 * cols, s20);                        \
      wasm_v128_store(cr + 3 * cols, s30);                                                         \
      if (NV > 1) {                                                                                \
        wasm_v128_store(cr + cols + 4, s11); wasm_v128_store(cr + 2 * cols + 4, s21);              \
        wasm_v128_store(cr + 3 * cols + 4, s31);                                                   \
      }                                                                                            \
    }                                                                                              \
  }

static void gemm(const float *a, const float *b, float *c, u32 rows, u32 k, u32 cols) {
  u32 o0 = 0;
  for (; o0 + 8 <= cols; o0 += 8) {
    u32 r = 0;
    for (; r + 4 <= rows; r += 4) GEMM_BLOCK(4, 2)
    for (; r < rows; r++) GEMM_BLOCK(1, 2)
  }
  if (o0 < cols) {
    u32 r = 0;
    for (; r + 4 <= rows; r += 4) GEMM_BLOCK(4, 1)
    for (; r < rows; r++) GEMM_BLOCK(1, 1)
  }
}

/* Tile index -> address of its 4x4x4 input corner in xp [n, dp, hp, wp, ci]; tiles (img, p, q, s) row-major. */
#define TILE_COORDS(index)                                                                         \
  const u32 s_ = (index) % tw, q_ = ((index) / tw) % th, p_ = ((index) / (tw * th)) % td;          \
  const u32 img_ = (index) / (tw * th * td);

/* Input transform of tiles t0 .. t0 + nb - 1 into v [64, nb, ci]. */
static void transform_inputs(const float *xp, float *v, u32 t0, u32 nb, u32 dp, u32 hp, u32 wp, u32 ci, u32 td,
                             u32 th, u32 tw) {
  const unsigned long sw = ci, sh = (unsigned long)wp * ci, sd = (unsigned long)hp * wp * ci;
  const unsigned long vs = POSITION_STRIDE(nb, ci);
  for (u32 t = 0; t < nb; t++) {
    TILE_COORDS(t0 + t)
    const float *x = xp + (((unsigned long)(img_ * dp + 2 * p_) * hp + 2 * q_) * wp + 2 * s_) * ci;
    float *vt = v + (unsigned long)t * ci;
    u32 c = 0;
    for (; c + 4 <= ci; c += 4) input_tile(x + c, sd, sh, sw, vt + c, vs, 1);
    for (; c < ci; c++) input_tile(x + c, sd, sh, sw, vt + c, vs, 0);
  }
}

/*
 * Stride-1 3x3x3 convolution on the zero-padded input:
 *   out[n, d, i, j, o] = sum over a, b, e < 3, c < ci of xp[n, d + a, i + b, j + e, c] * w[a, b, e, c, o]
 * with u = winograd3d_filter(w). xp [n, dp, hp, wp, ci] must cover whole tiles: dp >= 2 * ceil(od / 2) + 2 (same
 * for h, w). out [n, od, oh, ow, co] (overwritten); co a multiple of 4.
 * scratch: 64 * (block * (ci + co) + 2 * STRIDE_PAD) floats.
 */
EXPORT(winograd3d_conv)
void winograd3d_conv(const float *xp, const float *u, float *out, float *scratch, u32 n, u32 dp, u32 hp, u32 wp,
                     u32 ci, u32 od, u32 oh, u32 ow, u32 co, u32 block) {
  const u32 td = (od + 1) / 2, th = (oh + 1) / 2, tw = (ow + 1) / 2, total = n * td * th * tw;
  float *v = scratch, *m = scratch + 64 * POSITION_STRIDE(block, ci);
  const unsigned long yw = co, yh = (unsigned long)ow * co, yd = (unsigned long)oh * ow * co;
  for (u32 t0 = 0; t0 < total; t0 += block) {
    const u32 nb = total - t0 < block ? total - t0 : block;
    transform_inputs(xp, v, t0, nb, dp, hp, wp, ci, td, th, tw);
    for (u32 k = 0; k < 64; k++) {
      gemm(v + k * POSITION_STRIDE(nb, ci), u + (unsigned long)k * ci * co, m + k * POSITION_STRIDE(nb, co), nb, ci,
           co);
    }
    const unsigned long ms = POSITION_STRIDE(nb, co);
    for (u32 t = 0; t < nb; t++) {
      TILE_COORDS(t0 + t)
      const u32 d = 2 * p_, i = 2 * q_, j = 2 * s_;
      const u32 nd = od - d < 2 ? 1 : 2, nh = oh - i < 2 ? 1 : 2, nw = ow - j < 2 ? 1 : 2;
      float *y = out + (((unsigned long)(img_ * od + d) * oh + i) * ow + j) * co;
      for (u32 o = 0; o < co; o += 4) output_tile(m + (unsigned long)t * co + o, ms, y + o, yd, yh, yw, nd, nh, nw);
    }
  }
}

/*
 * The 2x2x2 output-gradient tile at dy (strides sd, sh, sw; nd x nh x nw of it inside, the rest taken as zero) for
 * 4 channels, transformed with A per axis (q0 = y0, q1 = y0 + y1, q2 = y0 - y1, q3 = -y1), stored to q + k * qs.
 */
static inline void gradient_tile(const float *dy, unsigned long sd, unsigned long sh, unsigned long sw, u32 nd,
                                 u32 nh, u32 nw, float *q, unsigned long qs) {
  const v128_t z = wasm_f32x4_splat(0);
  v128_t y[8], r[16], s[32], t[64];
#pragma clang loop unroll(full)
  for (int k = 0; k < 8; k++) y[k] = z;
#pragma clang loop unroll(full)
  for (u32 a = 0; a < 2; a++)
#pragma clang loop unroll(full)
    for (u32 b = 0; b < 2; b++)
#pragma clang loop unroll(full)
      for (u32 e = 0; e < 2; e++)
        if (a < nd && b < nh && e < nw) y[(a * 2 + b) * 2 + e] = wasm_v128_load(dy + a * sd + b * sh + e * sw);
#pragma clang loop unroll(full)
  for (int k = 0; k < 4; k++) { /* along w: (a, b) pairs -> 4 */
    const v128_t y0 = y[k * 2], y1 = y[k * 2 + 1];
    r[k * 4] = y0; r[k * 4 + 1] = ADD(y0, y1); r[k * 4 + 2] = SUB(y0, y1); r[k * 4 + 3] = SUB(z, y1);
  }
#pragma clang loop unroll(full)
  for (int a = 0; a < 2; a++)
#pragma clang loop unroll(full)
    for (int e = 0; e < 4; e++) { /* along h: r[(a * 2 + b) * 4 + e] -> s[(a * 4 + b) * 4 + e] */
      const v128_t y0 = r[a * 8 + e], y1 = r[a * 8 + 4 + e];
      s[a * 16 + e] = y0; s[a * 16 + 4 + e] = ADD(y0, y1);
      s[a * 16 + 8 + e] = SUB(y0, y1); s[a * 16 + 12 + e] = SUB(z, y1);
    }
#pragma clang loop unroll(full)
  for (int k = 0; k < 16; k++) { /* along d */
    const v128_t y0 = s[k], y1 = s[16 + k];
    t[k] = y0; t[16 + k] = ADD(y0, y1); t[32 + k] = SUB(y0, y1); t[48 + k] = SUB(z, y1);
  }
#pragma clang loop unroll(full)
  for (int k = 0; k < 64; k++) wasm_v128_store(q + k * qs, t[k]);
}

/* acc [k, cols] += a^T b for a [rows, k], b [rows, cols]; NC rows of acc x NV*4 columns per register block. */
#define OUTER_BLOCK(NC, NV)                                                                        \
  {                                                                                                \
    const v128_t z = wasm_f32x4_splat(0);                                                          \
    v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;                 \
    const float *ar = a + c0, *br = b + o0;                                                        \
    for (u32 r = 0; r < rows; r++, ar += k, br += cols) {                                          \
      const v128_t d0 = wasm_v128_load(br);                                                        \
      const v128_t d1 = NV > 1 ? wasm_v128_load(br + 4) : d0;                                      \
      const v128_t x0 = wasm_v128_load32_splat(ar);                                                \
      s00 = MADD(s00, x0, d0);                                                                     \
      if (NV > 1) s01 = MADD(s01, x0, d1);                                                         \
      if (NC > 1) {                                                                                \
        const v128_t x1 = wasm_v128_load32_splat(ar + 1), x2 = wasm_v128_load32_splat(ar + 2);     \
        const v128_t x3 = wasm_v128_load32_splat(ar + 3);                                          \
        s10 = MADD(s10, x1, d0);                                                                   \
        s20 = MADD(s20, x2, d0);                                                                   \
        s30 = MADD(s30, x3, d0);                                                                   \
        if (NV > 1) {                                                                              \
          s11 = MADD(s11, x1, d1);                                                                 \
          s21 = MADD(s21, x2, d1);                                                                 \
          s31 = MADD(s31, x3, d1);                                                                 \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    float *tr = acc + (unsigned long)c0 * cols + o0;                                               \
    wasm_v128_store(tr, ADD(wasm_v128_load(tr), s00));                                             \
    if (NV > 1) wasm_v128_store(tr + 4, ADD(wasm_v128_load(tr + 4), s01));                         \
    if (NC > 1) {                                                                                  \
      wasm_v128_store(tr + cols, ADD(wasm_v128_load(tr + cols), s10));                             \
      wasm_v128_store(tr + 2 * cols, ADD(wasm_v128_load(tr + 2 * cols), s20));                     \
      wasm_v128_store(tr + 3 * cols, ADD(wasm_v128_load(tr + 3 * cols), s30));                     \
      if (NV > 1) {                                                                                \
        wasm_v128_store(tr + cols + 4, ADD(wasm_v128_load(tr + cols + 4), s11));                   \
        wasm_v128_store(tr + 2 * cols + 4, ADD(wasm_v128_load(tr + 2 * cols + 4), s21));           \
        wasm_v128_store(tr + 3 * cols + 4, ADD(wasm_v128_load(tr + 3 * cols + 4), s31));           \
      }                                                                                            \
    }                                                                                              \
  }

static void gemm_at_b_add(const float *a, const float *b, float *acc, u32 rows, u32 k, u32 cols) {
  u32 c0 = 0;
  for (; c0 + 4 <= k; c0 += 4) {
    u32 o0 = 0;
    for (; o0 + 8 <= cols; o0 += 8) OUTER_BLOCK(4, 2)
    if (o0 < cols) OUTER_BLOCK(4, 1)
  }
  for (; c0 < k; c0++) {
    u32 o0 = 0;
    for (; o0 + 8 <= cols; o0 += 8) OUTER_BLOCK(1, 2)
    if (o0 < cols) OUTER_BLOCK(1, 1)
  }
}

/*
 * Filter gradient of the stride-1 3x3x3 convolution winograd3d_conv computes:
 *   dw[a, b, e, c, o] = sum over n, d < od, i < oh, j < ow of xp[n, d + a, i + b, j + e, c] * dy[n, d, i, j, o]
 * In Winograd form, dw = G^T [sum over tiles (B^T x_tile B) . (A dy_tile A^T)] G per axis: for each of the 64
 * tile positions an [ci, co] sum of products over the tiles, then the inverse filter transform.
 * xp as for winograd3d_conv; dy [n, od, oh, ow, co], co a multiple of 4; dw [3, 3, 3, ci, co] (overwritten).
 * scratch: 64 * (ci * co + block * (ci + co) + 2 * STRIDE_PAD) floats.
 */
EXPORT(winograd3d_filter_grad)
void winograd3d_filter_grad(const float *xp, const float *dy, float *dw, float *scratch, u32 n, u32 dp, u32 hp,
                            u32 wp, u32 ci, u32 od, u32 oh, u32 ow, u32 co, u32 block) {
  const u32 td = (od + 1) / 2, th = (oh + 1) / 2, tw = (ow + 1) / 2, total = n * td * th * tw;
  const unsigned long tap = (unsigned long)ci * co;
  float *acc = scratch, *v = scratch + 64 * tap, *q = v + 64 * POSITION_STRIDE(block, ci);
  for (unsigned long k = 0; k < 64 * tap; k++) acc[k] = 0;
  const unsigned long yw = co, yh = (unsigned long)ow * co, yd = (unsigned long)oh * ow * co;
  for (u32 t0 = 0; t0 < total; t0 += block) {
    const u32 nb = total - t0 < block ? total - t0 : block;
    transform_inputs(xp, v, t0, nb, dp, hp, wp, ci, td, th, tw);
    const unsigned long qs = POSITION_STRIDE(nb, co);
    for (u32 t = 0; t < nb; t++) {
      TILE_COORDS(t0 + t)
      const u32 d = 2 * p_, i = 2 * q_, j = 2 * s_;
      const u32 nd = od - d < 2 ? 1 : 2, nh = oh - i < 2 ? 1 : 2, nw = ow - j < 2 ? 1 : 2;
      const float *g = dy + (((unsigned long)(img_ * od + d) * oh + i) * ow + j) * co;
      for (u32 o = 0; o < co; o += 4) gradient_tile(g + o, yd, yh, yw, nd, nh, nw, q + (unsigned long)t * co + o, qs);
    }
    for (u32 k = 0; k < 64; k++) {
      gemm_at_b_add(v + k * POSITION_STRIDE(nb, ci), q + k * qs, acc + k * tap, nb, ci, co);
    }
  }
  /* dw = G^T acc G per axis: 4 -> 3 with g0 = s0 + (s1 + s2) / 2, g1 = (s1 - s2) / 2, g2 = (s1 + s2) / 2 + s3. */
  for (u32 c = 0; c < ci; c++) {
    for (u32 o = 0; o < co; o += 4) {
      v128_t t[64], p[48], r[36], g[27];
      const float *src = acc + (unsigned long)c * co + o;
#pragma clang loop unroll(full)
      for (int k = 0; k < 64; k++) t[k] = wasm_v128_load(src + k * tap);
#pragma clang loop unroll(full)
      for (int k = 0; k < 16; k++) { /* along w: (a, b) rows of 4 -> 3 */
        const v128_t s0 = t[k * 4], s1 = t[k * 4 + 1], s2 = t[k * 4 + 2], s3 = t[k * 4 + 3];
        const v128_t mid = HALF(ADD(s1, s2));
        p[k * 3] = ADD(s0, mid); p[k * 3 + 1] = HALF(SUB(s1, s2)); p[k * 3 + 2] = ADD(mid, s3);
      }
#pragma clang loop unroll(full)
      for (int a = 0; a < 4; a++)
#pragma clang loop unroll(full)
        for (int e = 0; e < 3; e++) { /* along h: p[(a * 4 + b) * 3 + e] -> r[(a * 3 + b) * 3 + e] */
          const v128_t s0 = p[a * 12 + e], s1 = p[a * 12 + 3 + e], s2 = p[a * 12 + 6 + e], s3 = p[a * 12 + 9 + e];
          const v128_t mid = HALF(ADD(s1, s2));
          r[a * 9 + e] = ADD(s0, mid); r[a * 9 + 3 + e] = HALF(SUB(s1, s2)); r[a * 9 + 6 + e] = ADD(mid, s3);
        }
#pragma clang loop unroll(full)
      for (int k = 0; k < 9; k++) { /* along d: r[a * 9 + k] -> g[a * 9 + k] */
        const v128_t s0 = r[k], s1 = r[9 + k], s2 = r[18 + k], s3 = r[27 + k];
        const v128_t mid = HALF(ADD(s1, s2));
        g[k] = ADD(s0, mid); g[9 + k] = HALF(SUB(s1, s2)); g[18 + k] = ADD(mid, s3);
      }
      float *dst = dw + (unsigned long)c * co + o;
#pragma clang loop unroll(full)
      for (int k = 0; k < 27; k++) wasm_v128_store(dst + k * tap, g[k]);
    }
  }
}

/*
 * F(2x4x4, 3x3x3): F(2,3) in depth, F(4,3) in height and width. A 4x6x6 input tile gives 2x4x4 outputs with 144
 * multiplications per channel pair, 4.5 per output against F(2x2x2)'s 8 (1.8x fewer), and fewer transform values
 * per output too. F(4,3)'s constants (4, 5, 1/6, 1/24, 8) cost accuracy, on two axes only: measured within 1e-5
 * relative of the cpu backend where F(2x2x2) is within 2e-6 (test/conv3d-winograd-cases.ts). 1D (Lavin & Gray):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * Tile positions k = (a * 6 + b) * 6 + e, a < 4 in depth. Same entry points and contracts as the F(2x2x2)
 * functions above (suffix _244), with padded extents dp >= 2 * ceil(od / 2) + 2, hp >= 4 * ceil(oh / 4) + 2 (same
 * for w), transformed filters [144, ci, co] and 144 position matrices per block.
 */
#define SPLAT wasm_f32x4_splat
#define MUL wasm_f32x4_mul

/* B^T of F(4,3) in place on t[i0 + s * 0..5]. */
#define BT6_AXIS(t, i0, s)                                                                         \
  {                                                                                                \
    const v128_t d0 = t[i0], d1 = t[(i0) + (s)], d2 = t[(i0) + 2 * (s)], d3 = t[(i0) + 3 * (s)];   \
    const v128_t d4 = t[(i0) + 4 * (s)], d5 = t[(i0) + 5 * (s)], four = SPLAT(4.f), two = SPLAT(2.f); \
    t[i0] = ADD(SUB(MUL(four, d0), MUL(SPLAT(5.f), d2)), d4);                                       \
    t[(i0) + (s)] = SUB(ADD(d3, d4), MUL(four, ADD(d1, d2)));                                      \
    t[(i0) + 2 * (s)] = ADD(SUB(d4, d3), MUL(four, SUB(d1, d2)));                                  \
    t[(i0) + 3 * (s)] = ADD(SUB(d4, d2), MUL(two, SUB(d3, d1)));                                   \
    t[(i0) + 4 * (s)] = SUB(SUB(d4, d2), MUL(two, SUB(d3, d1)));                                   \
    t[(i0) + 5 * (s)] = ADD(SUB(MUL(four, d1), MUL(SPLAT(5.f), d3)), d5);                           \
  }

static inline void input_tile_244(const float *x, unsigned long sd, unsigned long sh, unsigned long sw, float *v,
                                  unsigned long vs, int full) {
#pragma clang loop unroll(full)
  for (int a = 0; a < 4; a++) {
    const int i = a == 0 ? 0 : a == 2 ? 2 : 1, j = a == 0 ? 2 : a == 1 ? 2 : a == 2 ? 1 : 3;
    v128_t t[36];
#pragma clang loop unroll(full)
    for (int b = 0; b < 6; b++)
#pragma clang loop unroll(full)
      for (int e = 0; e < 6; e++) {
        const v128_t p = load_lanes(x + i * sd + b * sh + e * sw, full);
        const v128_t q = load_lanes(x + j * sd + b * sh + e * sw, full);
        t[b * 6 + e] = a == 1 ? ADD(p, q) : SUB(p, q);
      }
#pragma clang loop unroll(full)
    for (int b = 0; b < 6; b++) BT6_AXIS(t, b * 6, 1)
#pragma clang loop unroll(full)
    for (int e = 0; e < 6; e++) BT6_AXIS(t, e, 6)
#pragma clang loop unroll(full)
    for (int k = 0; k < 36; k++) store_lanes(v + (a * 36 + k) * vs, t[k], full);
  }
}

/* A^T of F(4,3): 6 values at t[i0 + s * 0..5] -> 4 at o[j0 + r * 0..3]. */
#define AT6(t, i0, s, o, j0, r)                                                                    \
  {                                                                                                \
    const v128_t m0 = t[i0], m1 = t[(i0) + (s)], m2 = t[(i0) + 2 * (s)], m3 = t[(i0) + 3 * (s)];   \
    const v128_t m4 = t[(i0) + 4 * (s)], m5 = t[(i0) + 5 * (s)];                                   \
    const v128_t p12 = ADD(m1, m2), n12 = SUB(m1, m2), p34 = ADD(m3, m4), n34 = SUB(m3, m4);        \
    o[j0] = ADD(ADD(m0, p12), p34);                                                                \
    o[(j0) + (r)] = ADD(n12, MUL(SPLAT(2.f), n34));                                                \
    o[(j0) + 2 * (r)] = ADD(p12, MUL(SPLAT(4.f), p34));                                            \
    o[(j0) + 3 * (r)] = ADD(ADD(n12, MUL(SPLAT(8.f), n34)), m5);                                   \
  }

static inline void output_tile_244(const float *m, unsigned long ms, float *y, unsigned long sd, unsigned long sh,
                                   unsigned long sw, u32 nd, u32 nh, u32 nw) {
#pragma clang loop unroll(full)
  for (int a = 0; a < 2; a++) {
    /* Row a of F(2,3)'s A^T over the 4 depth positions: m0 + m1 + m2, or m1 - m2 - m3. */
    v128_t t[36], r[24], o[16];
#pragma clang loop unroll(full)
    for (int k = 0; k < 36; k++) {
      const v128_t p0 = wasm_v128_load(m + k * ms), p1 = wasm_v128_load(m + (36 + k) * ms);
      const v128_t p2 = wasm_v128_load(m + (72 + k) * ms), p3 = wasm_v128_load(m + (108 + k) * ms);
      t[k] = a == 0 ? ADD(ADD(p0, p1), p2) : SUB(SUB(p1, p2), p3);
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < 6; b++) AT6(t, b * 6, 1, r, b * 4, 1)   /* along w: r[b * 4 + e] */
#pragma clang loop unroll(full)
    for (int e = 0; e < 4; e++) AT6(r, e, 4, o, e, 4)           /* along h: o[b * 4 + e] */
    if ((u32)a < nd) {
#pragma clang loop unroll(full)
      for (u32 b = 0; b < 4; b++)
#pragma clang loop unroll(full)
        for (u32 e = 0; e < 4; e++)
          if (b < nh && e < nw) wasm_v128_store(y + a * sd + b * sh + e * sw, o[b * 4 + e]);
    }
  }
}

/* G of F(4,3): 3 values at g[i0 + s * 0..2] -> 6 at o[j0 + r * 0..5]. */
#define G6(g, i0, s, o, j0, r)                                                                     \
  {                                                                                                \
    const v128_t g0 = g[i0], g1 = g[(i0) + (s)], g2 = g[(i0) + 2 * (s)], even = ADD(g0, g2);        \
    const v128_t q = ADD(MUL(SPLAT(1.f / 24), g0), MUL(SPLAT(1.f / 6), g2));                         \
    o[j0] = MUL(SPLAT(0.25f), g0);                                                                 \
    o[(j0) + (r)] = MUL(SPLAT(-1.f / 6), ADD(even, g1));                                           \
    o[(j0) + 2 * (r)] = MUL(SPLAT(-1.f / 6), SUB(even, g1));                                       \
    o[(j0) + 3 * (r)] = ADD(q, MUL(SPLAT(1.f / 12), g1));                                          \
    o[(j0) + 4 * (r)] = SUB(q, MUL(SPLAT(1.f / 12), g1));                                          \
    o[(j0) + 5 * (r)] = g2;                                                                        \
  }

EXPORT(winograd3d_filter_244)
void winograd3d_filter_244(const float *w, float *u, u32 ci, u32 co) {
  const unsigned long tap = (unsigned long)ci * co;
  for (u32 c = 0; c < ci; c++) {
    for (u32 o = 0; o < co; o += 4) {
      const float *src = w + (unsigned long)c * co + o;
      float *dst = u + (unsigned long)c * co + o;
#pragma clang loop unroll(full)
      for (int a = 0; a < 4; a++) {
        /* Row a of F(2,3)'s G over the 3 depth taps, then G6 along w and h. */
        v128_t h[9], p[18], t[36];
#pragma clang loop unroll(full)
        for (int k = 0; k < 9; k++) {
          const v128_t g0 = wasm_v128_load(src + k * tap), g1 = wasm_v128_load(src + (9 + k) * tap);
          const v128_t g2 = wasm_v128_load(src + (18 + k) * tap);
          h[k] = a == 0 ? g0 : a == 3 ? g2 : a == 1 ? HALF(ADD(ADD(g0, g2), g1)) : HALF(SUB(ADD(g0, g2), g1));
        }
#pragma clang loop unroll(full)
        for (int b = 0; b < 3; b++) G6(h, b * 3, 1, p, b * 6, 1)   /* along w: p[b * 6 + e] */
#pragma clang loop unroll(full)
        for (int e = 0; e < 6; e++) G6(p, e, 6, t, e, 6)           /* along h: t[b * 6 + e] */
#pragma clang loop unroll(full)
        for (int k = 0; k < 36; k++) wasm_v128_store(dst + (a * 36 + k) * tap, t[k]);
      }
    }
  }
}

#define TILE_COORDS_244(index)                                                                     \
  const u32 s_ = (index) % tw, q_ = ((index) / tw) % th, p_ = ((index) / (tw * th)) % td;          \
  const u32 img_ = (index) / (tw * th * td);

static void transform_inputs_244(const float *xp, float *v, u32 t0, u32 nb, u32 dp, u32 hp, u32 wp, u32 ci, u32 td,
                                 u32 th, u32 tw) {
  const unsigned long sw = ci, sh = (unsigned long)wp * ci, sd = (unsigned long)hp * wp * ci;
  const unsigned long vs = POSITION_STRIDE(nb, ci);
  for (u32 t = 0; t < nb; t++) {
    TILE_COORDS_244(t0 + t)
    const float *x = xp + (((unsigned long)(img_ * dp + 2 * p_) * hp + 4 * q_) * wp + 4 * s_) * ci;
    float *vt = v + (unsigned long)t * ci;
    u32 c = 0;
    for (; c + 4 <= ci; c += 4) input_tile_244(x + c, sd, sh, sw, vt + c, vs, 1);
    for (; c < ci; c++) input_tile_244(x + c, sd, sh, sw, vt + c, vs, 0);
  }
}

/* scratch: 144 * (block * (ci + co) + 2 * STRIDE_PAD) floats. */
EXPORT(winograd3d_conv_244)
void winograd3d_conv_244(const float *xp, const float *u, float *out, float *scratch, u32 n, u32 dp, u32 hp, u32 wp,
                         u32 ci, u32 od, u32 oh, u32 ow, u32 co, u32 block) {
  const u32 td = (od + 1) / 2, th = (oh + 3) / 4, tw = (ow + 3) / 4, total = n * td * th * tw;
  float *v = scratch, *m = scratch + 144 * POSITION_STRIDE(block, ci);
  const unsigned long yw = co, yh = (unsigned long)ow * co, yd = (unsigned long)oh * ow * co;
  for (u32 t0 = 0; t0 < total; t0 += block) {
    const u32 nb = total - t0 < block ? total - t0 : block;
    transform_inputs_244(xp, v, t0, nb, dp, hp, wp, ci, td, th, tw);
    for (u32 k = 0; k < 144; k++) {
      gemm(v + k * POSITION_STRIDE(nb, ci), u + (unsigned long)k * ci * co, m + k * POSITION_STRIDE(nb, co), nb, ci,
           co);
    }
    const unsigned long ms = POSITION_STRIDE(nb, co);
    for (u32 t = 0; t < nb; t++) {
      TILE_COORDS_244(t0 + t)
      const u32 d = 2 * p_, i = 4 * q_, j = 4 * s_;
      const u32 nd = od - d < 2 ? od - d : 2, nh = oh - i < 4 ? oh - i : 4, nw = ow - j < 4 ? ow - j : 4;
      float *y = out + (((unsigned long)(img_ * od + d) * oh + i) * ow + j) * co;
      for (u32 o = 0; o < co; o += 4) {
        output_tile_244(m + (unsigned long)t * co + o, ms, y + o, yd, yh, yw, nd, nh, nw);
      }
    }
  }
}

/* A of F(4,3): 4 values at y[i0 + s * 0..3] -> 6 at o[j0 + r * 0..5]. */
#define A6(y, i0, s, o, j0, r)                                                                     \
  {                                                                                                \
    const v128_t y0 = y[i0], y1 = y[(i0) + (s)], y2 = y[(i0) + 2 * (s)], y3 = y[(i0) + 3 * (s)];   \
    const v128_t pe = ADD(y0, y2), po = ADD(y1, y3);                                               \
    const v128_t qe = ADD(y0, MUL(SPLAT(4.f), y2)), qo = ADD(MUL(SPLAT(2.f), y1), MUL(SPLAT(8.f), y3)); \
    o[j0] = y0; o[(j0) + (r)] = ADD(pe, po); o[(j0) + 2 * (r)] = SUB(pe, po);                      \
    o[(j0) + 3 * (r)] = ADD(qe, qo); o[(j0) + 4 * (r)] = SUB(qe, qo); o[(j0) + 5 * (r)] = y3;      \
  }

static inline void gradient_tile_244(const float *dy, unsigned long sd, unsigned long sh, unsigned long sw, u32 nd,
                                     u32 nh, u32 nw, float *q, unsigned long qs) {
  const v128_t z = wasm_f32x4_splat(0);
  v128_t y[32];
#pragma clang loop unroll(full)
  for (u32 a = 0; a < 2; a++)
#pragma clang loop unroll(full)
    for (u32 b = 0; b < 4; b++)
#pragma clang loop unroll(full)
      for (u32 e = 0; e < 4; e++)
        y[(a * 4 + b) * 4 + e] = a < nd && b < nh && e < nw ? wasm_v128_load(dy + a * sd + b * sh + e * sw) : z;
#pragma clang loop unroll(full)
  for (int a = 0; a < 4; a++) {
    /* Row a of F(2,3)'s A over the 2 depth planes: y0, y0 + y1, y0 - y1, -y1. */
    v128_t t[16], r[24], s[36];
#pragma clang loop unroll(full)
    for (int k = 0; k < 16; k++) {
      const v128_t y0 = y[k], y1 = y[16 + k];
      t[k] = a == 0 ? y0 : a == 1 ? ADD(y0, y1) : a == 2 ? SUB(y0, y1) : SUB(z, y1);
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < 4; b++) A6(t, b * 4, 1, r, b * 6, 1)   /* along w: r[b * 6 + e] */
#pragma clang loop unroll(full)
    for (int e = 0; e < 6; e++) A6(r, e, 6, s, e, 6)           /* along h: s[b * 6 + e] */
#pragma clang loop unroll(full)
    for (int k = 0; k < 36; k++) wasm_v128_store(q + (a * 36 + k) * qs, s[k]);
  }
}

/* G^T of F(4,3): 6 values at s[i0 + st * 0..5] -> 3 at o[j0 + r * 0..2]. */
#define GT6(s, i0, st, o, j0, r)                                                                   \
  {                                                                                                \
    const v128_t s0 = s[i0], s1 = s[(i0) + (st)], s2 = s[(i0) + 2 * (st)], s3 = s[(i0) + 3 * (st)]; \
    const v128_t s4 = s[(i0) + 4 * (st)], s5 = s[(i0) + 5 * (st)];                                 \
    const v128_t p12 = MUL(SPLAT(-1.f / 6), ADD(s1, s2)), p34 = ADD(s3, s4);                        \
    o[j0] = ADD(ADD(MUL(SPLAT(0.25f), s0), p12), MUL(SPLAT(1.f / 24), p34));                       \
    o[(j0) + (r)] = ADD(MUL(SPLAT(-1.f / 6), SUB(s1, s2)), MUL(SPLAT(1.f / 12), SUB(s3, s4)));     \
    o[(j0) + 2 * (r)] = ADD(ADD(p12, MUL(SPLAT(1.f / 6), p34)), s5);                               \
  }

/* scratch: 144 * (ci * co + block * (ci + co) + 2 * STRIDE_PAD) floats. */
EXPORT(winograd3d_filter_grad_244)
void winograd3d_filter_grad_244(const float *xp, const float *dy, float *dw, float *scratch, u32 n, u32 dp, u32 hp,
                                u32 wp, u32 ci, u32 od, u32 oh, u32 ow, u32 co, u32 block) {
  const u32 td = (od + 1) / 2, th = (oh + 3) / 4, tw = (ow + 3) / 4, total = n * td * th * tw;
  const unsigned long tap = (unsigned long)ci * co;
  float *acc = scratch, *v = scratch + 144 * tap, *q = v + 144 * POSITION_STRIDE(block, ci);
  for (unsigned long k = 0; k < 144 * tap; k++) acc[k] = 0;
  const unsigned long yw = co, yh = (unsigned long)ow * co, yd = (unsigned long)oh * ow * co;
  for (u32 t0 = 0; t0 < total; t0 += block) {
    const u32 nb = total - t0 < block ? total - t0 : block;
    transform_inputs_244(xp, v, t0, nb, dp, hp, wp, ci, td, th, tw);
    const unsigned long qs = POSITION_STRIDE(nb, co);
    for (u32 t = 0; t < nb; t++) {
      TILE_COORDS_244(t0 + t)
      const u32 d = 2 * p_, i = 4 * q_, j = 4 * s_;
      const u32 nd = od - d < 2 ? od - d : 2, nh = oh - i < 4 ? oh - i : 4, nw = ow - j < 4 ? ow - j : 4;
      const float *g = dy + (((unsigned long)(img_ * od + d) * oh + i) * ow + j) * co;
      for (u32 o = 0; o < co; o += 4) {
        gradient_tile_244(g + o, yd, yh, yw, nd, nh, nw, q + (unsigned long)t * co + o, qs);
      }
    }
    for (u32 k = 0; k < 144; k++) {
      gemm_at_b_add(v + k * POSITION_STRIDE(nb, ci), q + k * qs, acc + k * tap, nb, ci, co);
    }
  }
  for (u32 c = 0; c < ci; c++) {
    for (u32 o = 0; o < co; o += 4) {
      const float *src = acc + (unsigned long)c * co + o;
      float *dst = dw + (unsigned long)c * co + o;
#pragma clang loop unroll(full)
      for (int a = 0; a < 3; a++) {
        /* Row a of F(2,3)'s G^T over the 4 depth positions, then G^T6 along w and h. */
        v128_t t[36], r[18], g[9];
#pragma clang loop unroll(full)
        for (int k = 0; k < 36; k++) {
          const v128_t s0 = wasm_v128_load(src + k * tap), s1 = wasm_v128_load(src + (36 + k) * tap);
          const v128_t s2 = wasm_v128_load(src + (72 + k) * tap), s3 = wasm_v128_load(src + (108 + k) * tap);
          const v128_t mid = HALF(ADD(s1, s2));
          t[k] = a == 0 ? ADD(s0, mid) : a == 1 ? HALF(SUB(s1, s2)) : ADD(mid, s3);
        }
#pragma clang loop unroll(full)
        for (int b = 0; b < 6; b++) GT6(t, b * 6, 1, r, b * 3, 1)   /* along w: r[b * 3 + e] */
#pragma clang loop unroll(full)
        for (int e = 0; e < 3; e++) GT6(r, e, 3, g, e, 3)           /* along h: g[b * 3 + e] */
#pragma clang loop unroll(full)
        for (int k = 0; k < 9; k++) wasm_v128_store(dst + (a * 9 + k) * tap, g[k]);
      }
    }
  }
}
