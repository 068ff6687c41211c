/* Frame to model input in one pass. Each destination pixel blends four
 * source taps (bilinear, half-pixel centres), and each tap is converted to
 * RGB before the blend, so a YUV frame is never expanded into an RGB image
 * and no resized copy exists. The normalisation is folded into one
 * multiply-add per channel. Nothing here allocates: it runs per frame, on
 * rows split across the session's threads. */
#include "preprocess.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

#define MAX_FRAME_DIM 16384
#define MAX_DST_DIM 4096

static const struct
{
  const char *name;
  int planes;
  bool even_width, even_height; /* chroma subsampling */
  int bpp, off[3]; /* packed RGB only: bytes per pixel, offsets of R, G, B */
} formats[] = {
    [SEG_PIXEL_RGB] = {"RGB", 1, false, false, 3, {0, 1, 2}},
    [SEG_PIXEL_BGR] = {"BGR", 1, false, false, 3, {2, 1, 0}},
    [SEG_PIXEL_RGBX] = {"RGBx", 1, false, false, 4, {0, 1, 2}},
    [SEG_PIXEL_BGRX] = {"BGRx", 1, false, false, 4, {2, 1, 0}},
    [SEG_PIXEL_XRGB] = {"xRGB", 1, false, false, 4, {1, 2, 3}},
    [SEG_PIXEL_XBGR] = {"xBGR", 1, false, false, 4, {3, 2, 1}},
    [SEG_PIXEL_RGBA] = {"RGBA", 1, false, false, 4, {0, 1, 2}},
    [SEG_PIXEL_BGRA] = {"BGRA", 1, false, false, 4, {2, 1, 0}},
    [SEG_PIXEL_NV12] = {"NV12", 2, true, true, 0, {0}},
    [SEG_PIXEL_I420] = {"I420", 3, true, true, 0, {0}},
    [SEG_PIXEL_YUY2] = {"YUY2", 1, true, false, 0, {0}},
    [SEG_PIXEL_GRAY8] = {"GRAY8", 1, false, false, 0, {0}},
};

#define N_FORMATS ((int) (sizeof formats / sizeof formats[0]))

const char *
seg_pixel_format_name (seg_pixel_format format)
{
  return (unsigned) format < (unsigned) N_FORMATS ? formats[format].name : "?";
}

/* Bytes one row of `plane` holds; width is already known to be even where
 * the format subsamples it. */
static int
plane_row_bytes (seg_pixel_format format, int plane, int width)
{
  switch (format) {
    case SEG_PIXEL_RGB:
    case SEG_PIXEL_BGR:
      return 3 * width;
    case SEG_PIXEL_RGBX:
    case SEG_PIXEL_BGRX:
    case SEG_PIXEL_XRGB:
    case SEG_PIXEL_XBGR:
    case SEG_PIXEL_RGBA:
    case SEG_PIXEL_BGRA:
      return 4 * width;
    case SEG_PIXEL_NV12: /* Y, then width / 2 interleaved U V pairs */
    case SEG_PIXEL_GRAY8:
      return width;
    case SEG_PIXEL_I420:
      return plane == 0 ? width : width / 2;
    case SEG_PIXEL_YUY2:
      return 2 * width;
  }
  return 0;
}

static seg_status invalid (char *err_msg, size_t err_len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static seg_status
invalid (char *err_msg, size_t err_len, const char *fmt, ...)
{
  if (err_msg && err_len > 0) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err_msg, err_len, fmt, ap);
    va_end (ap);
  }
  return SEG_ERR_INVALID;
}

seg_status
seg_frame_validate (const seg_frame *frame, char *err_msg, size_t err_len)
{
  if (!frame)
    return invalid (err_msg, err_len, "frame: no frame given");
  if ((unsigned) frame->format >= (unsigned) N_FORMATS)
    return invalid (err_msg, err_len, "frame: unknown pixel format %d",
        (int) frame->format);
  const char *name = formats[frame->format].name;
  if (frame->width < 1 || frame->width > MAX_FRAME_DIM)
    return invalid (err_msg, err_len, "frame: width %d is outside 1..%d",
        frame->width, MAX_FRAME_DIM);
  if (frame->height < 1 || frame->height > MAX_FRAME_DIM)
    return invalid (err_msg, err_len, "frame: height %d is outside 1..%d",
        frame->height, MAX_FRAME_DIM);
  if (formats[frame->format].even_width && frame->width % 2)
    return invalid (err_msg, err_len,
        "frame: %s subsamples chroma horizontally, width %d must be even", name,
        frame->width);
  if (formats[frame->format].even_height && frame->height % 2)
    return invalid (err_msg, err_len,
        "frame: %s subsamples chroma vertically, height %d must be even", name,
        frame->height);
  for (int p = 0; p < formats[frame->format].planes; p++) {
    if (!frame->planes[p])
      return invalid (err_msg, err_len, "frame: %s plane %d is NULL", name, p);
    int need = plane_row_bytes (frame->format, p, frame->width);
    /* need >= 1, so this also rejects zero and negative strides */
    if (frame->strides[p] < need)
      return invalid (err_msg, err_len,
          "frame: plane %d stride %d is smaller than the %d bytes a row "
          "needs",
          p, frame->strides[p], need);
  }
  return SEG_OK;
}

