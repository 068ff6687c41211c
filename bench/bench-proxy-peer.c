/* bench-proxy-peer — the two ends of bench/bench-proxy.sh.
 *
 *   pub --host ADDR --port P --streams N --kind class|prob --rate R
 *       --seconds S [--curve-secret Z85]
 *     N publishers (one XPUB each, on ports P..P+N-1, streams s0..sN-1),
 *     each sending a 640x480 mask, class maps RLE-encoded or probability
 *     planes zstd-encoded as zmqmasksink would, R masks/s each (0: as fast
 *     as they go). The payload is encoded once; every mask gets its own
 *     header (seq, publish time), which is all the proxy looks at.
 *   sub --connect EP [--connect EP...] --seconds S [--warmup W]
 *       [--curve-server Z85 --curve-public Z85 --curve-secret Z85]
 *     counts the masks and bytes that arrive after W seconds and the
 *     publish -> receive latency of each (one clock: all namespaces share
 *     this machine's), and prints one line of figures.
 *
 * The masks are synthetic (a head-and-shoulders silhouette, with soft,
 * noisy edges on the probability plane) so the benchmark needs no model;
 * `pub` prints their encoded sizes next to those of docs/protocol.md.
 */
#include <math.h>
#include <segmask.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define W 640
#define H 480
#define MAX_STREAMS 64
#define MAX_SAMPLES 2000000

static double
mono (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
real_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Signed distance-ish value: > 0 inside the silhouette. */
static double
inside (int x, int y)
{
  double hx = (x - 320) / 70.0, hy = (y - 150) / 90.0;
  double head = 1 - sqrt (hx * hx + hy * hy);
  double bx = fabs (x - 320.0) - 170, by = 250 - y;
  double body = fmin (-bx, -by) / 80.0;

  return fmax (head, body);
}

static void
make_mask (int prob, uint8_t *raw)
{
  uint32_t rng = 12345;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double d = inside (x, y);

      if (!prob) {
        raw[y * W + x] = d > 0;
        continue;
      }
      rng = rng * 1664525u + 1013904223u;
      {
        double p = 255 / (1 + exp (-d * 40)); /* soft edge a few px wide */
        int noise = (int) (rng >> 29) - 4;    /* a network's jitter */

        /* Jitter along the edge and, sparsely, in the background: tuned
         * so zstd lands near the 11x measured on a real selfie mask. */
        if (p > 2 && p < 253)
          p += 2 * noise;
        else if (p <= 2 && (rng >> 24) < 24)
          p = rng >> 30;
        raw[y * W + x] = (uint8_t) fmin (255, fmax (0, p));
      }
    }
}

static int
check (int rc, const char *what)
{
  if (rc != 0) {
    fprintf (stderr, "bench-proxy-peer: %s: %s\n", what,
        zmq_strerror (zmq_errno ()));
    exit (1);
  }
  return rc;
}

