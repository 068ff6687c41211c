/* AVX2+FMA GEMM microkernel: 6 rows by 16-column panels. Twelve
 * accumulators, two weight vectors and one broadcast fill 15 of the 16 ymm
 * registers, the usual Haswell-class shape for an NHWC 1x1 convolution. A
 * last panel with at most 8 live columns takes a half-width path. */
#include <immintrin.h>
#include <stdint.h>

#include "act-avx2.h"

/* The last panel when at most 8 of its columns are live: half the FMAs,
 * and an expensive activation evaluated on the live values packed together
 * rather than on all lanes (a one-channel sigmoid head would otherwise use
 * 6 of 96 exps). */
static void
narrow_panel (size_t nc, size_t kc, const float *const *ar, const float *w,
    float *const *cr, const act_avx2 *p)
{
  const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2];
  const float *a3 = ar[3], *a4 = ar[4], *a5 = ar[5];
  __m256 v0 = _mm256_loadu_ps (w);
  __m256 v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0;
  w += 16;
  for (size_t k = 0; k < kc; k++, w += 16) {
    const __m256 b = _mm256_loadu_ps (w);
    v0 = _mm256_fmadd_ps (_mm256_broadcast_ss (a0 + k), b, v0);
    v1 = _mm256_fmadd_ps (_mm256_broadcast_ss (a1 + k), b, v1);
    v2 = _mm256_fmadd_ps (_mm256_broadcast_ss (a2 + k), b, v2);
    v3 = _mm256_fmadd_ps (_mm256_broadcast_ss (a3 + k), b, v3);
    v4 = _mm256_fmadd_ps (_mm256_broadcast_ss (a4 + k), b, v4);
    v5 = _mm256_fmadd_ps (_mm256_broadcast_ss (a5 + k), b, v5);
  }

  if (p->act == SEG_ACT_SIGMOID && nc < 8) {
    float rows[6][8], live[48] = {0};
    _mm256_storeu_ps (rows[0], v0), _mm256_storeu_ps (rows[1], v1);
    _mm256_storeu_ps (rows[2], v2), _mm256_storeu_ps (rows[3], v3);
    _mm256_storeu_ps (rows[4], v4), _mm256_storeu_ps (rows[5], v5);
    for (size_t i = 0; i < 6; i++)
      for (size_t j = 0; j < nc; j++)
        live[i * nc + j] = rows[i][j];
    for (size_t q = 0; q < 6 * nc; q += 8)
      _mm256_storeu_ps (live + q,
          act_avx2_apply (p, _mm256_loadu_ps (live + q)));
    for (size_t i = 6; i-- > 0;)
      for (size_t j = 0; j < nc; j++)
        cr[i][j] = live[i * nc + j];
    return;
  }
  if (p->act != SEG_ACT_NONE) {
    v0 = act_avx2_apply (p, v0), v1 = act_avx2_apply (p, v1);
    v2 = act_avx2_apply (p, v2), v3 = act_avx2_apply (p, v3);
    v4 = act_avx2_apply (p, v4), v5 = act_avx2_apply (p, v5);
  }
  const __m256i m = mask_avx2 (nc);
  _mm256_maskstore_ps (cr[5], m, v5), _mm256_maskstore_ps (cr[4], m, v4);
  _mm256_maskstore_ps (cr[3], m, v3), _mm256_maskstore_ps (cr[2], m, v2);
  _mm256_maskstore_ps (cr[1], m, v1), _mm256_maskstore_ps (cr[0], m, v0);
}

/* One row (the squeeze-and-excite convs on one pixel): a 6-row tile would
 * compute it six times. Their weight panels come from memory once per frame
 * and are not reused, so the loop prefetches ahead of the hardware
 * prefetcher. One accumulator per output summed over k in order, as the
 * 6-row path does, so the row gets the same bits either way. */
static void
one_row (size_t nc, size_t kc, const float *a, const float *w, float *c,
    const act_avx2 *p)
{
  for (size_t col = 0; col < nc; col += 16) {
    __m256 v0 = _mm256_loadu_ps (w), v1 = _mm256_loadu_ps (w + 8);
    w += 16;
    for (size_t k = 0; k < kc; k++, w += 16) {
      _mm_prefetch ((const char *) (w + 1024), _MM_HINT_T0);
      const __m256 x = _mm256_broadcast_ss (a + k);
      v0 = _mm256_fmadd_ps (x, _mm256_loadu_ps (w), v0);
      v1 = _mm256_fmadd_ps (x, _mm256_loadu_ps (w + 8), v1);
    }
    v0 = act_avx2_apply (p, v0), v1 = act_avx2_apply (p, v1);
    size_t live = nc - col < 16 ? nc - col : 16;
    const __m256i m0 = mask_avx2 (live < 8 ? live : 8);
    const __m256i m1 = mask_avx2 (live > 8 ? live - 8 : 0);
    _mm256_maskstore_ps (c + col, m0, v0);
    _mm256_maskstore_ps (c + col + 8, m1, v1);
  }
}

