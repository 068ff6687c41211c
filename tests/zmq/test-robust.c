/* 10,000 random and mutated messages from a raw PUB socket into the
 * segmask library and zmqmasksrc at once: valid masks, noise, truncated,
 * wrong-version, oversized, wrong frame count and bit-flipped messages.
 * Nothing may crash, and both subscribers' counters must match what the
 * test predicts: each category's verdict is known, flipped ones are
 * judged by the codec itself (their seq/session bytes are never flipped,
 * so gap and replay rules do not blur the counts). */
#include "../check.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <segmask.h>
#include <string.h>
#include <zmq.h>

#define TOTAL 10000
#define BATCH 500
#define DEADLINE_US (20 * G_USEC_PER_SEC)

static const char *const labels[] = {"background", "person", "cat"};

typedef struct
{
  guint8 hdr[1024];
  size_t hlen;
  guint8 pay[64 * 48 * 2 + 64];
  size_t plen;
} Wire;

static void
make_valid (segmask_codec *codec, Wire *w, guint64 seq, segmask_encoding enc)
{
  segmask_header h;
  guint8 raw[64 * 48];

  memset (&h, 0, sizeof (h));
  h.type = SEGMASK_MSG_MASK;
  h.kind = SEGMASK_KIND_CLASSES;
  h.encoding = enc;
  h.session = 77;
  h.seq = seq;
  h.width = 64;
  h.height = 48;
  h.stride = 64;
  h.raw_len = 64 * 48;
  h.num_classes = 3;
  for (int i = 0; i < 3; i++)
    h.labels[i] = labels[i];
  h.stream = "cam0";
  h.model_name = "m";
  h.model_sha256 = "00";
  for (guint i = 0; i < sizeof (raw); i++)
    raw[i] = (guint8) (((i % 64) / 9 + (i / 64) / 5 + seq) % 3);
  CHECK (segmask_payload_encode (codec, enc, 1, raw, sizeof (raw), w->pay,
             sizeof (w->pay), &w->plen)
          == SEGMASK_OK,
      "encode");
  h.payload_len = (guint32) w->plen;
  CHECK (segmask_header_encode (&h, w->hdr, sizeof (w->hdr), &w->hlen)
          == SEGMASK_OK,
      "header");
}

static gboolean
predict (segmask_codec *codec, const Wire *w)
{
  segmask_header h;
  static guint8 out[64 * 48 * 4];
  const char *why;

  if (segmask_message_parse ((const guint8 *) "mask/cam0", 9, w->hdr, w->hlen,
          w->plen, 0, &h, &why)
      != SEGMASK_OK)
    return FALSE;
  if (h.raw_len > sizeof (out))
    return FALSE; /* cannot happen: sizes bytes are not flipped */
  return segmask_payload_decode (codec, &h, w->pay, w->plen, out, &why)
      == SEGMASK_OK;
}

static void
send_frames (void *pub, const void *const *data, const size_t *len, int n)
{
  for (int i = 0; i < n; i++)
    CHECK (zmq_send (pub, data[i], len[i], i < n - 1 ? ZMQ_SNDMORE : 0)
            == (int) len[i],
        "zmq_send: %s", zmq_strerror (zmq_errno ()));
}

static void
send_wire (void *pub, const Wire *w)
{
  const void *d[3] = {"mask/cam0", w->hdr, w->pay};
  size_t l[3] = {9, w->hlen, w->plen};

  send_frames (pub, d, l, 3);
}

static void
put32 (guint8 *p, guint32 v)
{
  memcpy (p, &v, 4);
}

static guint64
src_stat (GstElement *src, const gchar *field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (src, "stats", &s, NULL);
  gst_structure_get_uint64 (s, field, &v);
  gst_structure_free (s);
  return v;
}

/* Pumps the library and the appsink until both saw `n` more messages
 * than at the baseline. */
