/* Microkernels for the convolution-like ops and the table that picks them.
 *
 * Each kernel states its contract in its name, seg_f32_<op>_ukernel__<isa>_
 * <tile>, the tile being what one step of its main loop computes:
 * seg_f32_gemm_ukernel__avx2_6x16 up to 6 rows by 16-column panels; the
 * depthwise kernels pixels x channels (avx512_4x16: four pixels by 16
 * channels); the others one number: channels for gavgpool and ibilinear,
 * pixels for vdot (1: the scalar references, one at a time). The ops ask seg_f32_kernels_get
 * for a table when they pack weights, pack for that table's tile sizes and
 * keep the table with the packed weights, so a model never mixes ISAs.
 * Kernels never allocate and never fail; the ops validate shapes first.
 */
#ifndef SEG_KERNELS_H
#define SEG_KERNELS_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "graph.h"
#include "f32-preprocess.h"
#include "f32-prob-u8.h"

/* A fused activation as the epilogues apply it (see seg_f32_act). */
typedef struct
{
  seg_act act;
  float a, b;
} seg_f32_act_params;

/* C[i][j] = act (bias[j] + sum_k A[i][k] * B[k][j]) for i < mr (1..MR) and
 * j < nc (>= 1). Row i of A is kc floats at a + i * a_stride; kc may be 0
 * (then a is not read). w holds ceil(nc / NR) panels of (kc + 1) * NR floats
 * each, as seg_f32_gemm_pack writes them. Row i of C is at c + i * c_stride;
 * nothing outside the mr x nc block is written. */
typedef void (*seg_f32_gemm_ukernel_fn) (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act);

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
typedef struct
{
  size_t left, right;
  float weight;
} seg_f32_bilinear_tap;

/* Output rows of a bilinear resize that share their two source rows, over
 * `channels` interleaved channels: for y < rows (>= 1), x < width,
 * out[y * out_stride + x * channels + ch] = t + (b - t) * wy[y], where t
 * and b are the top and bottom rows' lerps at tap x, src[left] +
 * (src[right] - src[left]) * weight. Upsampling repeats each source pair
 * for several output rows: t and b are computed once for all of them. */
typedef void (*seg_f32_ibilinear_ukernel_fn) (size_t width, size_t channels,
    const float *top, const float *bottom, size_t rows, const float *wy,
    const seg_f32_bilinear_tap *taps, float *out, size_t out_stride);

/* One output channel of a transposed conv whose kernel is no larger than
 * its stride, so that each input pixel i feeds a th x tw block of outputs
 * of its own: out[ty * row_stride + i * px_stride + tx] = act (bias +
 * sum_k in[i * in_stride + k] * w[(ty * tw + tx) * kc + k]) for i < n,
 * ty < th, tx < tw, k < kc (kc >= 1). The GEMM would spend a whole panel
 * of lanes on that one column (MediaPipe's final 2x2/2 transposed conv);
 * this kernel spreads the channels over the lanes instead, and reads each
 * input pixel once for all the taps of its block. */
typedef void (*seg_f32_vdot_ukernel_fn) (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act);

/* The GEMM on an A that is never stored: row i (i < m, any m >= 1) is the
 * concatenation of `runs` runs of run_len floats, run r of row i at
 * a[r] + i * a_step. kc = runs * run_len; w, c and act are as for
 * seg_f32_gemm_ukernel_fn, and each output is summed in the same order as
 * that ISA's GEMM sums it, so the result has the same bits as gathering A
 * first (im2col). A kxk conv without dilation has one run per kernel row
 * (the 3-channel stem: 3 runs of 9 floats, a_step 6). */
typedef void (*seg_f32_igemm_ukernel_fn) (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act);

/* The depthwise kernel on pixels read in place instead of through an
 * indirection buffer: out[x][ch] = act (bias[ch] + sum over ky < kh,
 * kx < kw of rows[ky][x * x_step + kx * kx_step + ch] * k[ky * kw + kx][ch])
 * for x < width, ch < channels (steps in floats; w as for
 * seg_f32_dwconv_ukernel_fn). Taps are summed in the same order as that
 * ISA's dwconv sums them, so the bits are the same; the table costs as
 * much as the convolution when a pixel is one vector (16 channels). */
typedef void (*seg_f32_dwconv_rows_ukernel_fn) (size_t channels, size_t width,
    size_t kh, size_t kw, const float *const *rows, size_t x_step,
    size_t kx_step, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act);

