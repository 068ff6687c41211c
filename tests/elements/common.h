/* Helpers shared by the element tests: model paths from the environment
 * meson sets and random buffers; CHECK and the RNG come from check.h. */
#ifndef SEGD_TEST_ELEMENTS_COMMON_H
#define SEGD_TEST_ELEMENTS_COMMON_H

#include <gst/check/gstharness.h>
#include <gst/gst.h>

#include "../check.h"

/* (transfer full) path of a model in SEG_MODEL_DIR. A missing model skips
 * the test (exit TEST_SKIP, saying how to get it) instead of failing it. */
static inline gchar *
test_model (const gchar *name)
{
  const gchar *dir = g_getenv ("SEG_MODEL_DIR");
  gchar *path = g_build_filename (dir ? dir : "models", name, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    printf ("SKIP: %s is missing (scripts/fetch-models.sh fetches it)\n", path);
    exit (TEST_SKIP);
  }
  return path;
}

static inline GstBuffer *
test_random_buffer (gsize size, guint32 *rng)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < size; i++)
    map.data[i] = (guint8) (test_rand (rng) >> 24);
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* A harness around `e` (transfer full), configured before the harness
 * starts it from `props` (space-separated name=value pairs), with video
 * caps of `format` at w x h pushed in. (transfer full) */
static inline GstHarness *
test_harness_new (GstElement *e, const gchar *props, const gchar *format,
    gint w, gint h)
{
  gchar **pairs = g_strsplit (props, " ", -1);
  GstHarness *hr;
  gchar *caps;

  for (guint i = 0; pairs[i]; i++) {
    gchar **kv = g_strsplit (pairs[i], "=", 2);

    if (kv[0] && kv[1])
      gst_util_set_object_arg (G_OBJECT (e), kv[0], kv[1]);
    g_strfreev (kv);
  }
  g_strfreev (pairs);
  hr = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
                          "framerate=30/1",
      format, w, h);
  gst_harness_set_src_caps_str (hr, caps);
  g_free (caps);
  return hr;
}

#endif