/* The two source samples a destination index blends, and the weight of the
 * second. */
typedef struct
{
  int i0, i1;
  float f;
} lerp;

/* Walks destination indices 0, 1, ... keeping the source position
 * (d + 0.5) * src_n / dst_n - 0.5 as the exact fraction i + rem / den:
 * in float, positions in a 16384-wide frame keep only 9 fraction bits, and
 * a division per pixel would cost as much as the conversion itself. */
typedef struct
{
  int64_t i, rem, den, q, r;
  double inv_den;
  int src_n;
} stepper;

static void
stepper_init (stepper *s, int d, int src_n, int dst_n)
{
  int64_t num = (2 * (int64_t) d + 1) * src_n - dst_n;
  s->den = 2 * (int64_t) dst_n;
  s->q = 2 * (int64_t) src_n / s->den;
  s->r = 2 * (int64_t) src_n % s->den;
  s->i = num / s->den;
  s->rem = num % s->den;
  if (s->rem < 0) { /* floor, not truncation */
    s->rem += s->den;
    s->i--;
  }
  s->inv_den = 1.0 / (double) s->den;
  s->src_n = src_n;
}

static inline void
stepper_next (stepper *s)
{
  s->i += s->q;
  s->rem += s->r;
  if (s->rem >= s->den) {
    s->rem -= s->den;
    s->i++;
  }
}

static inline lerp
stepper_get (const stepper *s)
{
  lerp l;
  if (s->i < 0) {
    l.i0 = 0;
    l.f = 0.0f;
  } else if (s->i >= s->src_n - 1) {
    l.i0 = s->src_n - 1;
    l.f = 0.0f;
  } else {
    l.i0 = (int) s->i;
    l.f = (float) ((double) s->rem * s->inv_den);
  }
  l.i1 = l.i0 + (l.i0 < s->src_n - 1);
  return l;
}

static lerp
source_pos (int d, int src_n, int dst_n)
{
  stepper s;
  stepper_init (&s, d, src_n, dst_n);
  return stepper_get (&s);
}

typedef struct
{
  float scale[3], bias[3];
} norm;

static inline float
blend (float a, float b, float c, float d, float fx, float fy)
{
  float top = a + fx * (b - a);
  float bottom = c + fx * (d - c);
  return top + fy * (bottom - top);
}

static inline void
put (float *out, const norm *n, const float rgb[3])
{
  out[0] = rgb[0] * n->scale[0] + n->bias[0];
  out[1] = rgb[1] * n->scale[1] + n->bias[1];
  out[2] = rgb[2] * n->scale[2] + n->bias[2];
}

static void
row_packed (const seg_frame *frame, lerp ly, float *out, int dst_w,
    const norm *n)
{
  int bpp = formats[frame->format].bpp;
  const int *off = formats[frame->format].off;
  const uint8_t *r0 = frame->planes[0] + (size_t) ly.i0 * frame->strides[0];
  const uint8_t *r1 = frame->planes[0] + (size_t) ly.i1 * frame->strides[0];

  stepper sx;
  stepper_init (&sx, 0, frame->width, dst_w);
  for (int x = 0; x < dst_w; x++, out += 3, stepper_next (&sx)) {
    lerp lx = stepper_get (&sx);
    size_t x0 = (size_t) lx.i0 * bpp, x1 = (size_t) lx.i1 * bpp;
    const uint8_t *a = r0 + x0, *b = r0 + x1, *c = r1 + x0, *d = r1 + x1;
    float rgb[3];
    for (int k = 0; k < 3; k++) {
      int o = off[k];
      rgb[k] = blend (a[o], b[o], c[o], d[o], lx.f, ly.f);
    }
    put (out, n, rgb);
  }
}

