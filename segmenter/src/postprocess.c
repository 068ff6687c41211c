/* Model scores to uint8 masks at any size, deciding per destination pixel
 * without building an upsampled tensor.
 *
 * Along a destination row, the pixels that fall between the same two source
 * columns (a "run": about dst_w / w pixels when upscaling) see every score as
 * a + fx * d, linear in the horizontal weight fx, and fx itself advances by
 * the same step from pixel to pixel. That makes runs cheap: a class that
 * wins at both ends of a run wins all of it (the difference of two linear
 * functions that is <= 0 at both ends is <= 0 between them); inside a mixed
 * run the winner only changes where a steeper score line overtakes it; and
 * each softmax term exp(e + fx * g) is a geometric sequence. */
#include "postprocess.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "segmenter/seg.h"

/* Per call: the source and the horizontal mapping shared by every row. */
typedef struct
{
  const float *src;
  int h, w, c;
  int dst_w;
  double inv_den; /* 1 / (2 dst_w) */
  float step;     /* fx advance per destination pixel inside a linear run */
} post;

static void
post_init (post *p, const float *src, int h, int w, int c, int dst_w)
{
  p->src = src;
  p->h = h;
  p->w = w;
  p->c = c;
  p->dst_w = dst_w;
  p->inv_den = 1.0 / (2.0 * dst_w);
  p->step = (float) ((double) w / dst_w);
}

/* Source rows and weight for destination row y: (y + 0.5) * h / dst_h - 0.5
 * as an exact fraction, clamped to [0, h - 1]. */
static void
row_pos (int y, int h, int dst_h, int *y0, int *y1, float *fy)
{
  int64_t num = (2 * (int64_t) y + 1) * h - dst_h;
  int64_t den = 2 * (int64_t) dst_h;
  *y0 = 0;
  *fy = 0.0f;
  if (num > 0) {
    *y0 = (int) (num / den);
    *fy = (float) ((double) (num % den) / (double) den);
  }
  if (*y0 >= h - 1) {
    *y0 = h - 1;
    *fy = 0.0f;
  }
  *y1 = *y0 + (*y0 < h - 1);
}

/* Destination columns [xb, xe] that blend source columns i0 and i1. In a
 * constant run (left of the first source centre, right of the last, or a
 * single-column source) every pixel has the same scores. */
typedef struct
{
  int xb, xe;
  int i0, i1;
  int linear;
  float fb, fe; /* fx at xb and xe */
} run;

/* fx of column x in linear run r: the remainder comes from the run's i0
 * instead of a 64-bit division. */
static inline float
run_fx (const post *p, const run *r, int x)
{
  int64_t num = (2 * (int64_t) x + 1) * p->w - p->dst_w;
  int64_t rem = num - (int64_t) r->i0 * 2 * p->dst_w;
  return (float) ((double) rem * p->inv_den);
}

static void
next_run (const post *p, int x, run *r)
{
  int w = p->w, dst_w = p->dst_w;
  int64_t num = (2 * (int64_t) x + 1) * w - dst_w;
  int64_t den = 2 * (int64_t) dst_w;
  int64_t xe;

  r->xb = x;
  r->fb = r->fe = 0.0f;
  r->linear = 0;
  if (num <= 0) {
    /* clamped to column 0 while (2x + 1) w <= dst_w */
    r->i0 = 0;
    r->i1 = w > 1;
    xe = (dst_w - w) / (2 * (int64_t) w);
  } else if (num / den >= w - 1) {
    /* positions only grow: every later column is clamped to the last */
    r->i0 = r->i1 = w - 1;
    xe = dst_w - 1;
  } else {
    r->i0 = (int) (num / den);
    r->i1 = r->i0 + 1;
    r->linear = 1;
    /* the last x with (2x + 1) w - dst_w < (i0 + 1) den; x itself
     * qualifies, so t > 2 x w >= 0 */
    int64_t t = (2 * (int64_t) r->i0 + 3) * dst_w - w;
    xe = (t - 1) / (2 * (int64_t) w);
  }
  r->xe = xe < dst_w - 1 ? (int) xe : dst_w - 1;
  if (r->linear) {
    r->fb = run_fx (p, r, r->xb);
    r->fe = run_fx (p, r, r->xe);
  }
}

/* The scores of a run as a + fx * d: a and d hold the source columns i0 and
 * i1 blended vertically, then d becomes their difference. */
static void
run_scores (const post *p, int y0, int y1, float fy, const run *r, float *a,
    float *d)
{
  size_t w = (size_t) p->w, c = (size_t) p->c;
  const float *a0 = p->src + ((size_t) y0 * w + r->i0) * c;
  const float *a1 = p->src + ((size_t) y1 * w + r->i0) * c;
  const float *b0 = p->src + ((size_t) y0 * w + r->i1) * c;
  const float *b1 = p->src + ((size_t) y1 * w + r->i1) * c;
  for (size_t k = 0; k < c; k++) {
    a[k] = a0[k] + fy * (a1[k] - a0[k]);
    d[k] = b0[k] + fy * (b1[k] - b0[k]) - a[k];
  }
}

