/* Frame pre-processing microkernels: one output row of the model input
 * from two source rows, bilinear, colour converted and normalised.
 *
 * Everything that depends only on the frame's geometry (format, widths)
 * is in per-column tables built once (preprocess.c, "plans"). Kernels
 * gather 32-bit words, and one word usually holds several of the six bytes
 * an output pixel needs from a row (Y0 U Y1 V of a YUY2 pair, both luma
 * taps, R G B): a row is read through at most six "slots", each a
 * per-column word offset that stays inside its row (clamped to
 * row_bytes - 4, so no gather reads past a row whatever the stride), and
 * each tap's component is a byte of one slot's word, at a per-column
 * shift. YUY2, NV12 and packed RGB need 2 slots (4 gathers per output
 * pixel, not 12), I420 3. */
#ifndef SEG_F32_PREPROCESS_H
#define SEG_F32_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct
{
  int slots;              /* 1..6 */
  int slot_row[6];        /* which of top[] / bottom[] the slot reads */
  const int32_t *word[6]; /* per slot and column: byte offset of the word */
  /* [tap * 3 + component]: tap 0 is the left source column, 1 the right;
   * components are R G B, or Y U V when yuv is set; the slot holding the
   * byte (the same for every column) and the byte's bit shift in it */
  int slot[6];
  const int32_t *shift[6];
  const float *fx;         /* weight of the right tap */
  float scale[3], bias[3]; /* out = rgb * scale + bias */
  int yuv;                 /* BT.601 limited range to RGB, clamped to 0..255 */
} seg_f32_preprocess_params;

/* out[3 * x + k] for x < n: the two source rows (top[k], bottom[k] point at
 * the start of the row of the plane that holds component k) blended with
 * weight fy for the bottom one. */
typedef void (*seg_f32_preprocess_ukernel_fn) (size_t n,
    const uint8_t *const top[3], const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out);

void seg_f32_preprocess_ukernel__scalar_1 (size_t n,
    const uint8_t *const top[3], const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out);
void seg_f32_preprocess_ukernel__avx2_8 (size_t n, const uint8_t *const top[3],
    const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out);
void seg_f32_preprocess_ukernel__avx512_16 (size_t n,
    const uint8_t *const top[3], const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out);

/* The scalar kernel's pixel, shared with the SIMD kernels' tails. */
static inline float
seg_f32_preprocess_clamp (float v)
{
  v = v > 0.0f ? v : 0.0f;
  return v < 255.0f ? v : 255.0f;
}

static inline void
seg_f32_preprocess_pixel (size_t x, const uint8_t *const top[3],
    const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out)
{
  float c[4][3]; /* taps: top-left, top-right, bottom-left, bottom-right */
  for (int t = 0; t < 4; t++) {
    const uint8_t *const *row = t < 2 ? top : bottom;
    int tap = t & 1;
    float v[3];
    for (int k = 0; k < 3; k++) {
      uint32_t w;
      int slot = p->slot[tap * 3 + k];
      const uint8_t *b = row[p->slot_row[slot]] + p->word[slot][x];
      w = (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16
          | (uint32_t) b[3] << 24;
      v[k] = (float) ((w >> p->shift[tap * 3 + k][x]) & 0xff);
    }
    if (p->yuv) {
      float y = 1.164f * (v[0] - 16.0f), u = v[1] - 128.0f, vv = v[2] - 128.0f;
      c[t][0] = seg_f32_preprocess_clamp (y + 1.596f * vv);
      c[t][1] = seg_f32_preprocess_clamp (y - 0.391f * u - 0.813f * vv);
      c[t][2] = seg_f32_preprocess_clamp (y + 2.018f * u);
    } else {
      c[t][0] = v[0];
      c[t][1] = v[1];
      c[t][2] = v[2];
    }
  }
  float fx = p->fx[x];
  for (int k = 0; k < 3; k++) {
    float a = c[0][k] + fx * (c[1][k] - c[0][k]);
    float b = c[2][k] + fx * (c[3][k] - c[2][k]);
    out[3 * x + k] = (a + fy * (b - a)) * p->scale[k] + p->bias[k];
  }
}

#endif
