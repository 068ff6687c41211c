/* What a frame costs end to end: builds segd's pipeline (source bin ->
 * queue "frames" -> segmenter -> queue "masks" -> zmqmasksink on an ipc://
 * socket in a temp dir, sync=false) in this process, feeds it from a
 * source that costs next to nothing, and prints the service's CPU per frame
 * next to `seg bench`'s for the same model and threads: their ratio is the
 * overhead factor. Both are CPU time, not wall time: on a shared machine a
 * preempted frame costs no more CPU than an undisturbed one.
 *
 * Why a harness and not segd itself: segd has no source of ready-made
 * frames, and one added to the daemon only for this would be a config key
 * to support. Here the source is an appsrc fed from one thread with the
 * same pre-made frame (the astronaut photo, or a videotestsrc frame when
 * python3-skimage is missing) wrapped read-only in a new GstBuffer each
 * time, 30 times a second; for MJPEG the frame is encoded once with
 * jpegenc and the bin is appsrc ! jpegdec ! videoconvert, as segd's v4l2
 * bin is v4l2src ! capsfilter ! jpegdec ! videoconvert.
 *
 * "Excluding the source": the same feeder and appsrc with a fakesink right
 * behind it run in the same invocation, and their CPU per frame is
 * subtracted. CPU comes from /proc/self/task/N/schedstat (nanoseconds on
 * CPU), so the per-thread table at the end is exact, not tick-sampled.
 * Latency is from the feeder's push to the buffer arriving at the sink's
 * pad (segd's own probe point), p50 and p99. A last column runs the model
 * alone at 30 runs a second in this process: how much of the factor the
 * host's caches take from a model that idles between frames.
 *
 * Each case runs in rounds, each the pipeline for seconds / rounds and then
 * `seg bench`, and prints the medians over the rounds, with the overhead
 * factor the median of each round's own: this host's speed drifts by
 * 10-20 % over seconds, which a service figure and a seg bench figure
 * taken apart would carry into their ratio.
 *
 * Usage: bench-e2e --seg PATH/seg [--model M] [--threads N] [--seconds S]
 *            [--rounds R] [--case FORMAT:WxH[:DECODER]]...
 * FORMAT: YUY2, NV12, MJPEG; DECODER (MJPEG only): jpegdec (default, as
 * segd builds it) or segmenter (the element decodes JPEG itself).
 * Without --case: YUY2, NV12 and MJPEG at 640x480 and 1280x720. */
#include <gst/app/app.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "bench-session.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FPS 30
#define MAX_THREADS 64
#define MAX_ROUNDS 20

typedef struct
{
  gchar *format; /* YUY2, NV12, MJPEG */
  gint width, height;
  gchar *decoder; /* MJPEG only */
} Case;

typedef struct
{
  GstElement *pipeline;
  GstAppSrc *src;
  GBytes *frame;
  guint frames;
  gdouble *push_ns; /* by frame index */
  gdouble *lat_ms;
  guint nlat;
  gint64 t_begin, t_end; /* monotonic ns: the measured window */
  guint warm;            /* frames before the window */
  gboolean quit;
} Run;