static int
run_pub (const char *host, int port, int n, int prob, double rate,
    double seconds, const char *curve_secret)
{
  static uint8_t raw[W * H], hbuf[1024];
  static const char *labels[2] = {"background", "person"};
  uint8_t *payload;
  size_t cap, plen, hlen;
  segmask_codec *codec = segmask_codec_new ();
  void *ctx = zmq_ctx_new (), *sock[MAX_STREAMS];
  char name[MAX_STREAMS][16], topic[MAX_STREAMS][32];
  uint64_t seq[MAX_STREAMS] = {0}, sent = 0;
  segmask_header h;
  segmask_encoding enc = prob ? SEGMASK_ENC_ZSTD : SEGMASK_ENC_RLE;
  double start, next;
  int hwm = 100000, zero = 0;

  if (!codec || !ctx || n < 1 || n > MAX_STREAMS)
    return 1;
  make_mask (prob, raw);
  cap = segmask_payload_bound (enc, sizeof (raw));
  payload = malloc (cap);
  if (!payload
      || segmask_payload_encode (codec, enc, 1, raw, sizeof (raw), payload, cap,
             &plen)
          != SEGMASK_OK)
    return 1;
  fprintf (stderr, "%s mask 640x480, %s: %zu bytes (%.0fx)\n",
      prob ? "probability" : "class map", prob ? "zstd" : "rle", plen,
      (double) sizeof (raw) / plen);
  for (int i = 0; i < n; i++) {
    char ep[128];

    snprintf (name[i], sizeof (name[i]), "s%d", i);
    segmask_topic (SEGMASK_MSG_MASK, name[i], topic[i], sizeof (topic[i]));
    snprintf (ep, sizeof (ep), "tcp://%s:%d", host, port + i);
    if (!(sock[i] = zmq_socket (ctx, ZMQ_XPUB)))
      check (-1, "zmq_socket");
    check (zmq_setsockopt (sock[i], ZMQ_SNDHWM, &hwm, sizeof (hwm)), "hwm");
    check (zmq_setsockopt (sock[i], ZMQ_LINGER, &zero, sizeof (zero)),
        "linger");
    if (curve_secret) {
      int one = 1;

      check (zmq_setsockopt (sock[i], ZMQ_CURVE_SERVER, &one, sizeof (one)),
          "curve");
      check (zmq_setsockopt (sock[i], ZMQ_CURVE_SECRETKEY, curve_secret, 40),
          "curve key");
    }
    check (zmq_bind (sock[i], ep), ep);
  }
  memset (&h, 0, sizeof (h));
  h.type = SEGMASK_MSG_MASK;
  h.kind = prob ? SEGMASK_KIND_PROBABILITY : SEGMASK_KIND_CLASSES;
  h.encoding = enc;
  h.session = (uint32_t) real_ns ();
  h.num_classes = prob ? 0 : 2;
  h.labels[0] = labels[0];
  h.labels[1] = labels[1];
  h.capture_running_ns = SEGMASK_TIME_NONE;
  h.frame_width = h.width = h.stride = W;
  h.frame_height = h.height = H;
  h.raw_len = W * H;
  h.payload_len = (uint32_t) plen;
  h.model_name = "bench";
  h.model_sha256 = "";

  start = next = mono ();
  while (mono () - start < seconds) {
    for (int i = 0; i < n; i++) {
      h.stream = name[i];
      h.seq = ++seq[i];
      h.publish_realtime_ns = real_ns ();
      check (segmask_header_encode (&h, hbuf, sizeof (hbuf), &hlen), "header");
      /* Lossy XPUB: a full queue drops, it never blocks the publisher. */
      if (zmq_send (sock[i], topic[i], strlen (topic[i]), ZMQ_SNDMORE) < 0
          || zmq_send (sock[i], hbuf, hlen, ZMQ_SNDMORE) < 0
          || zmq_send (sock[i], payload, plen, 0) < 0)
        check (-1, "send");
      sent++;
    }
    /* Drain subscription messages so the XPUB's inbound queue stays empty. */
    for (int i = 0; i < n; i++) {
      char b[256];

      while (zmq_recv (sock[i], b, sizeof (b), ZMQ_DONTWAIT) >= 0)
        ;
    }
    if (rate > 0) {
      double wait;

      next += 1.0 / rate;
      wait = next - mono ();
      if (wait > 0) {
        struct timespec ts = {(time_t) wait,
            (long) ((wait - (time_t) wait) * 1e9)};
        nanosleep (&ts, NULL);
      }
    }
  }
  fprintf (stderr, "published %llu masks\n", (unsigned long long) sent);
  for (int i = 0; i < n; i++)
    zmq_close (sock[i]);
  zmq_ctx_term (ctx);
  segmask_codec_free (&codec);
  free (payload);
  return 0;
}

static int
cmp_u64 (const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return x < y ? -1 : x > y;
}

/* The proxy's own count of masks forwarded, from a status/segd-proxy
 * message (the `published=` line), or -1. */
