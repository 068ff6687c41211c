/* bench-multicam — many cameras on one host: one process with the shared
 * engine against one process per camera, as segd@camN runs them today.
 *
 *   bench-multicam table SELFIE.tflite [LRASPP.onnx] [SECONDS]
 *
 * For 1, 2, 4 and 8 streams of 640x480 I420 at 30 fps per model, prints
 * per stream the delivered masks/s and the capture -> publish latency
 * p50/p99, then the total masks/s, the CPU used (cores) and the CPU per
 * delivered mask. Frames are generated once and pushed by one thread into
 * live appsrcs that keep only the newest frame (a camera with a one-frame
 * queue), so the source costs next to nothing; stream i's frames come i/N
 * of a period after stream 0's (cameras are not phase-locked). "shared" runs every stream
 * in one process on engine "bench" (threads = one worker per core,
 * weights 1, 2, 1, 2, ..., max-latency 200 ms); "procs" runs each stream
 * in its own process with a private segmenter at the default threads.
 * Each configuration warms up for 2 s, then measures for SECONDS (5;
 * SEGD_BENCH_SECONDS). SEGD_BENCH_BUDGET_MS changes the budget. A row runs
 * ROUNDS (3; SEGD_BENCH_ROUNDS) shared/procs pairs one after the other and
 * its ratio is the median of the pairs' ratios: what separate processes
 * cost moves with the host's other work (single pairs of the 8-stream row
 * gave 0.61, 0.74 and 0.82 in three runs within ten minutes).
 *
 * Then the overloaded case: the engine's saturated throughput is measured
 * as `seg bench --threads <CPUs>` measures it (one session, frames back to
 * back, median), and enough streams to offer twice that run shared and as
 * processes. It prints the total against that throughput, each stream's
 * deviation from its weighted share and the worst p99 against the budget,
 * and checks the targets on each model's rows. A model that would
 * need more than MAX_STREAMS streams to overload (the selfie model) is
 * not overloaded.
 * A mask is delivered when the buffer reaches the sink carrying a mask
 * computed from itself; latency is the sink's clock time minus the
 * buffer's capture (running) time.
 *
 *   bench-multicam run MODEL N shared|private SECONDS
 *
 * is one process of the above (the table spawns them).
 */
#include <gio/gio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include "bench-session.h"
#include <segmeta.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define W 640
#define H 480
#define FPS 30
#define MAX_STREAMS 32
#define N_FRAMES 8
#define SAMPLES 4096
#define WARMUP_S 2.0
#define BUDGET_MS 200
#define MAX_ROUNDS 9

typedef struct
{
  GstElement *pipeline, *src;
  GMutex lock;
  gboolean measuring;
  guint64 masks;
  guint n;
  gdouble lat[SAMPLES]; /* ms */
} Stream;

static Stream streams[MAX_STREAMS];
static guint n_streams;
static GstBuffer *frames[N_FRAMES];
static volatile gint quit;

static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
make_frames (void)
{
  GstVideoInfo info;
  guint32 x = 12345;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  for (guint f = 0; f < N_FRAMES; f++) {
    GstMapInfo map;

    frames[f] = gst_buffer_new_allocate (NULL, info.size, NULL);
    gst_buffer_map (frames[f], &map, GST_MAP_WRITE);
    /* A moving gradient with a little noise: content, not a flat plane. */
    for (gsize i = 0; i < map.size; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      map.data[i] = (guint8) ((i % W) / 3 + f * 8 + (x >> 29));
    }
    gst_buffer_unmap (frames[f], &map);
  }
}

static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Stream *s = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstSegMeta *meta = gst_buffer_get_seg_meta (buf);
  GstElement *sink = GST_ELEMENT (GST_PAD_PARENT (pad));
  GstClock *clock = gst_element_get_clock (sink);
  GstClockTime now, base;

  if (!meta || meta->age_frames != 0 || !clock)
    goto done;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (sink);
  g_mutex_lock (&s->lock);
  if (s->measuring) {
    s->masks++;
    if (s->n < SAMPLES && GST_BUFFER_PTS_IS_VALID (buf)
        && now >= base + GST_BUFFER_PTS (buf))
      s->lat[s->n++] = (now - base - GST_BUFFER_PTS (buf)) / 1e6;
  }
  g_mutex_unlock (&s->lock);
done:
  if (clock)
    gst_object_unref (clock);
  return GST_PAD_PROBE_OK;
}

/* Cameras are not phase-locked: stream i's frames come i/N of a frame
 * period after stream 0's, as independent cameras' would on average. */
