/* Microkernels for the convolution-like ops and the table that picks them.
 *
 * Each kernel states its contract in its name (seg_f32_gemm_ukernel__avx2_6x16
 * computes up to 6 rows by 16-column panels). The ops ask seg_f32_kernels_get
 * for a table when they pack weights, pack for that table's tile sizes and
 * keep the table with the packed weights, so a model never mixes ISAs.
 * Kernels never allocate and never fail; the ops validate shapes first.
 */
#ifndef SEG_KERNELS_H
#define SEG_KERNELS_H

#include <math.h>
#include <stddef.h>

#include "graph.h"

/* A fused activation as the epilogues apply it (see seg_f32_act). */
typedef struct {
  seg_act act;
  float a, b;
} seg_f32_act_params;

/* C[i][j] = act (bias[j] + sum_k A[i][k] * B[k][j]) for i < mr (1..MR) and
 * j < nc (>= 1). Row i of A is kc floats at a + i * a_stride; kc may be 0
 * (then a is not read). w holds ceil(nc / NR) panels of (kc + 1) * NR floats
 * each, as seg_f32_gemm_pack writes them. Row i of C is at c + i * c_stride;
 * nothing outside the mr x nc block is written. */
typedef void (*seg_f32_gemm_ukernel_fn) (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c,
    size_t c_stride, const seg_f32_act_params *act);

/* Depthwise convolution of one output row through an indirection buffer:
 * out[x][ch] = act (bias[ch] + sum_t in[x * taps + t][ch] * k[t][ch]) for
 * x < width, ch < channels. Each in[] entry points at `channels` floats (a
 * zero vector stands in for padding). w is bias[channels] followed by
 * taps rows of channels weights (seg_f32_dwconv_pack). Pixel x of the output
 * is at out + x * out_stride. */
typedef void (*seg_f32_dwconv_ukernel_fn) (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);

/* out[ch] = act (scale * sum_p in[p * in_stride + ch]) for ch < channels. */
typedef void (*seg_f32_gavgpool_ukernel_fn) (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act);

/* Horizontal taps of a bilinear resize: the two source pixels (as float
 * offsets into a row) and the weight of the right one. */
typedef struct {
  size_t left, right;
  float weight;
} seg_f32_bilinear_tap;

/* One output row of a bilinear resize over `channels` interleaved channels:
 * out[x] = lerp (lerp (top, bottom, wy) at tap x) between left and right. */
typedef void (*seg_f32_ibilinear_ukernel_fn) (size_t width, size_t channels,
    const float *top, const float *bottom, float wy,
    const seg_f32_bilinear_tap *taps, float *out);

/* One output channel: out[i * out_stride] = act (bias + sum_k
 * in[i * in_stride + k] * w[k]) for i < n, k < kc (kc >= 1). The GEMM
 * would spend a whole panel of lanes on that one column (MediaPipe's final
 * 2x2/2 transposed conv); this kernel spreads the channels over the lanes
 * instead. */
typedef void (*seg_f32_vdot_ukernel_fn) (size_t n, size_t kc,
    const float *in, size_t in_stride, const float *w, float bias,
    float *out, size_t out_stride, const seg_f32_act_params *act);

typedef struct {
  const char *name; /* "scalar", "avx2", "avx512", "neon" */
  seg_f32_gemm_ukernel_fn gemm;
  size_t gemm_mr, gemm_nr;
  seg_f32_dwconv_ukernel_fn dwconv;
  seg_f32_gavgpool_ukernel_fn gavgpool;
  seg_f32_ibilinear_ukernel_fn ibilinear;
  seg_f32_vdot_ukernel_fn vdot;
} seg_f32_kernels;

/* The best table for this CPU. The environment variable SEG_KERNELS=scalar
 * forces the portable kernels (for tests and for ruling out a SIMD bug);
 * SEG_KERNELS=avx2 caps an AVX-512 machine at AVX2. (transfer none): static. */
const seg_f32_kernels *seg_f32_kernels_get (void);

/* The portable kernels; never NULL. */
const seg_f32_kernels *seg_f32_kernels_scalar (void);

/* AVX2+FMA kernels, or NULL when not built or the CPU lacks them. */
const seg_f32_kernels *seg_f32_kernels_avx2 (void);

/* AVX-512F kernels, or NULL when not built or the CPU lacks them. */
const seg_f32_kernels *seg_f32_kernels_avx512 (void);