/* Where the Y, U and V samples of one source row are: Y of column x at
 * y[x * ystep], its chroma at u/v[(x / 2) * cstep]. */
typedef struct
{
  const uint8_t *y, *u, *v;
} yuv_row;

static inline float
clamp255 (float v)
{
  /* max (v, 0) as (v + |v|) / 2, exact in float: GCC compiles the plain
   * `v < 0 ? 0 : v` to a branch, which noisy chroma mispredicts (NV12 ran
   * five times slower); the upper bound does become a minss */
  v = (v + fabsf (v)) * 0.5f;
  return v < 255.0f ? v : 255.0f;
}

static inline void
tap_yuv (const yuv_row *r, int x, int ystep, int cstep, float rgb[3])
{
  float y = 1.164f * (float) (r->y[(size_t) x * ystep] - 16);
  float u = (float) (r->u[(size_t) (x >> 1) * cstep] - 128);
  float v = (float) (r->v[(size_t) (x >> 1) * cstep] - 128);
  rgb[0] = clamp255 (y + 1.596f * v);
  rgb[1] = clamp255 (y - 0.391f * u - 0.813f * v);
  rgb[2] = clamp255 (y + 2.018f * u);
}

static yuv_row
yuv_row_at (const seg_frame *frame, int sy)
{
  const uint8_t *const *p = frame->planes;
  const int *s = frame->strides;
  yuv_row r;
  switch (frame->format) {
    case SEG_PIXEL_NV12:
      r.y = p[0] + (size_t) sy * s[0];
      r.u = p[1] + (size_t) (sy >> 1) * s[1];
      r.v = r.u + 1;
      break;
    case SEG_PIXEL_I420:
      r.y = p[0] + (size_t) sy * s[0];
      r.u = p[1] + (size_t) (sy >> 1) * s[1];
      r.v = p[2] + (size_t) (sy >> 1) * s[2];
      break;
    default: /* YUY2: Y0 U Y1 V */
      r.y = p[0] + (size_t) sy * s[0];
      r.u = r.y + 1;
      r.v = r.y + 3;
      break;
  }
  return r;
}

static void
row_yuv (const seg_frame *frame, lerp ly, float *out, int dst_w, const norm *n)
{
  int ystep = frame->format == SEG_PIXEL_YUY2 ? 2 : 1;
  int cstep = frame->format == SEG_PIXEL_YUY2 ? 4
      : frame->format == SEG_PIXEL_NV12       ? 2
                                              : 1;
  yuv_row r0 = yuv_row_at (frame, ly.i0), r1 = yuv_row_at (frame, ly.i1);

  stepper sx;
  stepper_init (&sx, 0, frame->width, dst_w);
  for (int x = 0; x < dst_w; x++, out += 3, stepper_next (&sx)) {
    lerp lx = stepper_get (&sx);
    float a[3], b[3], c[3], d[3], rgb[3];
    tap_yuv (&r0, lx.i0, ystep, cstep, a);
    tap_yuv (&r0, lx.i1, ystep, cstep, b);
    tap_yuv (&r1, lx.i0, ystep, cstep, c);
    tap_yuv (&r1, lx.i1, ystep, cstep, d);
    for (int k = 0; k < 3; k++)
      rgb[k] = blend (a[k], b[k], c[k], d[k], lx.f, ly.f);
    put (out, n, rgb);
  }
}

static void
row_gray (const seg_frame *frame, lerp ly, float *out, int dst_w, const norm *n)
{
  const uint8_t *r0 = frame->planes[0] + (size_t) ly.i0 * frame->strides[0];
  const uint8_t *r1 = frame->planes[0] + (size_t) ly.i1 * frame->strides[0];

  stepper sx;
  stepper_init (&sx, 0, frame->width, dst_w);
  for (int x = 0; x < dst_w; x++, out += 3, stepper_next (&sx)) {
    lerp lx = stepper_get (&sx);
    float g = blend (r0[lx.i0], r0[lx.i1], r1[lx.i0], r1[lx.i1], lx.f, ly.f);
    float rgb[3] = {g, g, g};
    put (out, n, rgb);
  }
}