static void
settle (segmask_sub *sub, GstElement *src, GstAppSink *out, guint64 n,
    const segmask_sub_stats *base, guint64 src_base_rx, guint64 src_base_inv,
    guint64 *pulled)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_US;
  segmask_sub_stats st;

  for (;;) {
    segmask_msg *m = NULL;
    GstSample *sample;
    gboolean lib_done, src_done;

    while (segmask_sub_recv (sub, 1, &m) == SEGMASK_OK)
      segmask_msg_free (&m);
    while ((sample = gst_app_sink_try_pull_sample (out, 0))) {
      (*pulled)++;
      gst_sample_unref (sample);
    }
    segmask_sub_get_stats (sub, &st);
    lib_done = st.received - base->received + st.invalid - base->invalid >= n;
    src_done = src_stat (src, "received") - src_base_rx
            + src_stat (src, "invalid") - src_base_inv
        >= n;
    if (lib_done && src_done)
      return;
    CHECK (g_get_monotonic_time () < end,
        "stalled: library %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
        ", src %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
        " of %" G_GUINT64_FORMAT,
        (guint64) (st.received - base->received),
        (guint64) (st.invalid - base->invalid),
        src_stat (src, "received") - src_base_rx,
        src_stat (src, "invalid") - src_base_inv, n);
    g_usleep (200);
  }
}

