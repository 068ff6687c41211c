/* segoverlay-pixels — the pixel work of the segoverlay element as plain C
 * on arrays: mask upsampling, guided refinement, tint, outline, blur and
 * compositing. Nothing here knows GObject or GstVideoFrame, so each piece
 * is tested on its own against a plain reference
 * (tests/elements/test-overlay-pixels.c); the element maps its frames into
 * these descriptors and keeps properties, caps and scratch buffers.
 */
#ifndef SEGOVERLAY_PIXELS_H
#define SEGOVERLAY_PIXELS_H

#include <glib.h>

G_BEGIN_DECLS

/* A packed image of 3 or 4 bytes per pixel in any channel order (plane 0
 * of an RGB-family frame), or a one-byte plane with all offsets 0. */
typedef struct
{
  guint8 *data;
  gsize stride;  /* bytes per row */
  guint pstride; /* bytes per pixel */
  guint off[3];  /* byte offsets of R, G and B in a pixel */
  guint width, height;
} SegPackedImage;

/* A mask plane at the model's resolution. */
typedef struct
{
  const guint8 *data;
  gsize stride;
  guint width, height;
} SegMaskPlane;

/* Bilinear resize of a packed 3-byte image, half-pixel centres. */
void seg_overlay_resize_rgb (const guint8 *src, guint sw, guint sh, guint8 *dst,
    guint dw, guint dh);

/* Bilinear upsample of `mask` into `alpha` (w x h, tightly packed). With
 * `binary`, non-zero mask values count as 255 (a class map's foreground). */
void seg_overlay_upsample (const SegMaskPlane *mask, gboolean binary,
    guint8 *alpha, guint w, guint h);

/* Luma (BT.601 weights, full range) of `img` into `luma` (tightly packed).
 * The weights sum to 256, so a one-byte plane with all offsets 0 comes
 * back unchanged. */
void seg_overlay_luma (const SegPackedImage *img, guint8 *luma);

/* He, Sun and Tang's guided filter on `alpha` with `luma` as guide, window
 * radius r. `planes` holds 7 * w * h floats, `line` 2 * w + 1. */
void seg_overlay_guided_refine (guint8 *alpha, const guint8 *luma, guint w,
    guint h, guint r, gfloat *planes, gfloat *line);

/* Mean over a (2r+1)^2 window clipped to the image, normalised by the
 * number of pixels inside it. `acc` holds w floats, `pre` w + 1. */
void seg_overlay_box_mean (const gfloat *src, gfloat *dst, guint w, guint h,
    guint r, gfloat *acc, gfloat *pre);

/* Tints `img` where `alpha` (img's size) is set, with `strength` 0..256
 * (opacity); each pixel takes the colour of its class in `classes`
 * (nearest mask pixel), or `color` (0xAARRGGBB) for class 1 and for a
 * probability mask (`classes` NULL). */
void seg_overlay_tint (SegPackedImage *img, const guint8 *alpha,
    const SegMaskPlane *classes, guint strength, guint color);

/* Paints foreground pixels within `width` of a background one. */
void seg_overlay_outline (SegPackedImage *img, const guint8 *alpha, guint width,
    guint color);

/* One horizontal and one vertical box pass of radius r over a packed
 * 3-byte w x h image, edges clamped; `src` may be `dst`. `tmp` holds
 * w * h * 3 bytes, `sums` w * 3. */
void seg_overlay_box_blur_rgb (const guint8 *src, guint8 *dst, guint w, guint h,
    guint r, guint8 *tmp, guint32 *sums);

/* Blends `img` (foreground) over `bg` (packed 3-byte RGB, img's size). */
void seg_overlay_composite (SegPackedImage *img, const guint8 *alpha,
    const guint8 *bg);

/* Copies `img` into packed 3-byte RGB. */
void seg_overlay_to_rgb (const SegPackedImage *img, guint8 *dst);

/* Fills n packed RGB pixels with `color` (0xAARRGGBB). */
void seg_overlay_fill_rgb (guint8 *dst, gsize n, guint color);

/* RGBA rows of `dst_stride` bytes: img's colour with `alpha` as alpha. */
void seg_overlay_to_rgba (const SegPackedImage *img, const guint8 *alpha,
    guint8 *dst, gsize dst_stride);

G_END_DECLS

#endif /* SEGOVERLAY_PIXELS_H */