static gpointer
pusher (gpointer data)
{
  gint64 start = g_get_monotonic_time ();
  guint64 tick = 0;

  (void) data;
  while (!g_atomic_int_get (&quit)) {
    guint i = tick % n_streams;
    gint64 next;

    gst_app_src_push_buffer (GST_APP_SRC (streams[i].src),
        gst_buffer_ref (frames[(tick / n_streams) % N_FRAMES]));
    tick++;
    next =
        start + (gint64) (tick * G_USEC_PER_SEC / ((guint64) FPS * n_streams));
    if (next > g_get_monotonic_time ())
      g_usleep (next - g_get_monotonic_time ());
  }
  return NULL;
}

static guint64
bench_budget_ms (void)
{
  const gchar *env = g_getenv ("SEGD_BENCH_BUDGET_MS");

  return env ? g_ascii_strtoull (env, NULL, 10) : BUDGET_MS;
}

static int
compare_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static int
run (const gchar *model, guint n, gboolean shared, gdouble seconds)
{
  GThread *thread;
  gdouble cpu0, cpu1;
  gint64 t0, t1;

  guint64 budget_ms = bench_budget_ms ();

  n_streams = n;
  make_frames ();
  for (guint i = 0; i < n; i++) {
    Stream *s = &streams[i];
    GError *error = NULL;
    gchar *desc = g_strdup_printf ("appsrc name=src is-live=true "
                                   "do-timestamp=true format=time "
                                   "max-buffers=1 leaky-type=downstream "
                                   "caps=video/"
                                   "x-raw,format=I420,width=%d,height=%d,"
                                   "framerate=%d/1 ! "
                                   "segmenter model=\"%s\" %s weight=%u "
                                   "max-latency=%" G_GUINT64_FORMAT
                                   " ! fakesink name=sink sync=false",
        W, H, FPS, model, shared ? "engine=bench" : "", 1 + i % 2,
        shared ? budget_ms * GST_MSECOND : (guint64) 0);
    GstElement *sink;
    GstPad *pad;

    g_mutex_init (&s->lock);
    s->pipeline = gst_parse_launch (desc, &error);
    if (!s->pipeline || error) {
      /* A missing element leaves a partial pipeline and sets error. */
      fprintf (stderr, "bench-multicam: %s\n", error ? error->message : "?");
      return 1;
    }
    g_free (desc);
    s->src = gst_bin_get_by_name (GST_BIN (s->pipeline), "src");
    sink = gst_bin_get_by_name (GST_BIN (s->pipeline), "sink");
    pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, s, NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
    if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE) {
      fprintf (stderr, "bench-multicam: stream %u does not start\n", i);
      return 1;
    }
  }
  thread = g_thread_new ("pusher", pusher, NULL);
  g_usleep ((gulong) (WARMUP_S * G_USEC_PER_SEC));

  for (guint i = 0; i < n; i++) {
    g_mutex_lock (&streams[i].lock);
    streams[i].measuring = TRUE;
    g_mutex_unlock (&streams[i].lock);
  }
  t0 = g_get_monotonic_time ();
  cpu0 = cpu_seconds ();
  g_usleep ((gulong) (seconds * G_USEC_PER_SEC));
  cpu1 = cpu_seconds ();
  t1 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++) {
    g_mutex_lock (&streams[i].lock);
    streams[i].measuring = FALSE;
    g_mutex_unlock (&streams[i].lock);
  }
  g_atomic_int_set (&quit, 1);
  g_thread_join (thread);

  for (guint i = 0; i < n; i++) {
    Stream *s = &streams[i];
    gdouble p50 = 0, p99 = 0;

    if (s->n) {
      qsort (s->lat, s->n, sizeof s->lat[0], compare_double);
      p50 = s->lat[s->n / 2];
      p99 = s->lat[MIN (s->n - 1, s->n * 99 / 100)];
    }
    printf ("stream %u weight %u masks %" G_GUINT64_FORMAT " p50 %.1f p99 "
            "%.1f\n",
        i, 1 + i % 2, s->masks, p50, p99);
    gst_element_set_state (s->pipeline, GST_STATE_NULL);
    gst_object_unref (s->src);
    gst_object_unref (s->pipeline);
  }
  printf ("wall %.3f cpu %.3f\n", (t1 - t0) / 1e6, cpu1 - cpu0);
  for (guint f = 0; f < N_FRAMES; f++)
    gst_buffer_unref (frames[f]);
  return 0;
}

/* ---- the table ---- */

typedef struct
{
  guint64 masks[MAX_STREAMS];
  guint weight[MAX_STREAMS];
  gdouble p50[MAX_STREAMS], p99[MAX_STREAMS];
  guint n;
  gdouble wall, cpu;
} Result;

