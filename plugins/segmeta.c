/* segmeta — the segmentation mask meta and its shared storage.
 *
 * The meta itself is a thin view onto a reference-counted GstSegMask; its
 * transform keeps that view on plain copies (what queue, tee and
 * gst_buffer_copy do) and drops it on scaling or region copies, where the
 * mask would no longer line up with the frame.
 */
#include "segmeta.h"

#include <gst/video/video.h>
#include <string.h>

struct _GstSegMask
{
  guint width, height, stride;
  guint8 *classes;
  guint8 *probability;
  guint num_classes;
  gchar **labels;
  gchar *model_name;
  gchar *model_sha256;
};

static void
mask_clear (gpointer data)
{
  GstSegMask *mask = data;

  g_free (mask->classes);
  g_free (mask->probability);
  g_strfreev (mask->labels);
  g_free (mask->model_name);
  g_free (mask->model_sha256);
}

GstSegMask *
gst_seg_mask_ref (GstSegMask *mask)
{
  g_return_val_if_fail (mask != NULL, NULL);
  return g_atomic_rc_box_acquire (mask);
}

void
gst_seg_mask_unref (GstSegMask *mask)
{
  if (mask)
    g_atomic_rc_box_release_full (mask, mask_clear);
}

G_DEFINE_BOXED_TYPE (GstSegMask, gst_seg_mask, gst_seg_mask_ref,
    gst_seg_mask_unref);

GstSegMask *
gst_seg_mask_new (guint width, guint height, gboolean with_classes,
    gboolean with_probability, guint num_classes, const gchar *const *labels,
    const gchar *model_name, const gchar *model_sha256)
{
  GstSegMask *mask;
  gsize plane;

  if (width == 0 || height == 0 || width > 65536 || height > 65536)
    return NULL;
  if (!with_classes && !with_probability)
    return NULL;
  if (num_classes == 0 || num_classes > 256)
    return NULL;

  mask = g_atomic_rc_box_new0 (GstSegMask);
  mask->width = width;
  mask->height = height;
  /* Rows aligned to 4 bytes so consumers may read words. */
  mask->stride = GST_ROUND_UP_4 (width);
  plane = (gsize) mask->stride * height;
  if (with_classes)
    mask->classes = g_malloc0 (plane);
  if (with_probability)
    mask->probability = g_malloc0 (plane);
  mask->num_classes = num_classes;
  mask->labels = g_new0 (gchar *, num_classes + 1);
  for (guint i = 0; i < num_classes; i++)
    mask->labels[i] =
        labels && labels[i] ? g_strdup (labels[i]) : g_strdup_printf ("%u", i);
  mask->model_name = g_strdup (model_name ? model_name : "");
  mask->model_sha256 = g_strdup (model_sha256 ? model_sha256 : "");
  return mask;
}

guint
gst_seg_mask_get_width (const GstSegMask *mask)
{
  return mask->width;
}

guint
gst_seg_mask_get_height (const GstSegMask *mask)
{
  return mask->height;
}

guint
gst_seg_mask_get_stride (const GstSegMask *mask)
{
  return mask->stride;
}

guint8 *
gst_seg_mask_get_classes (GstSegMask *mask)
{
  return mask->classes;
}

guint8 *
gst_seg_mask_get_probability (GstSegMask *mask)
{
  return mask->probability;
}

GType
gst_seg_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = {GST_META_TAG_VIDEO_STR,
      GST_META_TAG_VIDEO_SIZE_STR, GST_META_TAG_VIDEO_ORIENTATION_STR, NULL};

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstSegMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
meta_view (GstSegMeta *meta, GstSegMask *mask)
{
  meta->mask = gst_seg_mask_ref (mask);
  meta->width = mask->width;
  meta->height = mask->height;
  meta->stride = mask->stride;
  meta->classes = mask->classes;
  meta->probability = mask->probability;
  meta->num_classes = mask->num_classes;
  meta->labels = (const gchar *const *) mask->labels;
  meta->model_name = mask->model_name;
  meta->model_sha256 = mask->model_sha256;
}

static gboolean
seg_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstSegMeta *m = (GstSegMeta *) meta;

  m->mask = NULL;
  m->classes = m->probability = NULL;
  m->labels = NULL;
  m->model_name = m->model_sha256 = NULL;
  m->width = m->height = m->stride = m->num_classes = 0;
  m->pts = GST_CLOCK_TIME_NONE;
  m->latency = 0;
  m->age_frames = 0;
  m->age = 0;
  return TRUE;
}

static void
seg_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  GstSegMeta *m = (GstSegMeta *) meta;

  g_clear_pointer (&m->mask, gst_seg_mask_unref);
}

static gboolean
seg_meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
    GQuark type, gpointer data)
{
  GstSegMeta *src = (GstSegMeta *) meta;

  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GstMetaTransformCopy *copy = data;

    /* A region of the buffer is no longer the frame the mask covers. */
    if (copy->region)
      return FALSE;
    if (!src->mask)
      return FALSE;
    return gst_buffer_add_seg_meta (dest, src->mask, src->pts, src->latency,
               src->age_frames, src->age)
        != NULL;
  }
  /* Scaling and every other transform: drop it. */
  return FALSE;
}

const GstMetaInfo *
gst_seg_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) &info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_SEG_META_API_TYPE,
        "GstSegMeta", sizeof (GstSegMeta), seg_meta_init, seg_meta_free,
        seg_meta_transform);
    g_once_init_leave ((GstMetaInfo **) &info, (GstMetaInfo *) mi);
  }
  return info;
}

GstSegMeta *
gst_buffer_add_seg_meta (GstBuffer *buffer, GstSegMask *mask, GstClockTime pts,
    GstClockTime latency, guint64 age_frames, GstClockTime age)
{
  GstSegMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (mask != NULL, NULL);

  meta = (GstSegMeta *) gst_buffer_add_meta (buffer, GST_SEG_META_INFO, NULL);
  if (!meta)
    return NULL;
  meta_view (meta, mask);
  meta->pts = pts;
  meta->latency = latency;
  meta->age_frames = age_frames;
  meta->age = age;
  return meta;
}

GstSegMeta *
gst_buffer_get_seg_meta (GstBuffer *buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstSegMeta *) gst_buffer_get_meta (buffer, GST_SEG_META_API_TYPE);
}

GstSegMask *
gst_seg_meta_get_mask (GstSegMeta *meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->mask;
}