/* NEON kernels, or NULL when not built (anything but arm64). */
const seg_f32_kernels *seg_f32_kernels_neon (void);

/* Floats seg_f32_gemm_pack writes for an nc x kc weight matrix. */
size_t seg_f32_gemm_packed_size (size_t nr, size_t nc, size_t kc);

/* Packs weights b[n * ldb + k] (n < nc, k < kc: one output channel's taps
 * contiguous, as OHWI stores them) and bias[n] (NULL: zeros) into NR-column
 * panels, zero-padding the last panel. */
void seg_f32_gemm_pack (size_t nr, size_t nc, size_t kc, const float *b,
    size_t ldb, const float *bias, float *packed);

/* 64-byte aligned storage for count packed floats (free with free()), or
 * NULL. */
float *seg_f32_alloc (size_t count);

/* How many output pixels the GEMM-based convs gather (im2col) at a time
 * when one pixel's receptive field is kc floats: a multiple of the tile
 * rows within a scratch budget, fewer (down to 1) only for huge kc so that
 * the scratch stays bounded by one row, and never more than `limit`. */
static inline size_t
seg_f32_im2col_pixels (size_t kc, size_t limit)
{
  const size_t budget = 256 * 1024 / sizeof (float), step = 24;
  size_t px = budget / (kc ? kc : 1);
  px = px >= step ? px / step * step : px ? px : 1;
  return px < limit ? px : limit;
}

/* Packs depthwise weights k[ch * taps + t] and bias[ch] (NULL: zeros) into
 * the (1 + taps) * channels floats seg_f32_dwconv_ukernel_fn reads. */
void seg_f32_dwconv_pack (size_t channels, size_t taps, const float *k,
    const float *bias, float *packed);

/* The activation maths every kernel and op shares. */
static inline float
seg_f32_act (seg_act act, float a, float b, float x)
{
  switch (act) {
    case SEG_ACT_NONE:
      return x;
    case SEG_ACT_RELU:
      return x > 0.0f ? x : 0.0f;
    case SEG_ACT_CLIP:
      return fminf (fmaxf (x, a), b);
    case SEG_ACT_HARDSIGMOID:
      return fmaxf (0.0f, fminf (1.0f, a * x + b));
    case SEG_ACT_HARDSWISH:
      return x * fmaxf (0.0f, fminf (1.0f, x * (1.0f / 6.0f) + 0.5f));
    case SEG_ACT_SIGMOID:
      return 1.0f / (1.0f + expf (-x));
  }
  return x;
}

/* Applies act to n floats in place. */
void seg_f32_act_apply (const seg_f32_act_params *act, float *x, size_t n);

/* The kernels themselves, named by ISA and tile. */
void seg_f32_gemm_ukernel__scalar_4x8 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c,
    size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__scalar (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);
void seg_f32_gavgpool_ukernel__scalar (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act);
void seg_f32_ibilinear_ukernel__scalar (size_t width, size_t channels,
    const float *top, const float *bottom, float wy,
    const seg_f32_bilinear_tap *taps, float *out);
void seg_f32_vdot_ukernel__scalar (size_t n, size_t kc, const float *in,
    size_t in_stride, const float *w, float bias, float *out,
    size_t out_stride, const seg_f32_act_params *act);
/* Only built on x86-64; call through seg_f32_kernels_avx2. */
void seg_f32_gemm_ukernel__avx2_6x16 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c,
    size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__avx2 (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);
void seg_f32_vdot_ukernel__avx2_8 (size_t n, size_t kc, const float *in,
    size_t in_stride, const float *w, float bias, float *out,
    size_t out_stride, const seg_f32_act_params *act);
/* Only built on x86-64; call through seg_f32_kernels_avx512. */
void seg_f32_gemm_ukernel__avx512_12x32 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c,
    size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__avx512 (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);
void seg_f32_gavgpool_ukernel__avx512 (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act);
void seg_f32_ibilinear_ukernel__avx512 (size_t width, size_t channels,
    const float *top, const float *bottom, float wy,
    const seg_f32_bilinear_tap *taps, float *out);
void seg_f32_vdot_ukernel__avx512_16 (size_t n, size_t kc, const float *in,
    size_t in_stride, const float *w, float bias, float *out,
    size_t out_stride, const seg_f32_act_params *act);
/* Only built on arm64; call through seg_f32_kernels_neon. */
void seg_f32_gemm_ukernel__neon_8x8 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c,
    size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__neon (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);

#endif /* SEG_KERNELS_H */
