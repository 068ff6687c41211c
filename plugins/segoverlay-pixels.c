/* segoverlay-pixels — see segoverlay-pixels.h. Moved out of the element
 * unchanged in arithmetic: every rounding here is what the element's tests
 * were written against. */
#include "segoverlay-pixels.h"

#include <math.h>
#include <string.h>

/* Guided filter regulariser, for luma and alpha scaled to [0, 1]: edges
 * with a luma step well above sqrt(eps) steer the mask. */
#define GUIDED_EPS 1e-2f

/* Colours of classes 2.. of multi-class models (class 1 uses `color`). */
static const guint8 palette[][3] = {
    {0, 0, 0},
    {0, 255, 0},
    {255, 0, 0},
    {0, 0, 255},
    {255, 255, 0},
    {255, 0, 255},
    {0, 255, 255},
    {255, 128, 0},
    {128, 0, 255},
    {0, 128, 255},
    {255, 0, 128},
    {128, 255, 0},
    {0, 255, 128},
    {128, 64, 0},
    {64, 0, 128},
    {0, 128, 64},
    {192, 192, 192},
};

static inline guint8 *
pixel (const SegPackedImage *img, guint x, guint y)
{
  return img->data + (gsize) y * img->stride + (gsize) x * img->pstride;
}

static inline guint8
blend (guint fg, guint bg, guint a)
{
  return (guint8) ((fg * a + bg * (255 - a) + 127) / 255);
}

static void
rgb_of (guint color, guint8 rgb[3])
{
  rgb[0] = (color >> 16) & 0xff;
  rgb[1] = (color >> 8) & 0xff;
  rgb[2] = color & 0xff;
}

void
seg_overlay_resize_rgb (const guint8 *src, guint sw, guint sh, guint8 *dst,
    guint dw, guint dh)
{
  for (guint y = 0; y < dh; y++) {
    gfloat fy = ((gfloat) y + 0.5f) * sh / dh - 0.5f;
    gint y0 = (gint) floorf (fy);
    gfloat wy = fy - y0;
    gint ya = CLAMP (y0, 0, (gint) sh - 1),
         yb = CLAMP (y0 + 1, 0, (gint) sh - 1);

    for (guint x = 0; x < dw; x++) {
      gfloat fx = ((gfloat) x + 0.5f) * sw / dw - 0.5f;
      gint x0 = (gint) floorf (fx);
      gfloat wx = fx - x0;
      gint xa = CLAMP (x0, 0, (gint) sw - 1),
           xb = CLAMP (x0 + 1, 0, (gint) sw - 1);

      for (guint c = 0; c < 3; c++) {
        gfloat top = src[((gsize) ya * sw + xa) * 3 + c] * (1 - wx)
            + src[((gsize) ya * sw + xb) * 3 + c] * wx;
        gfloat bot = src[((gsize) yb * sw + xa) * 3 + c] * (1 - wx)
            + src[((gsize) yb * sw + xb) * 3 + c] * wx;

        dst[((gsize) y * dw + x) * 3 + c] =
            (guint8) lrintf (top * (1 - wy) + bot * wy);
      }
    }
  }
}