static gboolean
parse (const gchar *out, Result *r, guint offset)
{
  gchar **lines = g_strsplit (out, "\n", -1);
  gboolean ok = FALSE;

  for (guint i = 0; lines[i]; i++) {
    guint idx, w;
    guint64 m;
    gdouble a, b;

    if (sscanf (lines[i],
            "stream %u weight %u masks %" G_GUINT64_FORMAT " p50 %lf p99 %lf",
            &idx, &w, &m, &a, &b)
            == 5
        && idx + offset < MAX_STREAMS) {
      r->masks[idx + offset] = m;
      r->weight[idx + offset] = w;
      r->p50[idx + offset] = a;
      r->p99[idx + offset] = b;
      r->n = MAX (r->n, idx + offset + 1);
    } else if (sscanf (lines[i], "wall %lf cpu %lf", &a, &b) == 2) {
      r->wall = MAX (r->wall, a);
      r->cpu += b;
      ok = TRUE;
    }
  }
  g_strfreev (lines);
  return ok;
}

static gboolean
measure (const gchar *self, const gchar *model, guint n, gboolean shared,
    gdouble seconds, Result *r)
{
  guint procs = shared ? 1 : n;
  GSubprocess *p[MAX_STREAMS];
  gchar secs[32], count[16];
  gboolean ok = TRUE;

  memset (r, 0, sizeof *r);
  g_snprintf (secs, sizeof secs, "%g", seconds);
  g_snprintf (count, sizeof count, "%u", shared ? n : 1);
  for (guint i = 0; i < procs; i++) {
    GError *error = NULL;

    p[i] = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self,
        "run", model, count, shared ? "shared" : "private", secs, NULL);
    if (!p[i]) {
      fprintf (stderr, "bench-multicam: %s\n", error->message);
      return FALSE;
    }
  }
  for (guint i = 0; i < procs; i++) {
    gchar *out = NULL;

    if (!g_subprocess_communicate_utf8 (p[i], NULL, NULL, &out, NULL, NULL)
        || !g_subprocess_get_successful (p[i])
        || !parse (out, r, shared ? 0 : i))
      ok = FALSE;
    g_free (out);
    g_object_unref (p[i]);
  }
  return ok;
}

/* What each stream should get: every stream wants FPS masks/s; the
 * delivered total is split by weight (max-min fair), a stream never
 * getting more than it wants. */
static void
fair_shares (const Result *r, const gdouble *weight, gdouble total,
    gdouble *share)
{
  gboolean capped[MAX_STREAMS] = {FALSE};
  gdouble left = total;

  for (guint round = 0; round < r->n; round++) {
    gdouble wsum = 0;
    gboolean changed = FALSE;

    for (guint i = 0; i < r->n; i++)
      if (!capped[i])
        wsum += weight[i];
    for (guint i = 0; i < r->n; i++)
      if (!capped[i])
        share[i] = wsum > 0 ? left * weight[i] / wsum : 0;
    for (guint i = 0; i < r->n; i++)
      if (!capped[i] && share[i] > FPS) {
        share[i] = FPS;
        capped[i] = TRUE;
        left -= FPS;
        changed = TRUE;
      }
    if (!changed)
      break;
  }
}

/* Process CPU per delivered mask, in ms. */
static gdouble
cpu_per_mask (const Result *r)
{
  gdouble total = 0;

  for (guint i = 0; i < r->n; i++)
    total += r->masks[i] / r->wall;
  return total > 0 ? r->cpu / r->wall / total * 1000 : 0;
}

static void
print_result (const gchar *tag, guint n, const Result *r, gdouble *cpm)
{
  gboolean shared = !strcmp (tag, "shared");
  gdouble weight[MAX_STREAMS] = {0}, share[MAX_STREAMS] = {0};
  gdouble total = 0;

  for (guint i = 0; i < r->n; i++) {
    total += r->masks[i] / r->wall;
    weight[i] = shared ? r->weight[i] : 1.0;
  }
  fair_shares (r, weight, total, share);
  *cpm = cpu_per_mask (r);
  printf ("  %-6s %u streams: %.1f masks/s, CPU %.2f cores, %.1f ms CPU "
          "per mask\n",
      tag, n, total, r->cpu / r->wall, *cpm);
  for (guint i = 0; i < r->n; i++) {
    gdouble got = r->masks[i] / r->wall;

    printf ("    stream %u%s: %5.1f masks/s (fair share %5.1f, %+5.1f%%), "
            "latency p50 %6.1f ms p99 %6.1f ms\n",
        i, shared ? (r->weight[i] == 2 ? " (w2)" : " (w1)") : "     ", got,
        share[i], share[i] > 0 ? 100 * (got - share[i]) / share[i] : 0.0,
        r->p50[i], r->p99[i]);
  }
}