void
seg_preprocess_rows (const seg_frame *frame, float *dst, int dst_w, int dst_h,
    const float mean[3], const float std[3], int row_begin, int row_end)
{
  assert (frame && dst && mean && std);
  assert (dst_w >= 1 && dst_w <= MAX_DST_DIM);
  assert (dst_h >= 1 && dst_h <= MAX_DST_DIM);
  assert (row_begin >= 0 && row_begin <= row_end && row_end <= dst_h);
  assert ((unsigned) frame->format < (unsigned) N_FORMATS);

  /* ((v / 255) - mean) / std as v * scale + bias */
  norm n;
  for (int k = 0; k < 3; k++) {
    n.scale[k] = 1.0f / (255.0f * std[k]);
    n.bias[k] = -mean[k] / std[k];
  }

  for (int y = row_begin; y < row_end; y++) {
    lerp ly = source_pos (y, frame->height, dst_h);
    float *out = dst + (size_t) y * dst_w * 3;
    switch (frame->format) {
      case SEG_PIXEL_NV12:
      case SEG_PIXEL_I420:
      case SEG_PIXEL_YUY2:
        row_yuv (frame, ly, out, dst_w, &n);
        break;
      case SEG_PIXEL_GRAY8:
        row_gray (frame, ly, out, dst_w, &n);
        break;
      default:
        row_packed (frame, ly, out, dst_w, &n);
        break;
    }
  }
}

/* ---- plans: the per-column tables the SIMD kernels read ---- */

void
seg_preprocess_plan_clear (seg_preprocess_plan *plan)
{
  free (plan->mem);
  memset (plan, 0, sizeof *plan);
}

/* Byte offset of component k of source column i inside its plane's row. */
static int
component_offset (seg_pixel_format format, int k, int i)
{
  switch (format) {
    case SEG_PIXEL_GRAY8:
      return i;
    case SEG_PIXEL_YUY2:
      return k == 0 ? 2 * i : 4 * (i >> 1) + (k == 1 ? 1 : 3);
    case SEG_PIXEL_NV12:
      return k == 0 ? i : 2 * (i >> 1) + (k - 1);
    case SEG_PIXEL_I420:
      return k == 0 ? i : i >> 1;
    default:
      return i * formats[format].bpp + formats[format].off[k];
  }
}

/* Which plane holds component k: slots share a word only within one. */
static int
component_plane (seg_pixel_format format, int k)
{
  if (format == SEG_PIXEL_I420)
    return k;
  if (format == SEG_PIXEL_NV12)
    return k > 0;
  return 0;
}

static int
component_row_bytes (seg_pixel_format format, int k, int width)
{
  if (format == SEG_PIXEL_I420 || format == SEG_PIXEL_NV12)
    return plane_row_bytes (format, k == 0 ? 0 : 1, width);
  return plane_row_bytes (format, 0, width);
}