void
seg_overlay_upsample (const SegMaskPlane *mask, gboolean binary, guint8 *alpha,
    guint w, guint h)
{
  guint mw = mask->width, mh = mask->height;

  for (guint y = 0; y < h; y++) {
    gfloat fy = ((gfloat) y + 0.5f) * mh / h - 0.5f;
    gint y0 = (gint) floorf (fy);
    gfloat wy = fy - y0;
    const guint8 *ra =
        mask->data + (gsize) CLAMP (y0, 0, (gint) mh - 1) * mask->stride;
    const guint8 *rb =
        mask->data + (gsize) CLAMP (y0 + 1, 0, (gint) mh - 1) * mask->stride;

    for (guint x = 0; x < w; x++) {
      gfloat fx = ((gfloat) x + 0.5f) * mw / w - 0.5f;
      gint x0 = (gint) floorf (fx);
      gfloat wx = fx - x0;
      gint xa = CLAMP (x0, 0, (gint) mw - 1);
      gint xb = CLAMP (x0 + 1, 0, (gint) mw - 1);
      gfloat a = ra[xa], b = ra[xb], c = rb[xa], d = rb[xb];
      gfloat v;

      if (binary) {
        a = a ? 255.0f : 0.0f;
        b = b ? 255.0f : 0.0f;
        c = c ? 255.0f : 0.0f;
        d = d ? 255.0f : 0.0f;
      }
      v = (a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy;
      alpha[(gsize) y * w + x] = (guint8) lrintf (v);
    }
  }
}

void
seg_overlay_luma (const SegPackedImage *img, guint8 *luma)
{
  guint w = img->width;

  for (guint y = 0; y < img->height; y++)
    for (guint x = 0; x < w; x++) {
      const guint8 *p = pixel (img, x, y);

      luma[(gsize) y * w + x] =
          (guint8) ((77 * p[img->off[0]] + 150 * p[img->off[1]]
                        + 29 * p[img->off[2]] + 128)
              >> 8);
    }
}

/* Vertical running sums of rows, then prefix sums along the row. */
void
seg_overlay_box_mean (const gfloat *src, gfloat *dst, guint w, guint h, guint r,
    gfloat *acc, gfloat *pre)
{
  memset (acc, 0, w * sizeof *acc);
  for (guint y = 0; y < MIN (r, h); y++)
    for (guint x = 0; x < w; x++)
      acc[x] += src[(gsize) y * w + x];
  for (guint y = 0; y < h; y++) {
    guint y0 = y > r ? y - r : 0, y1 = MIN (y + r, h - 1);
    gfloat *out = dst + (gsize) y * w;
    gfloat rows = (gfloat) (y1 - y0 + 1);

    if (y + r < h)
      for (guint x = 0; x < w; x++)
        acc[x] += src[(gsize) (y + r) * w + x];
    if (y > r)
      for (guint x = 0; x < w; x++)
        acc[x] -= src[(gsize) (y - r - 1) * w + x];

    pre[0] = 0.0f;
    for (guint x = 0; x < w; x++)
      pre[x + 1] = pre[x] + acc[x];
    for (guint x = 0; x < w; x++) {
      guint x0 = x > r ? x - r : 0, x1 = MIN (x + r, w - 1);

      out[x] = (pre[x1 + 1] - pre[x0]) / ((gfloat) (x1 - x0 + 1) * rows);
    }
  }
}

/* Locally the output is a linear function of the luma fitted to the
 * upsampled mask, so where the frame has an edge near the mask's soft ramp
 * the ramp collapses onto it, and where it has none the mask stays. */
void
seg_overlay_guided_refine (guint8 *alpha, const guint8 *luma, guint w, guint h,
    guint r, gfloat *planes, gfloat *line)
{
  gsize n = (gsize) w * h;
  gfloat *I = planes, *p = I + n, *mI = p + n, *mp = mI + n;
  gfloat *mIp = mp + n, *mII = mIp + n, *t = mII + n;
  gfloat *acc = line, *pre = line + w;

  for (gsize i = 0; i < n; i++) {
    I[i] = luma[i] * (1.0f / 255.0f);
    p[i] = alpha[i] * (1.0f / 255.0f);
  }
  seg_overlay_box_mean (I, mI, w, h, r, acc, pre);
  seg_overlay_box_mean (p, mp, w, h, r, acc, pre);
  for (gsize i = 0; i < n; i++)
    t[i] = I[i] * p[i];
  seg_overlay_box_mean (t, mIp, w, h, r, acc, pre);
  for (gsize i = 0; i < n; i++)
    t[i] = I[i] * I[i];
  seg_overlay_box_mean (t, mII, w, h, r, acc, pre);
  /* a into mIp, b into mp. */
  for (gsize i = 0; i < n; i++) {
    gfloat var = mII[i] - mI[i] * mI[i];
    gfloat cov = mIp[i] - mI[i] * mp[i];
    gfloat a = cov / (var + GUIDED_EPS);

    mIp[i] = a;
    mp[i] = mp[i] - a * mI[i];
  }
  seg_overlay_box_mean (mIp, mII, w, h, r, acc, pre);
  seg_overlay_box_mean (mp, mI, w, h, r, acc, pre);
  for (gsize i = 0; i < n; i++) {
    gfloat q = mII[i] * I[i] + mI[i];

    alpha[i] = (guint8) lrintf (CLAMP (q, 0.0f, 1.0f) * 255.0f);
  }
}

/* Class index of the image pixel (x, y), nearest mask pixel. */
static guint
class_at (const SegMaskPlane *m, guint x, guint y, guint w, guint h)
{
  guint mx = MIN ((guint) (((guint64) x * m->width) / w), m->width - 1);
  guint my = MIN ((guint) (((guint64) y * m->height) / h), m->height - 1);

  return m->data[(gsize) my * m->stride + mx];
}

static void
colour_of_class (guint cls, guint color, guint8 rgb[3])
{
  if (cls == 1 || cls >= G_N_ELEMENTS (palette))
    rgb_of (color, rgb);
  else
    memcpy (rgb, palette[cls], 3);
}

void
seg_overlay_tint (SegPackedImage *img, const guint8 *alpha,
    const SegMaskPlane *classes, guint strength, guint color)
{
  guint w = img->width, h = img->height;

  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      guint a = (alpha[(gsize) y * w + x] * strength) >> 8;
      guint cls = classes ? class_at (classes, x, y, w, h) : 1;
      guint8 *px = pixel (img, x, y);
      guint8 rgb[3];

      if (a == 0)
        continue;
      /* A soft edge of a multi-class map still gets a foreground colour. */
      colour_of_class (cls ? cls : 1, color, rgb);
      for (guint c = 0; c < 3; c++)
        px[img->off[c]] = blend (rgb[c], px[img->off[c]], a);
    }
}