static inline int
argmax (const float *a, const float *d, int c, float fx)
{
  /* strict > keeps the lowest index on ties (and on NaN) */
  int best = 0;
  float top = a[0] + fx * d[0];
  for (int k = 1; k < c; k++) {
    float v = a[k] + fx * d[k];
    if (v > top) {
      top = v;
      best = k;
    }
  }
  return best;
}

/* A run whose winner changes: after each full argmax, the winner holds
 * until the nearest fx where a steeper line reaches it, and the pixel there
 * gets a full argmax again (which also settles the tie at the crossing). */
static void
class_run_walk (const post *p, const run *r, const float *a, const float *d,
    uint8_t *out)
{
  int x = r->xb;
  while (x <= r->xe) {
    float fx = run_fx (p, r, x);
    int best = argmax (a, d, p->c, fx);
    float until = INFINITY;
    for (int k = 0; k < p->c; k++) {
      if (d[k] > d[best]) {
        float cross = (a[best] - a[k]) / (d[k] - d[best]);
        if (cross < until)
          until = cross;
      }
    }
    out[x++] = (uint8_t) best;
    while (x <= r->xe && run_fx (p, r, x) < until)
      out[x++] = (uint8_t) best;
  }
}

/* A mask at the model's output size (what segd asks for): every pixel is
 * one score vector, so the runs above would be one pixel long, each with
 * its 64-bit divisions. The same decisions, per pixel. */
static void
class_map_same_size (const float *src, int w, int c, float threshold,
    uint8_t *dst, int stride, int row_begin, int row_end)
{
  for (int y = row_begin; y < row_end; y++) {
    const float *s = src + (size_t) y * w * c;
    uint8_t *out = dst + (size_t) y * stride;
    if (c == 1) {
      for (int x = 0; x < w; x++)
        out[x] = s[x] >= threshold;
      continue;
    }
    for (int x = 0; x < w; x++, s += c) {
      int best = 0;
      float top = s[0];
      for (int k = 1; k < c; k++)
        if (s[k] > top) {
          top = s[k];
          best = k;
        }
      out[x] = (uint8_t) best;
    }
  }
}

void
seg_post_class_map_rows (const float *src, int h, int w, int c, float threshold,
    uint8_t *dst, int dst_w, int dst_h, int stride, int row_begin, int row_end)
{
  assert (src && dst && h >= 1 && w >= 1);
  assert (c >= 1 && c <= SEG_MAX_CLASSES);
  assert (dst_w >= 1 && dst_h >= 1 && stride >= dst_w);
  assert (row_begin >= 0 && row_begin <= row_end && row_end <= dst_h);

  if (dst_w == w && dst_h == h) {
    class_map_same_size (src, w, c, threshold, dst, stride, row_begin, row_end);
    return;
  }

  post p;
  post_init (&p, src, h, w, c, dst_w);
  float a[SEG_MAX_CLASSES], d[SEG_MAX_CLASSES];
  for (int y = row_begin; y < row_end; y++) {
    int y0, y1;
    float fy;
    row_pos (y, h, dst_h, &y0, &y1, &fy);
    uint8_t *out = dst + (size_t) y * stride;
    run r;
    for (int x = 0; x < dst_w; x = r.xe + 1) {
      next_run (&p, x, &r);
      run_scores (&p, y0, y1, fy, &r, a, d);
      size_t len = (size_t) (r.xe - r.xb + 1);
      if (c == 1) {
        /* probability output: class 1 where p >= threshold */
        int first = a[0] + r.fb * d[0] >= threshold;
        if (!r.linear || first == (a[0] + r.fe * d[0] >= threshold))
          memset (out + r.xb, first, len);
        else
          for (int xi = r.xb; xi <= r.xe; xi++)
            out[xi] = a[0] + run_fx (&p, &r, xi) * d[0] >= threshold;
        continue;
      }
      int first = argmax (a, d, c, r.fb);
      if (!r.linear || first == argmax (a, d, c, r.fe))
        memset (out + r.xb, first, len);
      else
        class_run_walk (&p, &r, a, d, out);
    }
  }
}

/* Softmax exponents relative to the wanted class. One above SURE_ZERO at
 * both ends of a run leaves p < e^-7 all along it, which rounds to 0; one
 * below NEGLIGIBLE at both ends adds under e^-24 to the sum, which even 255
 * of them cannot move by a 255th. Beyond EXP_SAFE the geometric form could
 * overflow or underflow, so such runs call expf per pixel. */
#define SURE_ZERO 7.0f
#define NEGLIGIBLE (-24.0f)
#define EXP_SAFE 60.0f
/* The geometric form is re-anchored this often so rounding cannot pile up
 * along very long runs. */
#define ANCHOR_EVERY 64