void
seg_f32_gemm_ukernel__avx2_6x16 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act)
{
  /* Rows past mr alias the previous one: computed and stored twice with the
   * same values, so there is no row tail. */
  const float *a0 = a;
  float *c0 = c;
  const float *a1 = mr > 1 ? a0 + a_stride : a0;
  float *c1 = mr > 1 ? c0 + c_stride : c0;
  const float *a2 = mr > 2 ? a1 + a_stride : a1;
  float *c2 = mr > 2 ? c1 + c_stride : c1;
  const float *a3 = mr > 3 ? a2 + a_stride : a2;
  float *c3 = mr > 3 ? c2 + c_stride : c2;
  const float *a4 = mr > 4 ? a3 + a_stride : a3;
  float *c4 = mr > 4 ? c3 + c_stride : c3;
  const float *a5 = mr > 5 ? a4 + a_stride : a4;
  float *c5 = mr > 5 ? c4 + c_stride : c4;
  const act_avx2 p = act_avx2_init (act);
  if (mr == 1) {
    one_row (nc, kc, a, w, c, &p);
    return;
  }

  while (nc > 0) {
    if (nc <= 8) {
      const float *ar[6] = {a0, a1, a2, a3, a4, a5};
      float *cr[6] = {c0, c1, c2, c3, c4, c5};
      narrow_panel (nc, kc, ar, w, cr, &p);
      return;
    }
    __m256 v00 = _mm256_loadu_ps (w), v01 = _mm256_loadu_ps (w + 8);
    __m256 v10 = v00, v11 = v01, v20 = v00, v21 = v01;
    __m256 v30 = v00, v31 = v01, v40 = v00, v41 = v01;
    __m256 v50 = v00, v51 = v01;
    w += 16;
    for (size_t k = 0; k < kc; k++) {
      const __m256 b0 = _mm256_loadu_ps (w), b1 = _mm256_loadu_ps (w + 8);
      w += 16;
      __m256 x = _mm256_broadcast_ss (a0 + k);
      v00 = _mm256_fmadd_ps (x, b0, v00);
      v01 = _mm256_fmadd_ps (x, b1, v01);
      x = _mm256_broadcast_ss (a1 + k);
      v10 = _mm256_fmadd_ps (x, b0, v10);
      v11 = _mm256_fmadd_ps (x, b1, v11);
      x = _mm256_broadcast_ss (a2 + k);
      v20 = _mm256_fmadd_ps (x, b0, v20);
      v21 = _mm256_fmadd_ps (x, b1, v21);
      x = _mm256_broadcast_ss (a3 + k);
      v30 = _mm256_fmadd_ps (x, b0, v30);
      v31 = _mm256_fmadd_ps (x, b1, v31);
      x = _mm256_broadcast_ss (a4 + k);
      v40 = _mm256_fmadd_ps (x, b0, v40);
      v41 = _mm256_fmadd_ps (x, b1, v41);
      x = _mm256_broadcast_ss (a5 + k);
      v50 = _mm256_fmadd_ps (x, b0, v50);
      v51 = _mm256_fmadd_ps (x, b1, v51);
    }

    if (p.act != SEG_ACT_NONE) {
      v00 = act_avx2_apply (&p, v00), v01 = act_avx2_apply (&p, v01);
      v10 = act_avx2_apply (&p, v10), v11 = act_avx2_apply (&p, v11);
      v20 = act_avx2_apply (&p, v20), v21 = act_avx2_apply (&p, v21);
      v30 = act_avx2_apply (&p, v30), v31 = act_avx2_apply (&p, v31);
      v40 = act_avx2_apply (&p, v40), v41 = act_avx2_apply (&p, v41);
      v50 = act_avx2_apply (&p, v50), v51 = act_avx2_apply (&p, v51);
    }

    if (nc >= 16) {
      /* Highest row first: an aliased row then ends with its own values. */
      _mm256_storeu_ps (c5, v50), _mm256_storeu_ps (c5 + 8, v51);
      _mm256_storeu_ps (c4, v40), _mm256_storeu_ps (c4 + 8, v41);
      _mm256_storeu_ps (c3, v30), _mm256_storeu_ps (c3 + 8, v31);
      _mm256_storeu_ps (c2, v20), _mm256_storeu_ps (c2 + 8, v21);
      _mm256_storeu_ps (c1, v10), _mm256_storeu_ps (c1 + 8, v11);
      _mm256_storeu_ps (c0, v00), _mm256_storeu_ps (c0 + 8, v01);
      c0 += 16, c1 += 16, c2 += 16, c3 += 16, c4 += 16, c5 += 16;
      nc -= 16;
      continue;
    }
    /* 9 to 15 live columns */
    _mm256_storeu_ps (c5, v50), _mm256_storeu_ps (c4, v40);
    _mm256_storeu_ps (c3, v30), _mm256_storeu_ps (c2, v20);
    _mm256_storeu_ps (c1, v10), _mm256_storeu_ps (c0, v00);
    const __m256i m = mask_avx2 (nc - 8);
    _mm256_maskstore_ps (c5 + 8, m, v51), _mm256_maskstore_ps (c4 + 8, m, v41);
    _mm256_maskstore_ps (c3 + 8, m, v31), _mm256_maskstore_ps (c2 + 8, m, v21);
    _mm256_maskstore_ps (c1 + 8, m, v11), _mm256_maskstore_ps (c0 + 8, m, v01);
    nc = 0;
  }
}
