/* What test-elements.c and test-trust.c build their cases from: masks and
 * buffers with the mask meta, a zmqmasksink in a GstHarness publishing
 * stream "cam0", its counters, and libsegmask subscribers to that stream.
 * Include after check.h; every wait is bounded by DEADLINE_US.
 */
#ifndef SEGD_TEST_ZMQ_FIXTURES_H
#define SEGD_TEST_ZMQ_FIXTURES_H

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <segmask.h>
#include <segmeta.h>

#define DEADLINE_US (10 * G_USEC_PER_SEC)

static const gchar *const labels[] = {"background", "person", "cat"};
static gchar *tmpdir;

/* A w x h mask of three classes in diagonal bands shifted by `seed`, with
 * a probability plane of noise (seeded too) when `probability`. */
static inline GstSegMask *
make_mask (guint w, guint h, guint seed, gboolean probability)
{
  GstSegMask *m = gst_seg_mask_new (w, h, TRUE, probability, 3, labels,
      "test-model.onnx", "0123456789abcdef0123456789abcdef");
  guint stride = gst_seg_mask_get_stride (m);
  guint8 *c = gst_seg_mask_get_classes (m);
  guint8 *p = probability ? gst_seg_mask_get_probability (m) : NULL;
  guint32 rng = seed * 2654435761u + 1;

  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      c[y * stride + x] = (guint8) (((x + seed) / 11 + y / 7) % 3);
      if (p)
        p[y * stride + x] = (guint8) (test_rand (&rng) >> 24);
    }
  return m;
}

/* Frame `i` (40 ms apart) carrying `mask`, inferred in 5 ms. */
static inline GstBuffer *
make_buffer (GstSegMask *mask, guint i)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);

  GST_BUFFER_PTS (buf) = i * 40 * GST_MSECOND;
  gst_buffer_add_seg_meta (buf, mask, GST_BUFFER_PTS (buf), 5 * GST_MSECOND, 0,
      0);
  return buf;
}

/* A zmqmasksink for stream "cam0" at `endpoint` with `props` ("k=v k=v",
 * or NULL) set; not started. */
static inline GstElement *
sink_new (const gchar *endpoint, const gchar *props)
{
  GstElement *sink = gst_element_factory_make ("zmqmasksink", NULL);

  g_object_set (sink, "endpoint", endpoint, "stream-name", "cam0", "async",
      FALSE, NULL);
  if (props) {
    gchar **kv = g_strsplit (props, " ", -1);

    for (gchar **p = kv; *p; p++) {
      gchar **pair = g_strsplit (*p, "=", 2);

      gst_util_set_object_arg (G_OBJECT (sink), pair[0], pair[1]);
      g_strfreev (pair);
    }
    g_strfreev (kv);
  }
  return sink;
}

/* `sink` (transfer full) in a harness fed RGB 320x240 at 25 fps, playing.
 * Properties must be set before: the harness starts the element at once. */
static inline GstHarness *
sink_harness (GstElement *sink)
{
  GstHarness *h = gst_harness_new_with_element (sink, "sink", NULL);

  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=320,height=240,framerate=25/1");
  g_object_set (h->element, "async", FALSE, NULL);
  gst_harness_play (h);
  return h;
}

/* The endpoint the sink bound (transfer full). */
static inline gchar *
bound (GstHarness *h)
{
  gchar *ep = NULL;

  g_object_get (h->element, "bound-endpoint", &ep, NULL);
  CHECK (ep, "no bound endpoint");
  return ep;
}

static inline gint
subscribers (GstHarness *h)
{
  gint n = -1;

  g_object_get (h->element, "subscribers", &n, NULL);
  return n;
}

static inline void
wait_subscribers (GstHarness *h, gint n)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_US;

  while (g_get_monotonic_time () < end && subscribers (h) != n)
    g_usleep (2000);
  CHECK (subscribers (h) == n, "subscribers %d, want %d", subscribers (h), n);
}

/* A counter of the sink's "stats". */
static inline guint64
stat_u64 (GstHarness *h, const gchar *field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (h->element, "stats", &s, NULL);
  CHECK (s && gst_structure_get_uint64 (s, field, &v), "stats.%s", field);
  gst_structure_free (s);
  return v;
}

/* A subscriber to stream "cam0" at `ep`: with status messages when
 * `status`, a receive HWM of `rcvhwm` (0: libzmq's), with CURVE when `srv`
 * (the server's public key) is set. */
static inline segmask_sub *
sub_open (const gchar *ep, int status, int rcvhwm, const char *srv,
    const char *pub, const char *sec)
{
  segmask_sub_options o;
  segmask_sub *s = NULL;
  char err[256];

  segmask_sub_options_init (&o);
  o.endpoint = ep;
  o.stream = "cam0";
  o.status = status;
  o.rcvhwm = rcvhwm;
  o.curve_server_key = srv;
  o.curve_public_key = pub;
  o.curve_secret_key = sec;
  CHECK (segmask_sub_new (&o, &s, err, sizeof (err)) == SEGMASK_OK, "%s", err);
  return s;
}

#endif
