/* segd-sub — subscribes to a segd mask stream with libsegmask and prints
 * one line per mask (or, with --stats, one line per second), optionally
 * saving each mask as a GRAY8 PNG of its raw values. Several endpoints
 * share one socket, so one subscriber reads several segd instances. Exit
 * status: 0 after --count masks or an end-of-stream message from every
 * endpoint, 69 (EX_UNAVAILABLE) when
 * --timeout passes without a mask, 64 on bad usage, 70 on other errors.
 *
 * Keys come from files only where they are secret: a command line is
 * visible to every local user in `ps`. Everything the publisher sends is
 * untrusted; strings are escaped before they reach the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <segmask.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#define EX_OK 0
#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70

typedef struct
{
  char **endpoints;
  int n_endpoints;
  const char *stream;
  const char *save_dir;
  long count;
  double timeout;
  int stats;
  int latest;
  const char *server_key, *server_key_file, *secret_key_file;
} Options;

/* --stats: one line per stream and second. A segd running several
 * streams on one socket shows every one, with its scheduler counters from
 * the stream's status message when it sends them. */
#define STAT_STREAMS 32

typedef struct
{
  char name[SEGMASK_MAX_STRING + 1];
  uint64_t masks;
  double latency_sum, e2e_sum;
  char sched[160]; /* from status: inferred=... dropped=... */
} StreamWindow;

typedef struct
{
  double start;
  uint64_t missed_at_start;
  StreamWindow streams[STAT_STREAMS];
  unsigned n_streams;
} Window;

static StreamWindow *
window_stream (Window *w, const char *name)
{
  for (unsigned i = 0; i < w->n_streams; i++)
    if (strcmp (w->streams[i].name, name) == 0)
      return &w->streams[i];
  if (w->n_streams == STAT_STREAMS)
    return NULL;
  snprintf (w->streams[w->n_streams].name, sizeof (w->streams[0].name), "%s",
      name);
  return &w->streams[w->n_streams++];
}

/* The value of `key` in status text, copied into buf; 0 if absent. The
 * text is untrusted: only digits, '.' and '-' are kept. */
static int
status_value (const char *text, const char *key, char *buf, size_t len)
{
  size_t k = strlen (key), n = 0;

  for (const char *line = text; line && *line;) {
    if (strncmp (line, key, k) == 0 && line[k] == '=') {
      for (const char *v = line + k + 1; *v && *v != '\n' && n + 1 < len; v++)
        if ((*v >= '0' && *v <= '9') || *v == '.' || *v == '-')
          buf[n++] = *v;
      buf[n] = '\0';
      return n > 0;
    }
    line = strchr (line, '\n');
    if (line)
      line++;
  }
  return 0;
}

static void
window_status (Window *w, const segmask_msg *m)
{
  static const char *const keys[] = {"weight", "max_latency_ms", "frames_in",
      "inferred", "dropped", "latency_p50_ms", "latency_p99_ms"};
  StreamWindow *s = window_stream (w, m->header.stream);
  char value[32];
  size_t n = 0;

  if (!s || !m->text)
    return;
  s->sched[0] = '\0';
  for (size_t i = 0; i < sizeof (keys) / sizeof (keys[0]); i++)
    if (status_value (m->text, keys[i], value, sizeof (value))
        && n < sizeof (s->sched))
      n += snprintf (s->sched + n, sizeof (s->sched) - n, " %s=%s", keys[i],
          value);
}

static double
mono_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
real_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void
usage (FILE *f)
{
  fprintf (f,
      "usage: segd-sub ENDPOINT... [--stream NAME] [--count N] "
      "[--save DIR] [--stats]\n"
      "                [--timeout SEC] [--latest]\n"
      "                [--curve-server-key KEY | --curve-server-key-file FILE]"
      " --curve-secret-key-file FILE\n"
      "CURVE key files: a Z85 key or a czmq certificate (the client's secret "
      "one,\nFILE.key_secret; the server's public one, FILE.key).\n");
}