static double
published_of (void *stat)
{
  zmq_msg_t f[3];
  int got = 0, more = 1;
  double v = -1;

  while (more && got < 3) {
    zmq_msg_init (&f[got]);
    if (zmq_msg_recv (&f[got], stat, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close (&f[got]);
      break;
    }
    more = zmq_msg_more (&f[got]);
    got++;
  }
  if (got == 3) {
    char text[4096];
    size_t n = zmq_msg_size (&f[2]) < sizeof (text) - 1 ? zmq_msg_size (&f[2])
                                                        : sizeof (text) - 1;
    const char *at;

    memcpy (text, zmq_msg_data (&f[2]), n);
    text[n] = 0;
    if ((at = strstr (text, "\npublished=")))
      v = atof (at + 11);
  }
  for (int i = 0; i < got; i++)
    zmq_msg_close (&f[i]);
  return v;
}

static int
run_sub (const char **eps, int neps, double seconds, double warmup,
    const char *srv, const char *cpub, const char *csec)
{
  void *ctx = zmq_ctx_new (), *sock = zmq_socket (ctx, ZMQ_SUB);
  /* A second socket for the proxy's status: on the mask socket, whose
   * queue is full under a flood, the proxy would drop it for us. */
  void *stat = zmq_socket (ctx, ZMQ_SUB);
  double pub0 = -1, pub1 = -1, tp0 = 0, tp1 = 0;
  uint64_t *lat = malloc (sizeof (uint64_t) * MAX_SAMPLES);
  uint64_t masks = 0, bytes = 0, n = 0, invalid = 0;
  int hwm = 100000, zero = 0, timeout = 100;
  double start, t0 = 0;

  if (!sock || !lat)
    return 1;
  check (zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof (hwm)), "hwm");
  check (zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof (zero)), "linger");
  check (zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof (timeout)),
      "rcvtimeo");
  if (srv) {
    check (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, srv, 40), "curve");
    check (zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, cpub, 40), "curve");
    check (zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, csec, 40), "curve");
  }
  check (zmq_setsockopt (sock, ZMQ_SUBSCRIBE, "mask/", 5), "subscribe");
  for (int i = 0; i < neps; i++)
    check (zmq_connect (sock, eps[i]), eps[i]);
  if (!stat)
    return 1;
  check (zmq_setsockopt (stat, ZMQ_LINGER, &zero, sizeof (zero)), "linger");
  if (srv) {
    check (zmq_setsockopt (stat, ZMQ_CURVE_SERVERKEY, srv, 40), "curve");
    check (zmq_setsockopt (stat, ZMQ_CURVE_PUBLICKEY, cpub, 40), "curve");
    check (zmq_setsockopt (stat, ZMQ_CURVE_SECRETKEY, csec, 40), "curve");
  }
  check (zmq_setsockopt (stat, ZMQ_SUBSCRIBE, "status/segd-proxy", 17),
      "subscribe");
  check (zmq_connect (stat, eps[0]), eps[0]);
  start = mono ();
  while (mono () - start < warmup + seconds) {
    zmq_msg_t f[3];
    int got = 0, more = 1;
    segmask_header h;
    uint64_t now;
    double pub;

    while ((pub = published_of (stat)) >= 0)
      if (mono () - start >= warmup) {
        if (pub0 < 0) {
          pub0 = pub;
          tp0 = mono ();
        }
        pub1 = pub;
        tp1 = mono ();
      }
    while (more && got < 3) {
      zmq_msg_init (&f[got]);
      if (zmq_msg_recv (&f[got], sock, 0) < 0) {
        zmq_msg_close (&f[got]);
        break;
      }
      more = zmq_msg_more (&f[got]);
      got++;
    }
    now = real_ns ();
    if (got == 3 && !more
        && segmask_message_parse (zmq_msg_data (&f[0]), zmq_msg_size (&f[0]),
               zmq_msg_data (&f[1]), zmq_msg_size (&f[1]), zmq_msg_size (&f[2]),
               0, &h, NULL)
            == SEGMASK_OK) {
      if (mono () - start >= warmup) {
        if (!t0)
          t0 = mono ();
        masks++;
        bytes +=
            zmq_msg_size (&f[0]) + zmq_msg_size (&f[1]) + zmq_msg_size (&f[2]);
        if (n < MAX_SAMPLES && now > h.publish_realtime_ns)
          lat[n++] = now - h.publish_realtime_ns;
      }
    } else if (got) {
      invalid++;
    }
    for (int i = 0; i < got; i++)
      zmq_msg_close (&f[i]);
  }
  qsort (lat, n, sizeof (uint64_t), cmp_u64);
  {
    double secs = t0 ? mono () - t0 : 0;

    /* What the proxy sent on, per its status; more than we received
     * when its queue towards us overflowed under a flood. */
    double handled = tp1 > tp0 ? (pub1 - pub0) / (tp1 - tp0) : 0;

    printf ("masks=%llu secs=%.2f masks_per_s=%.0f MB_per_s=%.2f "
            "p50_us=%.0f p99_us=%.0f invalid=%llu proxy_masks_per_s=%.0f\n",
        (unsigned long long) masks, secs, secs > 0 ? masks / secs : 0,
        secs > 0 ? bytes / secs / 1e6 : 0, n ? lat[n / 2] / 1e3 : 0,
        n ? lat[n * 99 / 100] / 1e3 : 0, (unsigned long long) invalid, handled);
  }
  free (lat);
  zmq_close (stat);
  zmq_close (sock);
  zmq_ctx_term (ctx);
  return 0;
}

int
main (int argc, char **argv)
{
  const char *host = "127.0.0.1", *eps[MAX_STREAMS];
  const char *srv = NULL, *cpub = NULL, *csec = NULL;
  int port = 6000, n = 1, prob = 0, neps = 0;
  double rate = 0, seconds = 3, warmup = 0;

  if (argc < 2)
    goto usage;
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];

    if (!strcmp (k, "--host"))
      host = v;
    else if (!strcmp (k, "--port"))
      port = atoi (v);
    else if (!strcmp (k, "--streams"))
      n = atoi (v);
    else if (!strcmp (k, "--kind"))
      prob = !strcmp (v, "prob");
    else if (!strcmp (k, "--rate"))
      rate = atof (v);
    else if (!strcmp (k, "--seconds"))
      seconds = atof (v);
    else if (!strcmp (k, "--warmup"))
      warmup = atof (v);
    else if (!strcmp (k, "--connect") && neps < MAX_STREAMS)
      eps[neps++] = v;
    else if (!strcmp (k, "--curve-server"))
      srv = v;
    else if (!strcmp (k, "--curve-public"))
      cpub = v;
    else if (!strcmp (k, "--curve-secret"))
      csec = v;
    else
      goto usage;
  }
  if (!strcmp (argv[1], "pub"))
    return run_pub (host, port, n, prob, rate, seconds, csec);
  if (!strcmp (argv[1], "sub") && neps > 0)
    return run_sub (eps, neps, seconds, warmup, srv, cpub, csec);
usage:
  fprintf (stderr,
      "usage: bench-proxy-peer pub|sub OPTIONS (see the "
      "source)\n");
  return 64;
}