/* Frames a second of one session with `threads` threads run back to back
 * (the median of 40 runs after 5 untimed): what `seg bench --threads N`
 * reports, the most the engine could deliver. 0 if the model fails. */
static gdouble
saturated_fps (const gchar *path, gint threads)
{
  BenchSession b;
  gdouble ms[40], fps = 0;

  if (!bench_session_open (&b, path, threads))
    return 0;
  for (guint i = 0; i < 5 + G_N_ELEMENTS (ms); i++) {
    gint64 t0 = g_get_monotonic_time ();

    if (bench_session_run (&b) != SEG_OK)
      goto out;
    if (i >= 5)
      ms[i - 5] = (g_get_monotonic_time () - t0) / 1e3;
  }
  qsort (ms, G_N_ELEMENTS (ms), sizeof ms[0], compare_double);
  fps = 1e3 / ms[G_N_ELEMENTS (ms) / 2];
out:
  bench_session_close (&b);
  return fps;
}

/* The overloaded targets on a shared run: total masks/s at least 90 % of
 * `capacity`, every stream within 10 % of its weighted share, every p99
 * within the budget. */
static void
overload_verdict (const Result *r, gdouble capacity, guint64 budget_ms)
{
  gdouble weight[MAX_STREAMS] = {0}, share[MAX_STREAMS] = {0};
  gdouble total = 0, worst = 0;
  gdouble worst_p99 = 0;
  gboolean ok;

  for (guint i = 0; i < r->n; i++) {
    total += r->masks[i] / r->wall;
    weight[i] = r->weight[i];
  }
  fair_shares (r, weight, total, share);
  for (guint i = 0; i < r->n; i++) {
    gdouble dev =
        share[i] > 0 ? fabs (r->masks[i] / r->wall - share[i]) / share[i] : 0;

    worst = MAX (worst, dev);
    worst_p99 = MAX (worst_p99, r->p99[i]);
  }
  ok = total >= 0.9 * capacity && worst <= 0.1 && worst_p99 <= budget_ms;
  printf ("  -> overloaded, shared: %.1f masks/s = %.0f%% of the saturated "
          "%.1f/s (target >= 90%%); worst share deviation %.1f%% (<= 10%%); "
          "worst p99 %.1f ms (<= %" G_GUINT64_FORMAT " ms): %s\n",
      total, 100 * total / capacity, capacity, 100 * worst, worst_p99,
      budget_ms, ok ? "MET" : "NOT MET");
}

/* Enough streams to offer twice the saturated throughput, shared and as
 * processes. FALSE if a run failed. */
static gboolean
overload (const gchar *self, const gchar *model, gdouble seconds,
    guint64 budget_ms)
{
  gdouble capacity = saturated_fps (model, (gint) g_get_num_processors ());
  guint n = (guint) ceil (2 * capacity / FPS);
  Result shared, procs;
  gdouble cpm_shared, cpm_procs;

  if (capacity <= 0) {
    fprintf (stderr, "bench-multicam: %s does not run in a session\n", model);
    return FALSE;
  }
  printf ("  saturated: %.1f frames/s (one session, %u threads, back to "
          "back); twice that is %u streams\n",
      capacity, g_get_num_processors (), n);
  if (n > MAX_STREAMS) {
    printf ("  -> not overloaded here (more than %d streams)\n", MAX_STREAMS);
    return TRUE;
  }
  if (!measure (self, model, n, TRUE, seconds, &shared)
      || !measure (self, model, n, FALSE, seconds, &procs)) {
    fprintf (stderr, "bench-multicam: an overloaded run failed\n");
    return FALSE;
  }
  print_result ("shared", n, &shared, &cpm_shared);
  print_result ("procs", n, &procs, &cpm_procs);
  overload_verdict (&shared, capacity, budget_ms);
  fflush (stdout);
  return TRUE;
}