/* out[i] = seg_f32_prob_u8 (in[i]), or of 1 - in[i] with complement, for
 * i < n: a probability mask's bytes. */
typedef void (*seg_f32_prob_u8_ukernel_fn) (size_t n, const float *in,
    int complement, uint8_t *out);

typedef struct
{
  const char *name; /* "scalar", "avx2", "avx512", "neon" */
  seg_f32_gemm_ukernel_fn gemm;
  size_t gemm_mr, gemm_nr;
  seg_f32_dwconv_ukernel_fn dwconv;
  seg_f32_gavgpool_ukernel_fn gavgpool;
  seg_f32_ibilinear_ukernel_fn ibilinear;
  seg_f32_vdot_ukernel_fn vdot;
  seg_f32_igemm_ukernel_fn igemm; /* NULL: the ops gather A themselves */
  seg_f32_dwconv_rows_ukernel_fn dwconv_rows; /* NULL: use dwconv */
  seg_f32_preprocess_ukernel_fn preprocess;   /* NULL: the reference loop */
  seg_f32_prob_u8_ukernel_fn prob_u8;
} seg_f32_kernels;

/* The best table for this CPU, or the one seg_f32_kernels_cap chose.
 * (transfer none): static. */
const seg_f32_kernels *seg_f32_kernels_get (void);

/* Test hook, not API: caps the table seg_f32_kernels_get returns for the
 * ops packed from now on. "scalar" forces the portable kernels (to run
 * every op through the reference, or rule out a SIMD bug), "avx2" caps an
 * AVX-512 machine at AVX2, NULL restores the CPU's best. Returns false
 * (and changes nothing) for any other name. Process-wide: call it while no
 * model is loading. The library used to read SEG_KERNELS from the
 * environment; a test switch is better not a hidden input of every
 * process that links the library (tools/profile-nodes still reads it). */
bool seg_f32_kernels_cap (const char *isa);

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
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__scalar_1x4 (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);
void seg_f32_gavgpool_ukernel__scalar_1 (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act);
void seg_f32_ibilinear_ukernel__scalar_1 (size_t width, size_t channels,
    const float *top, const float *bottom, size_t rows, const float *wy,
    const seg_f32_bilinear_tap *taps, float *out, size_t out_stride);
void seg_f32_vdot_ukernel__scalar_1 (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act);
void seg_f32_igemm_ukernel__scalar_4x8 (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_rows_ukernel__scalar_1x4 (size_t channels, size_t width,
    size_t kh, size_t kw, const float *const *rows, size_t x_step,
    size_t kx_step, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act);
/* Only built on x86-64; call through seg_f32_kernels_avx2. */
void seg_f32_gemm_ukernel__avx2_6x16 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__avx2_1x16 (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);
void seg_f32_vdot_ukernel__avx2_8 (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act);
void seg_f32_igemm_ukernel__avx2_6x16 (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_rows_ukernel__avx2_1x16 (size_t channels, size_t width,
    size_t kh, size_t kw, const float *const *rows, size_t x_step,
    size_t kx_step, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act);
/* Only built on x86-64; call through seg_f32_kernels_avx512. */
void seg_f32_gemm_ukernel__avx512_12x32 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__avx512_4x16 (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);
void seg_f32_gavgpool_ukernel__avx512_64 (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act);
void seg_f32_ibilinear_ukernel__avx512_16 (size_t width, size_t channels,
    const float *top, const float *bottom, size_t rows, const float *wy,
    const seg_f32_bilinear_tap *taps, float *out, size_t out_stride);
void seg_f32_vdot_ukernel__avx512_16 (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act);
void seg_f32_igemm_ukernel__avx512_16x16 (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act);
void seg_f32_dwconv_rows_ukernel__avx512_4x16 (size_t channels, size_t width,
    size_t kh, size_t kw, const float *const *rows, size_t x_step,
    size_t kx_step, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act);
/* Only built on arm64; call through seg_f32_kernels_neon. */
void seg_f32_gemm_ukernel__neon_8x8 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act);
void seg_f32_dwconv_ukernel__neon_1x8 (size_t channels, size_t width,
    size_t taps, const float *const *in, const float *w, float *out,
    size_t out_stride, const seg_f32_act_params *act);

void seg_f32_prob_u8_ukernel__scalar_1 (size_t n, const float *in,
    int complement, uint8_t *out);
void seg_f32_prob_u8_ukernel__avx512_16 (size_t n, const float *in,
    int complement, uint8_t *out);

#endif /* SEG_KERNELS_H */
