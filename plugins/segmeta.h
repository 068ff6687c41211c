/* segmeta — the segmentation mask as a GstMeta on video buffers.
 *
 * The `segmenter` element attaches one GstSegMeta to each buffer it has a
 * mask for; `segoverlay`, the daemon and applications read it with
 * gst_buffer_get_seg_meta(). The pixel planes live in a shared, immutable,
 * reference-counted GstSegMask, so copying the meta (tee, queue,
 * gst_buffer_copy) costs a reference, not a copy. Scaling or cropping
 * transforms drop the meta: the mask would no longer line up with the
 * frame.
 */
#ifndef GST_SEG_META_H
#define GST_SEG_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* The library exports what carries this and nothing else (it is built with
 * hidden visibility); tests/elements checks the two with
 * scripts/check-exports.py. */
#if defined(SEGMETA_BUILDING) && defined(__GNUC__)
#define SEGMETA_API __attribute__ ((visibility ("default")))
#else
#define SEGMETA_API
#endif

/* Shared storage of one mask: the planes plus a description of the model
 * that produced them. Immutable once attached to a buffer. */
typedef struct _GstSegMask GstSegMask;

#define GST_TYPE_SEG_MASK (gst_seg_mask_get_type ())
SEGMETA_API GType gst_seg_mask_get_type (void);

/* Creates a mask of width x height with the planes asked for (at least one),
 * zero-filled, rows of gst_seg_mask_get_stride() bytes. `labels` holds
 * num_classes strings (NULL: "0", "1", ...). All strings are copied.
 * Returns NULL if the size is 0 or no plane is asked for.
 * (transfer full): release with gst_seg_mask_unref(). */
SEGMETA_API GstSegMask *
gst_seg_mask_new (guint width, guint height, gboolean with_classes,
    gboolean with_probability, guint num_classes, const gchar *const *labels,
    const gchar *model_name, const gchar *model_sha256);

SEGMETA_API GstSegMask *gst_seg_mask_ref (GstSegMask *mask);
SEGMETA_API void gst_seg_mask_unref (GstSegMask *mask);

SEGMETA_API guint gst_seg_mask_get_width (const GstSegMask *mask);
SEGMETA_API guint gst_seg_mask_get_height (const GstSegMask *mask);
SEGMETA_API guint gst_seg_mask_get_stride (const GstSegMask *mask);

/* Writable planes for the producer, before the mask is attached anywhere;
 * NULL when the plane was not asked for. (transfer none) */
SEGMETA_API guint8 *gst_seg_mask_get_classes (GstSegMask *mask);
SEGMETA_API guint8 *gst_seg_mask_get_probability (GstSegMask *mask);

typedef struct _GstSegMeta GstSegMeta;

/**
 * GstSegMeta:
 * @width, @height: mask size in pixels (model or frame resolution, as the
 *   producer's `output-size` chose); the mask covers the whole frame.
 * @stride: bytes per row of both planes.
 * @classes: class index per pixel (index into @labels), or NULL.
 * @probability: probability per pixel that it is not background (class 0),
 *   0..255, or NULL.
 * @num_classes, @labels: the model's classes; labels[0] is background.
 * @model_name, @model_sha256: model file name and hex sha256 digest.
 * @pts: PTS of the frame the mask was computed from.
 * @latency: time the inference took, in ns.
 * @age_frames: frames between that source frame and this buffer (0: the
 *   mask was computed from this very buffer).
 * @age: PTS difference between this buffer and the source frame, in ns
 *   (0 when either PTS is unknown).
 *
 * Every pointer is valid while the meta lives (transfer none).
 */
struct _GstSegMeta
{
  GstMeta meta;

  guint width;
  guint height;
  guint stride;
  const guint8 *classes;
  const guint8 *probability;
  guint num_classes;
  const gchar *const *labels;
  const gchar *model_name;
  const gchar *model_sha256;
  GstClockTime pts;
  GstClockTime latency;
  guint64 age_frames;
  GstClockTime age;

  /*< private >*/
  GstSegMask *mask;
  gpointer _gst_reserved[GST_PADDING];
};

#define GST_SEG_META_API_TYPE (gst_seg_meta_api_get_type ())
#define GST_SEG_META_INFO (gst_seg_meta_get_info ())

SEGMETA_API GType gst_seg_meta_api_get_type (void);
SEGMETA_API const GstMetaInfo *gst_seg_meta_get_info (void);

/* Attaches `mask` (a new reference is taken) to a writable buffer.
 * Returns the meta (transfer none), or NULL if an argument is invalid. */
SEGMETA_API GstSegMeta *
gst_buffer_add_seg_meta (GstBuffer *buffer, GstSegMask *mask, GstClockTime pts,
    GstClockTime latency, guint64 age_frames, GstClockTime age);

/* The mask of `buffer`, or NULL if it has none. (transfer none) */
SEGMETA_API GstSegMeta *gst_buffer_get_seg_meta (GstBuffer *buffer);

/* The shared mask storage behind `meta` (transfer none): take a reference
 * with gst_seg_mask_ref() to keep the mask beyond the buffer's life without
 * holding on to the video buffer itself. */
SEGMETA_API GstSegMask *gst_seg_meta_get_mask (GstSegMeta *meta);

G_END_DECLS

#endif /* GST_SEG_META_H */