static int
table (const gchar *self, const gchar *const *models, guint n_models,
    gdouble seconds, guint rounds)
{
  static const guint counts[] = {1, 2, 4, 8};
  guint64 budget_ms = bench_budget_ms ();
  gchar load[64] = "?";
  gchar *text = NULL;

  if (g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    g_strlcpy (load, text, 15);
  g_free (text);
  printf ("bench-multicam: %ux%u I420 at %d fps per stream, %u CPUs, "
          "load %s, %.0f s per run, %u rounds per row\n",
      W, H, FPS, g_get_num_processors (), load, seconds, rounds);
  for (guint m = 0; m < n_models; m++) {
    gchar *base = g_path_get_basename (models[m]);

    printf ("\n%s\n", base);
    g_free (base);
    for (guint c = 0; c < G_N_ELEMENTS (counts); c++) {
      gdouble ratio[MAX_ROUNDS], sorted[MAX_ROUNDS];
      gboolean full = TRUE;

      for (guint k = 0; k < rounds; k++) {
        Result shared, procs;
        gdouble cpm_shared, cpm_procs;

        if (!measure (self, models[m], counts[c], TRUE, seconds, &shared)
            || !measure (self, models[m], counts[c], FALSE, seconds, &procs)) {
          fprintf (stderr, "bench-multicam: a run failed\n");
          return 1;
        }
        /* Every stream of the first round; the rounds after it only
         * repeat the CPU figures. */
        if (k == 0) {
          print_result ("shared", counts[c], &shared, &cpm_shared);
          print_result ("procs", counts[c], &procs, &cpm_procs);
        } else {
          cpm_shared = cpu_per_mask (&shared);
          cpm_procs = cpu_per_mask (&procs);
        }
        if (cpm_shared <= 0 || cpm_procs <= 0) {
          /* A pair without masks has no ratio; a 0 would bias the
           * median. */
          fprintf (stderr, "bench-multicam: a run delivered no masks\n");
          return 1;
        }
        ratio[k] = cpm_shared / cpm_procs;
        printf ("  round %u: CPU per mask shared %.2f ms, procs %.2f ms, "
                "ratio %.2f\n",
            k + 1, cpm_shared, cpm_procs, ratio[k]);
        for (guint i = 0; i < shared.n; i++)
          full = full && shared.masks[i] / shared.wall >= FPS * 0.99;
        fflush (stdout);
      }
      memcpy (sorted, ratio, rounds * sizeof ratio[0]);
      qsort (sorted, rounds, sizeof sorted[0], compare_double);
      gdouble median = rounds % 2
          ? sorted[rounds / 2]
          : (sorted[rounds / 2 - 1] + sorted[rounds / 2]) / 2;
      printf ("  -> CPU per mask, shared / procs: %.2f (median of %u rounds, "
              "%.2f-%.2f)\n",
          median, rounds, sorted[0], sorted[rounds - 1]);
      /* The not-overloaded target is the first model's (SELFIE). */
      if (m == 0 && counts[c] == 8)
        printf ("  -> 8 streams: every stream at %d masks/s in every round: "
                "%s; CPU per mask <= 0.8x: %s\n",
            FPS, full ? "yes" : "no", median <= 0.8 ? "yes" : "no");
      fflush (stdout);
    }
    if (!overload (self, models[m], seconds, budget_ms))
      return 1;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc >= 6 && !strcmp (argv[1], "run"))
    return run (argv[2], (guint) atoi (argv[3]), !strcmp (argv[4], "shared"),
        g_ascii_strtod (argv[5], NULL));
  if (argc >= 3 && !strcmp (argv[1], "table")) {
    const gchar *models[2] = {argv[2], NULL};
    guint n = 1;
    gdouble seconds = 5;
    guint rounds = 3;

    if (argc >= 4 && g_file_test (argv[3], G_FILE_TEST_EXISTS))
      models[n++] = argv[3];
    if (argc >= 4 && g_ascii_strtod (argv[argc - 1], NULL) > 0)
      seconds = g_ascii_strtod (argv[argc - 1], NULL);
    if (g_getenv ("SEGD_BENCH_SECONDS"))
      seconds = g_ascii_strtod (g_getenv ("SEGD_BENCH_SECONDS"), NULL);
    if (g_getenv ("SEGD_BENCH_ROUNDS"))
      rounds = (guint) atoi (g_getenv ("SEGD_BENCH_ROUNDS"));
    if (rounds < 1 || rounds > MAX_ROUNDS) {
      fprintf (stderr, "bench-multicam: SEGD_BENCH_ROUNDS must be 1..%d\n",
          MAX_ROUNDS);
      return 2;
    }
    {
      gchar *self = g_file_read_link ("/proc/self/exe", NULL);
      int ret = table (self ? self : argv[0], models, n, seconds, rounds);

      g_free (self);
      return ret;
    }
  }
  fprintf (stderr,
      "usage: bench-multicam table SELFIE [LRASPP] [SECONDS]\n"
      "       bench-multicam run MODEL N shared|private SECONDS\n");
  return 2;
}