int
main (int argc, char **argv)
{
  gchar *dir, *ep, *desc;
  void *ctx, *pub;
  int zero = 0;
  segmask_codec *codec = segmask_codec_new ();
  segmask_sub_options o;
  segmask_sub *sub = NULL;
  segmask_sub_stats base, st;
  GstElement *pipe, *src;
  GstAppSink *out;
  guint64 seq = 0, want_valid = 0, want_invalid = 0, pulled = 0, src_rx,
          src_inv, pulled_base;
  guint32 rng = 0xc0ffee;
  char err[256];
  Wire w;

  gst_init (&argc, &argv);
  dir = g_dir_make_tmp ("segd-robust-XXXXXX", NULL);
  ep = g_strdup_printf ("ipc://%s/pub.sock", dir);
  ctx = zmq_ctx_new ();
  pub = zmq_socket (ctx, ZMQ_PUB);
  CHECK (pub && zmq_setsockopt (pub, ZMQ_SNDHWM, &zero, sizeof (zero)) == 0
          && zmq_bind (pub, ep) == 0,
      "bind: %s", zmq_strerror (zmq_errno ()));

  segmask_sub_options_init (&o);
  o.endpoint = ep;
  o.stream = "cam0";
  CHECK (segmask_sub_new (&o, &sub, err, sizeof (err)) == SEGMASK_OK, "%s",
      err);
  desc = g_strdup_printf ("zmqmasksrc name=in endpoint=%s stream-name=cam0 "
                          "rcvhwm=0 ! appsink name=out sync=false",
      ep);
  pipe = gst_parse_launch (desc, NULL);
  CHECK (pipe, "pipeline");
  src = gst_bin_get_by_name (GST_BIN (pipe), "in");
  out = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (pipe), "out"));
  CHECK (gst_element_set_state (pipe, GST_STATE_PLAYING)
          != GST_STATE_CHANGE_FAILURE,
      "play");

  /* Joining takes a moment: send valid masks until both have one. */
  for (gint64 end = g_get_monotonic_time () + DEADLINE_US;;) {
    segmask_msg *m = NULL;

    make_valid (codec, &w, ++seq, SEGMASK_ENC_RLE);
    send_wire (pub, &w);
    g_usleep (5000);
    while (segmask_sub_recv (sub, 0, &m) == SEGMASK_OK)
      segmask_msg_free (&m);
    segmask_sub_get_stats (sub, &st);
    if (st.received > 0 && src_stat (src, "received") > 0)
      break;
    CHECK (g_get_monotonic_time () < end, "subscribers never joined");
  }
  /* Masks of the join phase may still be on their way. One marker mask
   * ends the phase: both subscribers see messages in the order they were
   * sent, so once each has the marker's seq, nothing of the join phase is
   * left to arrive and the baseline is exact. */
  {
    guint64 marker = ++seq;
    gboolean lib_seen = FALSE, src_seen = FALSE;

    make_valid (codec, &w, marker, SEGMASK_ENC_RLE);
    send_wire (pub, &w);
    for (gint64 end = g_get_monotonic_time () + DEADLINE_US;
         !(lib_seen && src_seen);) {
      segmask_msg *m = NULL;
      GstSample *sample;

      while (!lib_seen && segmask_sub_recv (sub, 10, &m) == SEGMASK_OK) {
        lib_seen = m->header.seq == marker;
        segmask_msg_free (&m);
      }
      while (!src_seen
          && (sample = gst_app_sink_try_pull_sample (out, 10 * GST_MSECOND))) {
        src_seen = GST_BUFFER_OFFSET (gst_sample_get_buffer (sample)) == marker;
        gst_sample_unref (sample);
      }
      CHECK (g_get_monotonic_time () < end,
          "join marker not received "
          "(library %d, zmqmasksrc %d)",
          lib_seen, src_seen);
    }
  }
  segmask_sub_get_stats (sub, &base);
  src_rx = src_stat (src, "received");
  src_inv = src_stat (src, "invalid");
  pulled_base = pulled;

  for (guint i = 0; i < TOTAL; i++) {
    guint kind = i % 6;

    make_valid (codec, &w, ++seq, (segmask_encoding) (i / 6 % 3));
    if (kind == 0) {
      send_wire (pub, &w);
      want_valid++;
    } else if (kind == 1) {
      w.hlen = 1 + test_rand (&rng) % 300;
      for (size_t k = 0; k < w.hlen; k++)
        w.hdr[k] = (guint8) test_rand (&rng);
      w.hdr[0] = 'X';
      w.plen = test_rand (&rng) % 500;
      for (size_t k = 0; k < w.plen; k++)
        w.pay[k] = (guint8) test_rand (&rng);
      send_wire (pub, &w);
      want_invalid++;
    } else if (kind == 2) {
      if (test_rand (&rng) & 1)
        w.hlen = test_rand (&rng) % w.hlen;
      else
        w.plen = test_rand (&rng) % w.plen;
      send_wire (pub, &w);
      want_invalid++;
    } else if (kind == 3) {
      if (test_rand (&rng) & 1) {
        w.hdr[4] = 2; /* protocol 2.0 */
      } else {
        put32 (w.hdr + 96, 16384); /* 256 MiB, above the 64 MiB limit */
        put32 (w.hdr + 100, 16384);
        put32 (w.hdr + 104, 16384);
        put32 (w.hdr + 108, 16384u * 16384u);
      }
      send_wire (pub, &w);
      want_invalid++;
    } else if (kind == 4) {
      const void *d[4] = {"mask/cam0", w.hdr, w.pay, w.pay};
      size_t l[4] = {9, w.hlen, w.plen, 3};

      send_frames (pub, d, l, test_rand (&rng) & 1 ? 2 : 4);
      want_invalid++;
    } else {
      int flips = 1 + test_rand (&rng) % 3;

      for (int f = 0; f < flips; f++) {
        size_t at;

        if (test_rand (&rng) & 1) {
          /* Not the session and seq fields (16..19, 24..31). */
          do
            at = test_rand (&rng) % w.hlen;
          while ((at >= 16 && at < 20) || (at >= 24 && at < 32));
          w.hdr[at] ^= (guint8) (1 + test_rand (&rng) % 255);
        } else {
          w.pay[test_rand (&rng) % w.plen] ^=
              (guint8) (1 + test_rand (&rng) % 255);
        }
      }
      if (predict (codec, &w))
        want_valid++;
      else
        want_invalid++;
      send_wire (pub, &w);
    }
    if ((i + 1) % BATCH == 0)
      settle (sub, src, out, i + 1, &base, src_rx, src_inv, &pulled);
  }

  segmask_sub_get_stats (sub, &st);
  CHECK (st.received - base.received == want_valid
          && st.invalid - base.invalid == want_invalid,
      "library: %" G_GUINT64_FORMAT " valid %" G_GUINT64_FORMAT " invalid, "
      "want %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT,
      (guint64) (st.received - base.received),
      (guint64) (st.invalid - base.invalid), want_valid, want_invalid);
  CHECK (src_stat (src, "received") - src_rx == want_valid
          && src_stat (src, "invalid") - src_inv == want_invalid,
      "zmqmasksrc: %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT,
      src_stat (src, "received") - src_rx, src_stat (src, "invalid") - src_inv);
  {
    GstSample *sample;

    while ((sample = gst_app_sink_try_pull_sample (out, 200 * GST_MSECOND))) {
      pulled++;
      gst_sample_unref (sample);
    }
  }
  CHECK (pulled - pulled_base == want_valid,
      "appsink got %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT,
      pulled - pulled_base, want_valid);
  printf ("%d messages: %" G_GUINT64_FORMAT " valid, %" G_GUINT64_FORMAT
          " invalid; library and zmqmasksrc agree, no crash\n",
      TOTAL, want_valid, want_invalid);

  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (out);
  gst_object_unref (pipe);
  segmask_sub_free (&sub);
  zmq_close (pub);
  zmq_ctx_term (ctx);
  segmask_codec_free (&codec);
  {
    gchar *path = g_build_filename (dir, "pub.sock", NULL);

    g_unlink (path);
    g_free (path);
  }
  g_rmdir (dir);
  g_free (dir);
  g_free (ep);
  g_free (desc);
  return 0;
}