static int
parse_args (int argc, char **argv, Options *o)
{
  static const struct option longopts[] = {
      {"stream", required_argument, NULL, 's'},
      {"count", required_argument, NULL, 'n'},
      {"save", required_argument, NULL, 'o'},
      {"stats", no_argument, NULL, 'S'},
      {"timeout", required_argument, NULL, 't'},
      {"latest", no_argument, NULL, 'l'},
      {"curve-server-key", required_argument, NULL, 1},
      {"curve-public-key", required_argument, NULL, 2},
      {"curve-secret-key", required_argument, NULL, 3},
      {"curve-server-key-file", required_argument, NULL, 4},
      {"curve-secret-key-file", required_argument, NULL, 5},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  char *end;

  memset (o, 0, sizeof (*o));
  o->count = -1;
  o->timeout = -1;
  while ((c = getopt_long (argc, argv, "s:n:o:St:lh", longopts, NULL)) != -1) {
    switch (c) {
      case 's':
        o->stream = optarg;
        break;
      case 'n':
        errno = 0;
        o->count = strtol (optarg, &end, 10);
        if (errno || *end || o->count < 0)
          return EX_USAGE;
        break;
      case 'o':
        o->save_dir = optarg;
        break;
      case 'S':
        o->stats = 1;
        break;
      case 't':
        o->timeout = strtod (optarg, &end);
        if (*end || o->timeout < 0)
          return EX_USAGE;
        break;
      case 'l':
        o->latest = 1;
        break;
      case 1:
        o->server_key = optarg;
        break;
      case 2:
        fprintf (stderr,
            "segd-sub: --curve-public-key is gone: the public "
            "key is derived from --curve-secret-key-file\n");
        return EX_USAGE;
      case 3:
        /* Refused, not just deprecated: it is already in `ps` by now, so
         * say so and make the user move it to a file. */
        fprintf (stderr,
            "segd-sub: a secret key on the command line is "
            "visible to every user in ps; put it in a file (mode 0600) and "
            "use --curve-secret-key-file\n");
        return EX_USAGE;
      case 4:
        o->server_key_file = optarg;
        break;
      case 5:
        o->secret_key_file = optarg;
        break;
      case 'h':
        usage (stdout);
        exit (EX_OK);
      default:
        return EX_USAGE;
    }
  }
  if (optind >= argc)
    return EX_USAGE;
  o->endpoints = argv + optind;
  o->n_endpoints = argc - optind;
  return EX_OK;
}

static int
png_chunk (FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
  uint8_t be[4] = {len >> 24, len >> 16, len >> 8, len};
  uLong crc = crc32 (0, (const Bytef *) type, 4);

  if (len)
    crc = crc32 (crc, data, len);
  if (fwrite (be, 1, 4, f) != 4 || fwrite (type, 1, 4, f) != 4
      || (len && fwrite (data, 1, len, f) != len))
    return -1;
  be[0] = crc >> 24;
  be[1] = crc >> 16;
  be[2] = crc >> 8;
  be[3] = crc;
  return fwrite (be, 1, 4, f) == 4 ? 0 : -1;
}

/* A minimal 8-bit greyscale PNG: one zlib stream of filter-0 rows. */
static int
save_png (const char *path, const segmask_msg *m)
{
  const segmask_header *h = &m->header;
  size_t rows_len = (size_t) (h->width + 1) * h->height;
  uLongf z_len = compressBound (rows_len);
  uint8_t *rows = malloc (rows_len), *z = malloc (z_len);
  uint8_t ihdr[13] = {0};
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  FILE *f = NULL;
  int ret = -1;

  if (!rows || !z)
    goto out;
  for (uint32_t y = 0; y < h->height; y++) {
    rows[(size_t) y * (h->width + 1)] = 0;
    memcpy (rows + (size_t) y * (h->width + 1) + 1,
        m->data + (size_t) y * h->stride, h->width);
  }
  if (compress2 (z, &z_len, rows, rows_len, 6) != Z_OK)
    goto out;
  for (int i = 0; i < 4; i++) {
    ihdr[i] = (uint8_t) (h->width >> (24 - 8 * i));
    ihdr[4 + i] = (uint8_t) (h->height >> (24 - 8 * i));
  }
  ihdr[8] = 8; /* bit depth; colour type 0 = grey */
  if (!(f = fopen (path, "wb")))
    goto out;
  if (fwrite (sig, 1, 8, f) != 8 || png_chunk (f, "IHDR", ihdr, 13) != 0
      || png_chunk (f, "IDAT", z, (uint32_t) z_len) != 0
      || png_chunk (f, "IEND", NULL, 0) != 0)
    goto out;
  ret = 0;
out:
  if (f && fclose (f) != 0)
    ret = -1;
  free (rows);
  free (z);
  return ret;
}

static void
print_mask (const segmask_msg *m)
{
  const segmask_header *h = &m->header;
  uint64_t hist[256] = {0};
  uint64_t total = (uint64_t) h->width * h->height;
  uint64_t now = real_now_ns ();

  for (uint32_t y = 0; y < h->height; y++)
    for (uint32_t x = 0; x < h->width; x++)
      hist[m->data[(size_t) y * h->stride + x]]++;
  char safe[4 * SEGMASK_MAX_STRING + 1];

  /* Stream names and labels come from the publisher: never raw to a
   * terminal (the decoder rejects C0 controls; this also covers C1 and
   * anything else outside printable ASCII). */
  printf ("stream=%s seq=%" PRIu64 " size=%ux%u enc=%s bytes=%u age=%.1fms "
          "latency=%.1fms e2e=%.1fms",
      segmask_printable (h->stream, safe, sizeof (safe)), h->seq, h->width,
      h->height, segmask_encoding_name (h->encoding), h->payload_len,
      h->mask_age_ns / 1e6, h->inference_ns / 1e6,
      h->capture_realtime_ns && now > h->capture_realtime_ns
          ? (now - h->capture_realtime_ns) / 1e6
          : 0.0);
  if (h->kind == SEGMASK_KIND_PROBABILITY) {
    uint64_t fg = 0;

    for (int v = 128; v < 256; v++)
      fg += hist[v];
    printf (" foreground=%.1f%%", 100.0 * fg / total);
  } else {
    for (int c = 0; c < 256; c++) {
      if (!hist[c])
        continue;
      if (c < (int) h->num_classes && h->labels[c][0])
        printf (" %s=%.1f%%",
            segmask_printable (h->labels[c], safe, sizeof (safe)),
            100.0 * hist[c] / total);
      else
        printf (" class%d=%.1f%%", c, 100.0 * hist[c] / total);
    }
  }
  putchar ('\n');
  fflush (stdout);
}

static void
window_flush (Window *w, const segmask_sub *sub, double now)
{
  segmask_sub_stats s;
  double secs = now - w->start;

  segmask_sub_get_stats (sub, &s);
  if (w->n_streams == 0)
    printf ("fps=0.0 gaps=%" PRIu64 " invalid=%" PRIu64 "\n",
        s.missed - w->missed_at_start, s.invalid);
  for (unsigned i = 0; i < w->n_streams; i++) {
    StreamWindow *sw = &w->streams[i];
    char safe[4 * SEGMASK_MAX_STRING + 1];

    printf ("stream=%s fps=%.1f latency=%.1fms e2e=%.1fms gaps=%" PRIu64
            " invalid=%" PRIu64 "%s\n",
        segmask_printable (sw->name, safe, sizeof (safe)),
        secs > 0 ? sw->masks / secs : 0.0,
        sw->masks ? sw->latency_sum / sw->masks : 0.0,
        sw->masks ? sw->e2e_sum / sw->masks : 0.0,
        s.missed - w->missed_at_start, s.invalid, sw->sched);
    sw->masks = 0;
    sw->latency_sum = sw->e2e_sum = 0;
  }
  fflush (stdout);
  w->start = now;
  w->missed_at_start = s.missed;
}

int
main (int argc, char **argv)
{
  Options o;
  segmask_sub_options opt;
  segmask_sub *sub = NULL;
  char err[256];
  long got = 0;
  int eos = 0;
  double last_mask;
  Window w = {0};
  int ret = EX_OK;
  char server_z[41], public_z[41], secret_z[41] = "";
  segmask_status opened;

  if (parse_args (argc, argv, &o) != EX_OK) {
    usage (stderr);
    return EX_USAGE;
  }
  if (o.save_dir && mkdir (o.save_dir, 0777) != 0 && errno != EEXIST) {
    fprintf (stderr, "segd-sub: cannot create %s: %s\n", o.save_dir,
        strerror (errno));
    return EX_SOFTWARE;
  }
  signal (SIGPIPE, SIG_IGN);
  segmask_sub_options_init (&opt);
  opt.endpoint = o.endpoints[0];
  opt.stream = o.stream;
  opt.latest_only = o.latest;
  opt.status = o.stats;
  if (o.server_key || o.server_key_file || o.secret_key_file) {
    if ((!o.server_key == !o.server_key_file) || !o.secret_key_file) {
      fprintf (stderr,
          "segd-sub: CURVE needs --curve-secret-key-file and "
          "one of --curve-server-key, --curve-server-key-file\n");
      return EX_USAGE;
    }
    if (segmask_key_load (o.server_key, o.server_key_file, server_z, err,
            sizeof (err))
            != SEGMASK_OK
        || segmask_keypair_load (NULL, o.secret_key_file, public_z, secret_z,
               err, sizeof (err))
            != SEGMASK_OK) {
      fprintf (stderr, "segd-sub: %s\n", err);
      return EX_USAGE;
    }
    opt.curve_server_key = server_z;
    opt.curve_public_key = public_z;
    opt.curve_secret_key = secret_z;
  }
  opened = segmask_sub_new (&opt, &sub, err, sizeof (err));
  memset (secret_z, 0, sizeof (secret_z));
  if (opened != SEGMASK_OK) {
    fprintf (stderr, "segd-sub: %s\n", err);
    return EX_SOFTWARE;
  }
  for (int i = 1; i < o.n_endpoints; i++) {
    if (segmask_sub_connect (sub, o.endpoints[i], err, sizeof (err))
        != SEGMASK_OK) {
      fprintf (stderr, "segd-sub: %s\n", err);
      segmask_sub_free (&sub);
      return EX_SOFTWARE;
    }
  }

  last_mask = w.start = mono_now ();
  while (o.count < 0 || got < o.count) {
    segmask_msg *m = NULL;
    segmask_status st = segmask_sub_recv (sub, 250, &m);
    double now = mono_now ();

    if (o.stats && now - w.start >= 1.0)
      window_flush (&w, sub, now);
    if (st == SEGMASK_TIMEOUT) {
      if (o.timeout >= 0 && now - last_mask >= o.timeout) {
        fprintf (stderr, "segd-sub: no mask within %.1f s\n", o.timeout);
        ret = EX_UNAVAILABLE;
        break;
      }
      continue;
    }
    if (st != SEGMASK_OK) {
      fprintf (stderr, "segd-sub: %s\n", segmask_status_string (st));
      ret = EX_SOFTWARE;
      break;
    }
    if (m->header.type == SEGMASK_MSG_EOS) {
      segmask_msg_free (&m);
      if (++eos >= o.n_endpoints)
        break;
      continue;
    }
    if (m->header.type == SEGMASK_MSG_STATUS)
      window_status (&w, m);
    if (m->header.type != SEGMASK_MSG_MASK) {
      segmask_msg_free (&m);
      continue;
    }
    got++;
    last_mask = now;
    {
      StreamWindow *sw = window_stream (&w, m->header.stream);

      if (sw) {
        sw->masks++;
        sw->latency_sum += m->header.inference_ns / 1e6;
        if (m->header.capture_realtime_ns)
          sw->e2e_sum += (real_now_ns () - m->header.capture_realtime_ns) / 1e6;
      }
    }
    if (!o.stats)
      print_mask (m);
    if (o.save_dir) {
      char path[4096], name[SEGMASK_MAX_STRING + 1];

      /* The stream name is untrusted: no path separators or dot-dots. */
      snprintf (name, sizeof (name), "%s", m->header.stream);
      for (char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
          *c = '_';
      snprintf (path, sizeof (path), "%s/%s-%06" PRIu64 ".png", o.save_dir,
          name, m->header.seq);
      if (save_png (path, m) != 0) {
        fprintf (stderr, "segd-sub: cannot write %s\n", path);
        segmask_msg_free (&m);
        ret = EX_SOFTWARE;
        break;
      }
    }
    segmask_msg_free (&m);
  }
  segmask_sub_free (&sub);
  return ret;
}