void
seg_preprocess_plan_update (seg_preprocess_plan *plan, const seg_frame *frame,
    int dst_w, int dst_h, const float mean[3], const float std[3])
{
  seg_pixel_format format = frame->format;
  int w = frame->width;

  if (plan->mem && plan->format == (int) format && plan->src_w == w
      && plan->src_h == frame->height && plan->dst_w == dst_w
      && plan->dst_h == dst_h && !memcmp (plan->mean, mean, sizeof plan->mean)
      && !memcmp (plan->std, std, sizeof plan->std))
    return;
  seg_preprocess_plan_clear (plan);
  plan->format = (int) format;
  plan->src_w = w;
  plan->src_h = frame->height;
  plan->dst_w = dst_w;
  plan->dst_h = dst_h;
  memcpy (plan->mean, mean, sizeof plan->mean);
  memcpy (plan->std, std, sizeof plan->std);

  const seg_f32_kernels *k = seg_f32_kernels_get ();
  if (!k->preprocess)
    return;
  for (int c = 0; c < 3; c++)
    if (component_row_bytes (format, c, w) < 4)
      return;
  size_t cols = (size_t) dst_w, rows = (size_t) dst_h;
  size_t bytes = (12 * sizeof (int32_t) + sizeof (float)) * cols
      + (2 * sizeof (int32_t) + sizeof (float)) * rows;
  char *mem = malloc (bytes);
  if (!mem)
    return;
  plan->mem = mem;

  seg_f32_preprocess_params *p = &plan->params;
  int32_t *t = (int32_t *) mem;
  int32_t *word[6], *shift[6];
  for (int i = 0; i < 6; i++) {
    p->word[i] = word[i] = t + (size_t) (2 * i) * cols;
    p->shift[i] = shift[i] = t + (size_t) (2 * i + 1) * cols;
  }
  float *fx = (float *) (t + 12 * cols);
  p->fx = fx;
  plan->row0 = (int32_t *) (fx + cols);
  plan->row1 = plan->row0 + rows;
  plan->fy = (float *) (plan->row1 + rows);

  /* Source columns of each output column's taps; the byte offsets are
   * recomputed from them below (cheap, once per geometry). */
  int32_t *col[2] = {shift[4], shift[5]};
  stepper sx;
  stepper_init (&sx, 0, w, dst_w);
  for (int x = 0; x < dst_w; x++, stepper_next (&sx)) {
    lerp l = stepper_get (&sx);
    fx[x] = l.f;
    col[0][x] = l.i0;
    col[1][x] = l.i1;
  }
  /* Greedy slots: each tap's component joins the first slot of its plane
   * whose word holds its byte in every column, else opens a slot whose
   * word starts at the lowest byte this tap needs from that plane. Shift
   * tables 4 and 5 hold the columns until the last two components, which
   * read them before writing their own shifts. */
  int slot_plane[6];
  p->slots = 0;
  for (int tap = 0; tap < 2; tap++)
    for (int c = 0; c < 3; c++) {
      int plane = component_plane (format, c);
      int last = component_row_bytes (format, c, w) - 4;
      int found = -1;
      for (int s = 0; s < p->slots && found < 0; s++) {
        if (slot_plane[s] != plane)
          continue;
        int fits = 1;
        for (int x = 0; x < dst_w && fits; x++) {
          int off = component_offset (format, c, col[tap][x]);
          fits = off >= word[s][x] && off - word[s][x] <= 3;
        }
        if (fits)
          found = s;
      }
      if (found < 0) {
        found = p->slots++;
        slot_plane[found] = plane;
        p->slot_row[found] = c;
        for (int x = 0; x < dst_w; x++) {
          int lo = component_offset (format, c, col[tap][x]);
          for (int o = 0; o < 3; o++) {
            int off = component_offset (format, o, col[tap][x]);
            if (component_plane (format, o) == plane && off < lo
                && component_offset (format, c, col[tap][x]) - off <= 3)
              lo = off;
          }
          word[found][x] = lo < last ? lo : last;
        }
      }
      p->slot[tap * 3 + c] = found;
      int32_t *sh = shift[tap * 3 + c];
      for (int x = 0; x < dst_w; x++)
        sh[x] =
            8 * (component_offset (format, c, col[tap][x]) - word[found][x]);
    }
  for (int y = 0; y < dst_h; y++) {
    lerp l = source_pos (y, frame->height, dst_h);
    plan->row0[y] = l.i0;
    plan->row1[y] = l.i1;
    plan->fy[y] = l.f;
  }
  for (int c = 0; c < 3; c++) {
    p->scale[c] = 1.0f / (255.0f * std[c]);
    p->bias[c] = -mean[c] / std[c];
  }
  p->yuv = format == SEG_PIXEL_NV12 || format == SEG_PIXEL_I420
      || format == SEG_PIXEL_YUY2;
  plan->kernel = k->preprocess;
}

/* Where source row sy of component k starts. */
static const uint8_t *
component_row (const seg_frame *frame, int k, int sy)
{
  switch (frame->format) {
    case SEG_PIXEL_NV12:
      return k == 0 ? frame->planes[0] + (size_t) sy * frame->strides[0]
                    : frame->planes[1] + (size_t) (sy >> 1) * frame->strides[1];
    case SEG_PIXEL_I420:
      return k == 0 ? frame->planes[0] + (size_t) sy * frame->strides[0]
                    : frame->planes[k] + (size_t) (sy >> 1) * frame->strides[k];
    default:
      return frame->planes[0] + (size_t) sy * frame->strides[0];
  }
}

void
seg_preprocess_plan_rows (const seg_preprocess_plan *plan,
    const seg_frame *frame, float *dst, int row_begin, int row_end)
{
  assert ((int) frame->format == plan->format && frame->width == plan->src_w
      && frame->height == plan->src_h);
  if (!plan->kernel) {
    seg_preprocess_rows (frame, dst, plan->dst_w, plan->dst_h, plan->mean,
        plan->std, row_begin, row_end);
    return;
  }
  for (int y = row_begin; y < row_end; y++) {
    const uint8_t *top[3], *bottom[3];
    for (int k = 0; k < 3; k++) {
      top[k] = component_row (frame, k, plan->row0[y]);
      bottom[k] = component_row (frame, k, plan->row1[y]);
    }
    plan->kernel ((size_t) plan->dst_w, top, bottom, plan->fy[y], &plan->params,
        dst + (size_t) y * plan->dst_w * 3);
  }
}
