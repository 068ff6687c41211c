/* Helpers shared by the element tests: failure reporting, a deterministic
 * RNG and model paths from the environment meson sets. */
#ifndef SEGD_TEST_ELEMENTS_COMMON_H
#define SEGD_TEST_ELEMENTS_COMMON_H

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf (stderr, __VA_ARGS__); \
      fputc ('\n', stderr); \
      exit (1); \
    } \
  } while (0)

static inline guint32
test_rand (guint32 *state)
{
  /* xorshift32: the same frames on every run. */
  guint32 x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

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
