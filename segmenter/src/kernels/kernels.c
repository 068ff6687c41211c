/* Kernel dispatch and the weight packing every ISA shares. The table is
 * picked from CPU flags on each call (the ops call it once per model at
 * pack time); the one mutable global is the tests' cap. */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

static const seg_f32_kernels scalar_kernels = {
    .name = "scalar",
    .gemm = seg_f32_gemm_ukernel__scalar_4x8,
    .gemm_mr = 4,
    .gemm_nr = 8,
    .dwconv = seg_f32_dwconv_ukernel__scalar_1x4,
    .gavgpool = seg_f32_gavgpool_ukernel__scalar_1,
    .ibilinear = seg_f32_ibilinear_ukernel__scalar_1,
    .vdot = seg_f32_vdot_ukernel__scalar_1,
    .igemm = seg_f32_igemm_ukernel__scalar_4x8,
    .dwconv_rows = seg_f32_dwconv_rows_ukernel__scalar_1x4,
    .preprocess = seg_f32_preprocess_ukernel__scalar_1,
    .prob_u8 = seg_f32_prob_u8_ukernel__scalar_1,
};

#ifdef SEG_KERNELS_HAVE_AVX2
static const seg_f32_kernels avx2_kernels = {
    .name = "avx2",
    .gemm = seg_f32_gemm_ukernel__avx2_6x16,
    .gemm_mr = 6,
    .gemm_nr = 16,
    .dwconv = seg_f32_dwconv_ukernel__avx2_1x16,
    .gavgpool = seg_f32_gavgpool_ukernel__scalar_1,
    .ibilinear = seg_f32_ibilinear_ukernel__scalar_1,
    .vdot = seg_f32_vdot_ukernel__avx2_8,
    .igemm = seg_f32_igemm_ukernel__avx2_6x16,
    .dwconv_rows = seg_f32_dwconv_rows_ukernel__avx2_1x16,
    .preprocess = seg_f32_preprocess_ukernel__avx2_8,
    .prob_u8 = seg_f32_prob_u8_ukernel__scalar_1,
};
#endif

#ifdef SEG_KERNELS_HAVE_AVX512
static const seg_f32_kernels avx512_kernels = {
    .name = "avx512",
    .gemm = seg_f32_gemm_ukernel__avx512_12x32,
    .gemm_mr = 12,
    .gemm_nr = 32,
    .dwconv = seg_f32_dwconv_ukernel__avx512_4x16,
    .gavgpool = seg_f32_gavgpool_ukernel__avx512_64,
    .ibilinear = seg_f32_ibilinear_ukernel__avx512_16,
    .vdot = seg_f32_vdot_ukernel__avx512_16,
    .igemm = seg_f32_igemm_ukernel__avx512_16x16,
    .dwconv_rows = seg_f32_dwconv_rows_ukernel__avx512_4x16,
    .preprocess = seg_f32_preprocess_ukernel__avx512_16,
    .prob_u8 = seg_f32_prob_u8_ukernel__avx512_16,
};
#endif

#ifdef SEG_KERNELS_HAVE_NEON
static const seg_f32_kernels neon_kernels = {
    .name = "neon",
    .gemm = seg_f32_gemm_ukernel__neon_8x8,
    .gemm_mr = 8,
    .gemm_nr = 8,
    .dwconv = seg_f32_dwconv_ukernel__neon_1x8,
    .gavgpool = seg_f32_gavgpool_ukernel__scalar_1,
    .ibilinear = seg_f32_ibilinear_ukernel__scalar_1,
    .vdot = seg_f32_vdot_ukernel__scalar_1,
    .preprocess = seg_f32_preprocess_ukernel__scalar_1,
    .prob_u8 = seg_f32_prob_u8_ukernel__scalar_1,
};
#endif

const seg_f32_kernels *
seg_f32_kernels_scalar (void)
{
  return &scalar_kernels;
}

const seg_f32_kernels *
seg_f32_kernels_avx2 (void)
{
#ifdef SEG_KERNELS_HAVE_AVX2
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return &avx2_kernels;
#endif
  return NULL;
}

const seg_f32_kernels *
seg_f32_kernels_avx512 (void)
{
#ifdef SEG_KERNELS_HAVE_AVX512
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return &avx512_kernels;
#endif
  return NULL;
}

const seg_f32_kernels *
seg_f32_kernels_neon (void)
{
#ifdef SEG_KERNELS_HAVE_NEON
  return &neon_kernels; /* every arm64 CPU has NEON */
#else
  return NULL;
#endif
}

typedef enum
{
  CAP_NONE,
  CAP_AVX2,
  CAP_SCALAR
} kernel_cap;

static kernel_cap cap;

bool
seg_f32_kernels_cap (const char *isa)
{
  if (!isa)
    cap = CAP_NONE;
  else if (strcmp (isa, "scalar") == 0)
    cap = CAP_SCALAR;
  else if (strcmp (isa, "avx2") == 0)
    cap = CAP_AVX2;
  else
    return false;
  return true;
}

const seg_f32_kernels *
seg_f32_kernels_get (void)
{
  if (cap == CAP_SCALAR)
    return &scalar_kernels;
  const seg_f32_kernels *k = NULL;
  if (cap != CAP_AVX2)
    k = seg_f32_kernels_avx512 ();
  if (!k)
    k = seg_f32_kernels_avx2 ();
  if (!k)
    k = seg_f32_kernels_neon ();
  return k ? k : &scalar_kernels;
}

size_t
seg_f32_gemm_packed_size (size_t nr, size_t nc, size_t kc)
{
  return (nc + nr - 1) / nr * nr * (kc + 1);
}

float *
seg_f32_alloc (size_t count)
{
  size_t bytes = (count * sizeof (float) + 63) / 64 * 64;
  return aligned_alloc (64, bytes ? bytes : 64);
}

void
seg_f32_gemm_pack (size_t nr, size_t nc, size_t kc, const float *b, size_t ldb,
    const float *bias, float *packed)
{
  for (size_t n0 = 0; n0 < nc; n0 += nr) {
    size_t cols = nc - n0 < nr ? nc - n0 : nr;
    for (size_t j = 0; j < nr; j++)
      packed[j] = j < cols && bias ? bias[n0 + j] : 0.0f;
    packed += nr;
    for (size_t k = 0; k < kc; k++) {
      for (size_t j = 0; j < nr; j++)
        packed[j] = j < cols ? b[(n0 + j) * ldb + k] : 0.0f;
      packed += nr;
    }
  }
}

void
seg_f32_dwconv_pack (size_t channels, size_t taps, const float *k,
    const float *bias, float *packed)
{
  for (size_t ch = 0; ch < channels; ch++)
    packed[ch] = bias ? bias[ch] : 0.0f;
  for (size_t t = 0; t < taps; t++)
    for (size_t ch = 0; ch < channels; ch++)
      packed[(t + 1) * channels + ch] = k[ch * taps + t];
}

void
seg_f32_act_apply (const seg_f32_act_params *act, float *x, size_t n)
{
  if (act->act == SEG_ACT_NONE)
    return;
  for (size_t i = 0; i < n; i++)
    x[i] = seg_f32_act (act->act, act->a, act->b, x[i]);
}
