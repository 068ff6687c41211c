/* Helpers shared by the element tests: model paths from the environment
 * meson sets and random buffers; CHECK and the RNG come from check.h. */
#ifndef SEGD_TEST_ELEMENTS_COMMON_H
#define SEGD_TEST_ELEMENTS_COMMON_H

#include <gst/gst.h>

#include "../check.h"

/* (transfer full) path of a model in SEG_MODEL_DIR. */
static inline gchar *
test_model (const gchar *name)
{
  const gchar *dir = g_getenv ("SEG_MODEL_DIR");

  return g_build_filename (dir ? dir : "models", name, NULL);
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

#endif