typedef struct
{
  gchar name[32];
  gint tid;
  guint64 ns;
} ThreadCpu;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Every thread of this process with its CPU time so far. */
static guint
threads_cpu (ThreadCpu *out, guint max)
{
  DIR *dir = opendir ("/proc/self/task");
  struct dirent *de;
  guint n = 0;

  if (!dir)
    return 0;
  while ((de = readdir (dir)) && n < max) {
    gchar path[64], buf[128];
    FILE *f;

    if (de->d_name[0] == '.')
      continue;
    out[n].tid = atoi (de->d_name);
    out[n].ns = 0;
    out[n].name[0] = 0;
    g_snprintf (path, sizeof path, "/proc/self/task/%s/schedstat", de->d_name);
    if ((f = fopen (path, "r"))) {
      if (fgets (buf, sizeof buf, f))
        out[n].ns = g_ascii_strtoull (buf, NULL, 10);
      fclose (f);
    }
    g_snprintf (path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
    if ((f = fopen (path, "r"))) {
      if (fgets (out[n].name, sizeof out[n].name, f))
        out[n].name[strcspn (out[n].name, "\n")] = 0;
      fclose (f);
    }
    n++;
  }
  closedir (dir);
  return n;
}

static guint64
thread_delta (const ThreadCpu *a, guint na, const ThreadCpu *b, guint i)
{
  for (guint j = 0; j < na; j++)
    if (a[j].tid == b[i].tid)
      return b[i].ns - a[j].ns;
  return b[i].ns;
}

/* One frame of `format` at w x h (for MJPEG: a JPEG of an I420 frame),
 * made by a throwaway pipeline. */
static GBytes *
make_frame (const gchar *format, gint w, gint h)
{
  const gchar *photo = "/usr/lib/python3/dist-packages/skimage/data/"
                       "astronaut.png";
  gboolean jpeg = !strcmp (format, "MJPEG");
  g_autofree gchar *head = g_file_test (photo, G_FILE_TEST_EXISTS)
      ? g_strdup_printf ("filesrc location=%s ! pngdec ! imagefreeze "
                         "num-buffers=1",
          photo)
      : g_strdup ("videotestsrc num-buffers=1 pattern=smpte");
  g_autofree gchar *desc = g_strdup_printf ("%s ! videoconvert ! videoscale "
                                            "! "
                                            "video/"
                                            "x-raw,format=%s,width=%d,height=%"
                                            "d,pixel-aspect-ratio=1/1 %s "
                                            "! appsink name=out sync=false",
      head, jpeg ? "I420" : format, w, h, jpeg ? "! jpegenc quality=85" : "");
  GError *error = NULL;
  GstElement *p = gst_parse_launch (desc, &error);
  GstSample *sample;
  GBytes *bytes = NULL;

  if (!p) {
    g_printerr ("bench-e2e: %s\n", error->message);
    exit (1);
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
  if (sample) {
    GstMapInfo map;
    GstBuffer *b = gst_sample_get_buffer (sample);

    gst_buffer_map (b, &map, GST_MAP_READ);
    bytes = g_bytes_new (map.data, map.size);
    gst_buffer_unmap (b, &map);
    gst_sample_unref (sample);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  if (!bytes) {
    g_printerr ("bench-e2e: could not make a %s frame\n", format);
    exit (1);
  }
  return bytes;
}

static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Run *run = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (b);
  guint i;

  (void) pad;
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;
  i = (guint) ((pts + GST_SECOND / FPS / 2) / (GST_SECOND / FPS));
  if (i >= run->warm && i < run->frames && run->push_ns[i] > 0)
    run->lat_ms[run->nlat++] = (now_ns () - run->push_ns[i]) / 1e6;
  return GST_PAD_PROBE_OK;
}

static gpointer
feed (gpointer data)
{
  Run *run = data;
  struct timespec next;
  gint64 start;

  clock_gettime (CLOCK_MONOTONIC, &next);
  start = (gint64) next.tv_sec * 1000000000 + next.tv_nsec;
  for (guint i = 0; i < run->frames && !run->quit; i++) {
    gint64 due = start + (gint64) i * 1000000000 / FPS;
    gsize size;
    gconstpointer d = g_bytes_get_data (run->frame, &size);
    GstBuffer *b;

    next.tv_sec = due / 1000000000;
    next.tv_nsec = due % 1000000000;
    clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    if (i == run->warm)
      run->t_begin = now_ns ();
    b = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, (gpointer) d,
        size, 0, size, NULL, NULL);
    GST_BUFFER_PTS (b) = (GstClockTime) i * GST_SECOND / FPS;
    GST_BUFFER_DURATION (b) = GST_SECOND / FPS;
    run->push_ns[i] = now_ns ();
    if (gst_app_src_push_buffer (run->src, b) != GST_FLOW_OK)
      break;
  }
  gst_app_src_end_of_stream (run->src);
  return NULL;
}

typedef struct
{
  gdouble cpu_ms; /* process CPU per frame */
  gdouble p50, p99;
  ThreadCpu threads[MAX_THREADS];
  guint64 thread_ns[MAX_THREADS];
  guint nthreads;
  guint frames;
} Result;

static int
cmp_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* Index of the median of v[0..n) (the lower one for even n). */
static gint
median_index (const gdouble *v, gint n)
{
  gdouble sorted[MAX_ROUNDS];

  memcpy (sorted, v, n * sizeof *v);
  qsort (sorted, n, sizeof *sorted, cmp_double);
  for (gint i = 0; i < n; i++)
    if (v[i] == sorted[(n - 1) / 2])
      return i;
  return 0;
}

static gdouble
median_of (const gdouble *v, gint n)
{
  return v[median_index (v, n)];
}

static gdouble
min_of (const gdouble *v, gint n)
{
  gdouble m = v[0];

  for (gint i = 1; i < n; i++)
    m = v[i] < m ? v[i] : m;
  return m;
}

static gdouble
max_of (const gdouble *v, gint n)
{
  gdouble m = v[0];

  for (gint i = 1; i < n; i++)
    m = v[i] > m ? v[i] : m;
  return m;
}

/* Runs `desc` (its source named "src", its sink "sink") for `seconds`
 * after one second of warm-up. */
static void
run_pipeline (const gchar *desc, const Case *c, GBytes *frame, gdouble seconds,
    Result *res)
{
  Run run = {0};
  GError *error = NULL;
  ThreadCpu before[MAX_THREADS];
  guint nbefore;
  GstElement *sink;
  GstPad *pad;
  GstBus *bus;
  GThread *feeder;
  GstMessage *msg;
  g_autofree gchar *caps_str = !strcmp (c->format, "MJPEG")
      ? g_strdup_printf ("image/jpeg,width=%d,height=%d,framerate=%d/1,"
                         "pixel-aspect-ratio=1/1",
          c->width, c->height, FPS)
      : g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
                         "framerate=%d/1,pixel-aspect-ratio=1/1",
          c->format, c->width, c->height, FPS);
  GstCaps *caps;

  run.pipeline = gst_parse_launch (desc, &error);
  if (!run.pipeline) {
    g_printerr ("bench-e2e: %s: %s\n", desc, error->message);
    exit (1);
  }
  run.warm = FPS;
  run.frames = run.warm + (guint) (seconds * FPS);
  run.frame = frame;
  run.push_ns = g_new0 (gdouble, run.frames);
  run.lat_ms = g_new0 (gdouble, run.frames);
  run.src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (run.pipeline), "src"));
  caps = gst_caps_from_string (caps_str);
  g_object_set (run.src, "caps", caps, "format", GST_FORMAT_TIME, "is-live",
      TRUE, "max-buffers", (guint64) 4, "block", FALSE, NULL);
  gst_caps_unref (caps);
  sink = gst_bin_get_by_name (GST_BIN (run.pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, &run, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  if (gst_element_set_state (run.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("bench-e2e: %s does not start\n", desc);
    exit (1);
  }
  nbefore = 0;
  feeder = g_thread_new ("feeder", feed, &run);
  /* Snapshot when the window opens: the feeder sets t_begin. */
  while (!run.t_begin)
    g_usleep (1000);
  nbefore = threads_cpu (before, MAX_THREADS);

  bus = gst_element_get_bus (run.pipeline);
  msg = gst_bus_timed_pop_filtered (bus,
      (GstClockTime) (seconds + 30) * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  run.t_end = now_ns ();
  res->nthreads = threads_cpu (res->threads, MAX_THREADS);
  if (!msg || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;

    if (msg)
      gst_message_parse_error (msg, &e, NULL);
    g_printerr ("bench-e2e: %s: %s\n", desc, e ? e->message : "timed out");
    exit (1);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  g_thread_join (feeder);

  guint64 total = 0;
  for (guint i = 0; i < res->nthreads; i++) {
    res->thread_ns[i] = thread_delta (before, nbefore, res->threads, i);
    total += res->thread_ns[i];
  }
  res->frames = run.frames - run.warm;
  res->cpu_ms = total / 1e6 / res->frames;
  qsort (run.lat_ms, run.nlat, sizeof *run.lat_ms, cmp_double);
  res->p50 = run.nlat ? run.lat_ms[run.nlat / 2] : NAN;
  res->p99 = run.nlat ? run.lat_ms[(guint) ceil (0.99 * run.nlat) - 1] : NAN;

  gst_element_set_state (run.pipeline, GST_STATE_NULL);
  gst_object_unref (run.src);
  gst_object_unref (run.pipeline);
  g_free (run.push_ns);
  g_free (run.lat_ms);
}

/* Runs `seg bench` with `iters` timed runs; returns its median (ms) and
 * the CPU time (ms) the whole process used. */
static gdouble
seg_bench_once (const gchar *seg, const gchar *model, gint threads, gint iters,
    gdouble *cpu_ms)
{
  g_autofree gchar *t = g_strdup_printf ("%d", threads);
  g_autofree gchar *n = g_strdup_printf ("%d", iters);
  const gchar *argv[] = {seg, "bench", model, "--threads", t, "--iters", n,
      "--warmup", "0", NULL};
  gchar out[4096];
  gint fd[2];
  pid_t pid;
  gssize len = 0, got;
  struct rusage ru;
  int status;
  const gchar *m;

  if (pipe (fd) < 0 || (pid = fork ()) < 0) {
    g_printerr ("bench-e2e: cannot run seg bench\n");
    exit (1);
  }
  if (pid == 0) {
    dup2 (fd[1], 1);
    close (fd[0]);
    close (fd[1]);
    execv (seg, (gchar **) argv);
    _exit (127);
  }
  close (fd[1]);
  while ((got = read (fd[0], out + len, sizeof out - 1 - len)) > 0)
    len += got;
  out[len] = 0;
  close (fd[0]);
  if (wait4 (pid, &status, 0, &ru) != pid || !WIFEXITED (status)
      || WEXITSTATUS (status) != 0) {
    g_printerr ("bench-e2e: seg bench failed\n");
    exit (1);
  }
  *cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  m = strstr (out, "median:");
  return m ? g_ascii_strtod (m + 7, NULL) : NAN;
}

/* `seg bench` for the model at its own input size: the CPU a run costs
 * (the difference between 400 and 50 runs, so loading and planning
 * cancel and a preempted run costs no more than an undisturbed one, as
 * in the CPU figures of the pipeline) and the median wall time. */
static gdouble
seg_bench (const gchar *seg, const gchar *model, gint threads, gdouble *median)
{
  gdouble short_cpu, long_cpu;

  seg_bench_once (seg, model, threads, 50, &short_cpu);
  *median = seg_bench_once (seg, model, threads, 400, &long_cpu);
  return (long_cpu - short_cpu) / 350;
}

/* The model alone at 30 runs a second, in this process: CPU per run (the
 * thread's own clock). Against seg bench's back-to-back runs this is what
 * the host's caches cost a model that waits 33 ms between frames, which
 * no change to the pipeline can remove. Same input as seg bench's kind
 * (constant, not random: the time does not depend on the values). */
static gdouble
paced_inference (const gchar *model_path, gint threads, guint runs)
{
  BenchSession b;
  gdouble cpu = NAN;
  struct timespec c0, c1, next;

  if (!bench_session_open (&b, model_path, threads))
    return NAN;
  bench_session_run (&b);
  clock_gettime (CLOCK_MONOTONIC, &next);
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
  for (guint i = 0; i < runs; i++) {
    next.tv_nsec += 1000000000 / FPS;
    if (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      next.tv_sec++;
    }
    clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    bench_session_run (&b);
  }
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
  /* with threads > 1 the workers' CPU is not on this thread's clock */
  if (threads <= 1)
    cpu = ((c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6)
        / runs;
  bench_session_close (&b);
  return cpu;
}

static gboolean
parse_case (const gchar *s, Case *c)
{
  g_auto (GStrv) parts = g_strsplit (s, ":", 3);

  if (!parts[0] || !parts[1]
      || sscanf (parts[1], "%dx%d", &c->width, &c->height) != 2)
    return FALSE;
  c->format = g_ascii_strup (parts[0], -1);
  c->decoder = g_strdup (parts[2] ? parts[2] : "jpegdec");
  return !strcmp (c->format, "YUY2") || !strcmp (c->format, "NV12")
      || !strcmp (c->format, "MJPEG");
}

int
main (int argc, char **argv)
{
  gchar *seg = NULL, *model = NULL;
  gchar **cases = NULL;
  gint threads = 1, rounds = 5;
  gdouble seconds = 10;
  gboolean per_thread = FALSE;
  GOptionEntry entries[] = {{"seg", 0, 0, G_OPTION_ARG_FILENAME, &seg,
                                "the seg tool", "PATH"},
      {"model", 0, 0, G_OPTION_ARG_FILENAME, &model,
          "model (default: the "
          "element's)",
          "PATH"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads,
          "inference threads "
          "(default 1)",
          "N"},
      {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
          "measured seconds per case, over all rounds (default 10)", "S"},
      {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
          "rounds per case, each the pipeline then seg bench (default 5)", "N"},
      {"case", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cases, "FORMAT:WxH[:DECODER]",
          "CASE"},
      {"per-thread", 0, 0, G_OPTION_ARG_NONE, &per_thread,
          "print each "
          "thread's CPU per frame",
          NULL},
      {NULL}};
  GOptionContext *ctx = g_option_context_new ("- segd's cost per frame");
  GError *error = NULL;
  g_autofree gchar *tmpdir = NULL;
  gdouble load[3] = {0};

  gst_init (&argc, &argv);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !seg) {
    g_printerr ("bench-e2e: %s\n",
        error ? error->message : "--seg is required");
    return 2;
  }
  g_option_context_free (ctx);
  if (rounds < 1 || rounds > MAX_ROUNDS || seconds / rounds < 0.5) {
    g_printerr ("bench-e2e: --rounds must be 1..%d, with at least 0.5 s "
                "each\n",
        MAX_ROUNDS);
    return 2;
  }
  if (!model) {
    GstElement *e = gst_element_factory_make ("segmenter", NULL);

    if (!e) {
      g_printerr ("bench-e2e: no segmenter element\n");
      return 77;
    }
    g_object_get (e, "model", &model, NULL);
    gst_object_unref (gst_object_ref_sink (e));
  }
  if (!g_file_test (model, G_FILE_TEST_EXISTS)) {
    g_printerr ("bench-e2e: no model at %s\n", model);
    return 77;
  }
  if (!cases) {
    const gchar *def[] = {"YUY2:640x480", "NV12:640x480", "MJPEG:640x480",
        "YUY2:1280x720", "NV12:1280x720", "MJPEG:1280x720", NULL};
    cases = g_strdupv ((gchar **) def);
  }
  tmpdir = g_dir_make_tmp ("bench-e2e-XXXXXX", NULL);
  if (getloadavg (load, 3) > 0)
    printf ("load average before: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
  printf ("model %s, %d inference thread(s), %d fps, %.0f s per case in %d "
          "rounds (medians over rounds)\n\n",
      model, threads, FPS, seconds, rounds);
  printf (
      "| case | decoder | service CPU ms/frame | source CPU ms/frame | "
      "seg bench CPU ms/run (wall median) | overhead factor (rounds' range) "
      "| model alone at 30 fps, CPU ms/run | service / that | latency p50 ms "
      "| p99 ms |\n");
  printf ("|---|---|---|---|---|---|---|---|---|---|\n");
  fflush (stdout);

  for (guint k = 0; cases[k]; k++) {
    Case c;
    static Result full[MAX_ROUNDS];
    Result src = {0}, *mid;
    gboolean jpeg;
    g_autofree gchar *bin = NULL, *desc = NULL, *src_desc = NULL;
    GBytes *frame;
    gdouble service[MAX_ROUNDS], bench[MAX_ROUNDS], median[MAX_ROUNDS];
    gdouble factor[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS], paced;

    if (!parse_case (cases[k], &c)) {
      g_printerr ("bench-e2e: bad case %s\n", cases[k]);
      return 2;
    }
    jpeg = !strcmp (c.format, "MJPEG");
    frame = make_frame (c.format, c.width, c.height);
    if (jpeg && !strcmp (c.decoder, "segmenter"))
      bin = g_strdup ("appsrc name=src");
    else if (jpeg)
      bin = g_strdup ("appsrc name=src ! jpegdec ! videoconvert");
    else
      bin = g_strdup ("appsrc name=src ! videoconvert");
    desc = g_strdup_printf ("%s ! queue name=frames leaky=downstream "
                            "max-size-buffers=2 ! segmenter threads=%d "
                            "model=\"%s\" ! queue "
                            "name=masks leaky=downstream max-size-buffers=2 ! "
                            "zmqmasksink "
                            "name=sink endpoint=ipc://%s/bench.sock sync=false "
                            "async=false",
        bin, threads, model, tmpdir);
    src_desc = g_strdup ("appsrc name=src ! fakesink name=sink sync=false "
                         "async=false");

    /* Rounds, each the pipeline then seg bench right after it: the host's
     * speed drifts by 10-20 % over seconds here, and a factor from two
     * measurements taken seconds apart moves with it. The median of the
     * rounds' own factors is the figure; their range shows the drift. */
    run_pipeline (src_desc, &c, frame, seconds / 2, &src);
    for (gint r = 0; r < rounds; r++) {
      run_pipeline (desc, &c, frame, seconds / rounds, &full[r]);
      service[r] = full[r].cpu_ms - src.cpu_ms;
      bench[r] = seg_bench (seg, model, threads, &median[r]);
      factor[r] = service[r] / bench[r];
      p50[r] = full[r].p50;
      p99[r] = full[r].p99;
    }
    paced = paced_inference (model, threads, (guint) (seconds / 2 * FPS));
    mid = &full[median_index (factor, rounds)];
    printf ("| %s %dx%d | %s | %.3f | %.3f | %.3f (%.3f) | %.2f (%.2f-%.2f) "
            "| %.3f | %.2f | %.2f | %.2f |\n",
        c.format, c.width, c.height, jpeg ? c.decoder : "-",
        median_of (service, rounds), src.cpu_ms, median_of (bench, rounds),
        median_of (median, rounds), median_of (factor, rounds),
        min_of (factor, rounds), max_of (factor, rounds), paced,
        median_of (service, rounds) / paced, median_of (p50, rounds),
        max_of (p99, rounds));
    /* the threads of the round whose factor is the median */
    if (per_thread)
      for (guint i = 0; i < mid->nthreads; i++)
        if (mid->thread_ns[i] > 0)
          printf ("|   thread %s | | %.3f | | | | | | | |\n",
              mid->threads[i].name, mid->thread_ns[i] / 1e6 / mid->frames);
    fflush (stdout);
    g_bytes_unref (frame);
    g_free (c.format);
    g_free (c.decoder);
  }
  if (getloadavg (load, 3) > 0)
    printf ("\nload average after: %.2f %.2f %.2f\n", load[0], load[1],
        load[2]);
  g_rmdir (tmpdir);
  g_strfreev (cases);
  g_free (seg);
  g_free (model);
  return 0;
}