void
seg_overlay_outline (SegPackedImage *img, const guint8 *alpha, guint width,
    guint color)
{
  guint w = img->width, h = img->height;
  const guint8 *a = alpha;
  guint8 rgb[3];

  rgb_of (color, rgb);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      gboolean edge = FALSE;

      if (a[(gsize) y * w + x] < 128)
        continue;
      /* Inside pixels within `width` of an outside one (or of the frame
       * border, which is not an edge of the mask) form the outline. */
      for (guint k = 1; k <= width && !edge; k++)
        edge = (x >= k && a[(gsize) y * w + x - k] < 128)
            || (x + k < w && a[(gsize) y * w + x + k] < 128)
            || (y >= k && a[(gsize) (y - k) * w + x] < 128)
            || (y + k < h && a[(gsize) (y + k) * w + x] < 128);
      if (!edge)
        continue;
      for (guint c = 0; c < 3; c++)
        pixel (img, x, y)[img->off[c]] = rgb[c];
    }
}

void
seg_overlay_box_blur_rgb (const guint8 *src, guint8 *dst, guint w, guint h,
    guint r, guint8 *tmp, guint32 *sums)
{
  guint n = 2 * r + 1;

  for (guint y = 0; y < h; y++) {
    const guint8 *s = src + (gsize) y * w * 3;
    guint8 *d = tmp + (gsize) y * w * 3;

    for (guint c = 0; c < 3; c++) {
      guint32 sum = 0;

      for (gint k = -(gint) r; k <= (gint) r; k++)
        sum += s[CLAMP (k, 0, (gint) w - 1) * 3 + c];
      for (guint x = 0; x < w; x++) {
        gint add = MIN ((gint) (x + r + 1), (gint) w - 1);
        gint sub = MAX ((gint) x - (gint) r, 0);

        d[x * 3 + c] = (guint8) ((sum + n / 2) / n);
        sum += s[add * 3 + c];
        sum -= s[sub * 3 + c];
      }
    }
  }
  /* Vertical: running column sums over whole rows, cache friendly. */
  memset (sums, 0, (gsize) w * 3 * sizeof *sums);
  for (gint k = -(gint) r; k <= (gint) r; k++) {
    const guint8 *s = tmp + (gsize) CLAMP (k, 0, (gint) h - 1) * w * 3;

    for (guint i = 0; i < w * 3; i++)
      sums[i] += s[i];
  }
  for (guint y = 0; y < h; y++) {
    const guint8 *add = tmp + (gsize) MIN (y + r + 1, h - 1) * w * 3;
    const guint8 *sub = tmp + (gsize) MAX ((gint) y - (gint) r, 0) * w * 3;
    guint8 *d = dst + (gsize) y * w * 3;

    for (guint i = 0; i < w * 3; i++) {
      d[i] = (guint8) ((sums[i] + n / 2) / n);
      sums[i] += add[i];
      sums[i] -= sub[i];
    }
  }
}

void
seg_overlay_composite (SegPackedImage *img, const guint8 *alpha,
    const guint8 *bg)
{
  guint w = img->width;

  for (guint y = 0; y < img->height; y++)
    for (guint x = 0; x < w; x++) {
      gsize i = (gsize) y * w + x;
      guint8 *px = pixel (img, x, y);

      for (guint c = 0; c < 3; c++)
        px[img->off[c]] = blend (px[img->off[c]], bg[i * 3 + c], alpha[i]);
    }
}

void
seg_overlay_to_rgb (const SegPackedImage *img, guint8 *dst)
{
  guint w = img->width;

  for (guint y = 0; y < img->height; y++)
    for (guint x = 0; x < w; x++) {
      const guint8 *px = pixel (img, x, y);

      for (guint c = 0; c < 3; c++)
        dst[((gsize) y * w + x) * 3 + c] = px[img->off[c]];
    }
}

void
seg_overlay_fill_rgb (guint8 *dst, gsize n, guint color)
{
  guint8 rgb[3];

  rgb_of (color, rgb);
  for (gsize i = 0; i < n; i++)
    memcpy (dst + i * 3, rgb, 3);
}

void
seg_overlay_to_rgba (const SegPackedImage *img, const guint8 *alpha,
    guint8 *dst, gsize dst_stride)
{
  guint w = img->width;

  for (guint y = 0; y < img->height; y++) {
    guint8 *row = dst + (gsize) y * dst_stride;

    for (guint x = 0; x < w; x++) {
      const guint8 *px = pixel (img, x, y);

      row[x * 4] = px[img->off[0]];
      row[x * 4 + 1] = px[img->off[1]];
      row[x * 4 + 2] = px[img->off[2]];
      row[x * 4 + 3] = alpha[(gsize) y * w + x];
    }
  }
}