static void
softmax_run (const post *p, const run *r, const float *a, const float *d,
    int cls, uint8_t *out)
{
  float ea[SEG_MAX_CLASSES], ed[SEG_MAX_CLASSES];
  size_t len = (size_t) (r->xe - r->xb + 1);
  int n = 0, safe = 1;

  /* p(cls) = 1 / (1 + sum_k exp (ea_k + fx ed_k)) over the other classes */
  for (int k = 0; k < p->c; k++) {
    if (k == cls)
      continue;
    float ka = a[k] - a[cls], kd = d[k] - d[cls];
    float eb = ka + r->fb * kd, ee = ka + r->fe * kd;
    float lo = eb < ee ? eb : ee, hi = eb < ee ? ee : eb;
    if (lo > SURE_ZERO) {
      memset (out + r->xb, 0, len);
      return;
    }
    if (hi > NEGLIGIBLE) {
      ea[n] = ka;
      ed[n] = kd;
      safe &= lo > -EXP_SAFE && hi < EXP_SAFE;
      n++;
    }
  }
  if (n == 0) {
    memset (out + r->xb, 255, len);
    return;
  }
  if (!r->linear) {
    float sum = 1.0f;
    for (int k = 0; k < n; k++)
      sum += expf (ea[k]);
    memset (out + r->xb, seg_f32_prob_u8 (1.0f / sum), len);
    return;
  }
  if (!safe) {
    for (int x = r->xb; x <= r->xe; x++) {
      float fx = run_fx (p, r, x);
      float sum = 1.0f;
      for (int k = 0; k < n; k++)
        sum += expf (ea[k] + fx * ed[k]);
      out[x] = seg_f32_prob_u8 (1.0f / sum);
    }
    return;
  }

  /* the terms of the next pixel are these times exp (step * ed) */
  float term[SEG_MAX_CLASSES], ratio[SEG_MAX_CLASSES];
  for (int k = 0; k < n; k++)
    ratio[k] = expf (p->step * ed[k]);
  for (int x = r->xb; x <= r->xe; x++) {
    if ((x - r->xb) % ANCHOR_EVERY == 0) {
      float fx = run_fx (p, r, x);
      for (int k = 0; k < n; k++)
        term[k] = expf (ea[k] + fx * ed[k]);
    }
    float sum = 1.0f;
    for (int k = 0; k < n; k++) {
      sum += term[k];
      term[k] *= ratio[k];
    }
    out[x] = seg_f32_prob_u8 (1.0f / sum);
  }
}

/* softmax_run's decision for one pixel whose scores are s. */
static inline uint8_t
softmax_pixel (const float *s, int c, int cls)
{
  float sum = 1.0f;
  for (int k = 0; k < c; k++) {
    if (k == cls)
      continue;
    float e = s[k] - s[cls];
    if (e > SURE_ZERO)
      return 0;
    if (e > NEGLIGIBLE)
      sum += expf (e);
  }
  return seg_f32_prob_u8 (1.0f / sum);
}

static void
probability_same_size (const float *src, int w, int c, int cls, uint8_t *dst,
    int stride, int row_begin, int row_end)
{
  const seg_f32_prob_u8_ukernel_fn prob_u8 = seg_f32_kernels_get ()->prob_u8;

  for (int y = row_begin; y < row_end; y++) {
    const float *s = src + (size_t) y * w * c;
    uint8_t *out = dst + (size_t) y * stride;
    if (c > 1) {
      for (int x = 0; x < w; x++, s += c)
        out[x] = softmax_pixel (s, c, cls);
    } else {
      /* The single-probability models' whole mask: the SIMD kernels
       * take it at a fraction of a scalar loop's time. */
      prob_u8 (w, s, cls == 0, out);
    }
  }
}

void
seg_post_probability_rows (const float *src, int h, int w, int c, int cls,
    uint8_t *dst, int dst_w, int dst_h, int stride, int row_begin, int row_end)
{
  assert (src && dst && h >= 1 && w >= 1);
  assert (c >= 1 && c <= SEG_MAX_CLASSES);
  assert (cls >= 0 && cls < (c == 1 ? 2 : c));
  assert (dst_w >= 1 && dst_h >= 1 && stride >= dst_w);
  assert (row_begin >= 0 && row_begin <= row_end && row_end <= dst_h);

  if (dst_w == w && dst_h == h) {
    probability_same_size (src, w, c, cls, dst, stride, row_begin, row_end);
    return;
  }

  post p;
  post_init (&p, src, h, w, c, dst_w);
  float a[SEG_MAX_CLASSES], d[SEG_MAX_CLASSES];
  for (int y = row_begin; y < row_end; y++) {
    int y0, y1;
    float fy;
    row_pos (y, h, dst_h, &y0, &y1, &fy);
    uint8_t *out = dst + (size_t) y * stride;
    run r;
    for (int x = 0; x < dst_w; x = r.xe + 1) {
      next_run (&p, x, &r);
      run_scores (&p, y0, y1, fy, &r, a, d);
      if (c > 1) {
        softmax_run (&p, &r, a, d, cls, out);
        continue;
      }
      /* the model's own probability of the foreground */
      for (int xi = r.xb; xi <= r.xe; xi++) {
        float fx = r.linear ? run_fx (&p, &r, xi) : 0.0f;
        float v = a[0] + fx * d[0];
        out[xi] = seg_f32_prob_u8 (cls == 1 ? v : 1.0f - v);
      }
    }
  }
}
