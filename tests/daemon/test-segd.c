/* Integration tests that run the real segd binary: `test-segd CASE`. The
 * test asserts on the READY, STATUS and WATCHDOG datagrams segd sends, on
 * its exit status and its stderr, all read through tests/segd-harness.h.
 * Timeouts are generous; nothing is asserted from a sleep.
 *
 * One file of ~1.2k lines because it is one table of cases (main () at the
 * bottom) over one harness; each case is a section that reads alone.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <segmask.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <zmq.h>

#include "../check.h"
#include "../segd-harness.h"

/* Source streams: READY with a streaming STATUS, masks counted upwards,
 * watchdog pinged, clean stop. */
static void
run_streaming (const gchar *const *args, guint64 masks)
{
  Segd s = {0};
  g_autofree gchar *ready = NULL;

  segd_start (&s, args);
  ready = segd_wait (&s, "READY=1", 60);
  CHECK (ready, "no READY=1; status: %s", s.last_status);
  CHECK (strstr (ready, "STATUS=streaming"),
      "READY without streaming "
      "status: %s",
      ready);
  segd_wait_masks (&s, masks, 60);
  g_free (segd_wait (&s, "WATCHDOG=1", 5));
  CHECK (s.watchdogs > 0, "no WATCHDOG=1 while frames flow");
  segd_stop (&s);
  segd_clear (&s);
}

/* Parses the pipeline `fmt` (printf-style) and sets it playing. */
static GstElement *G_GNUC_PRINTF (1, 2) play (const gchar *fmt, ...)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = NULL;
  GstElement *pipe;
  va_list ap;

  va_start (ap, fmt);
  desc = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  pipe = gst_parse_launch (desc, &error);
  CHECK (pipe, "%s", error->message);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  return pipe;
}

/* Fails with `what` unless `pipe` ends (EOS, no error) within `seconds`;
 * then stops and frees it. */
static void
expect_eos (GstElement *pipe, guint seconds, const gchar *what)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe),
      seconds * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  CHECK (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "%s", what);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
}

/* Writes `frames` frames of a bouncing ball as MJPEG in AVI to `path`. */
static void
write_video (const gchar *path, guint frames)
{
  g_autofree gchar *what = g_strdup_printf ("writing %s", path);

  expect_eos (play ("videotestsrc num-buffers=%u pattern=ball ! "
                    "video/x-raw,width=320,height=240,framerate=30/1 ! jpegenc "
                    "! "
                    "avimux ! filesink location=%s",
                  frames, path),
      30, what);
}

static void
case_file_video (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-video-XXXXXX", &error);
  g_autofree gchar *video = g_build_filename (dir, "clip.avi", NULL);
  g_autofree gchar *set = g_strdup_printf ("source.location=%s", video);

  write_video (video, 10);
  /* Ten frames in the file: 35 masks means it looped three times. */
  run_streaming ((const gchar *[]){"--set", "source.type=file", "--set", set,
                     NULL},
      35);
  g_unlink (video);
  g_rmdir (dir);
}

/* The source stops (num-buffers): status says stalled and the watchdog
 * pings stop, while segd stays up. */
static void
case_stall (void)
{
  Segd s = {0};
  guint before;

  segd_start (&s,
      (const gchar *[]){"--set", "source.type=test", "--set",
          "source.num-buffers=20", "--set", "daemon.stall-timeout=0.5", NULL});
  segd_expect (&s, "READY=1", 60, "no READY=1");
  segd_expect (&s, "stalled", 30, "no stalled status");
  /* Let pings already in flight drain, then none may come for 2 s. */
  g_free (segd_wait (&s, "never-sent", 0.6));
  before = s.watchdogs;
  g_free (segd_wait (&s, "never-sent", 2.0));
  CHECK (s.watchdogs == before, "%u WATCHDOG=1 while stalled",
      s.watchdogs - before);
  CHECK (!segd_exited (&s), "segd exited");
  segd_stop (&s);
  segd_clear (&s);
}

/* A config of the test source: [source] gets `source` lines, [segmenter]
 * `model_path` and `segmenter` lines. */
static void
write_config_with (const gchar *path, const gchar *source,
    const gchar *model_path, const gchar *segmenter)
{
  write_text (path, "[source]\ntype=test\n%s[segmenter]\nmodel=%s\n%s", source,
      model_path, segmenter);
}

static void
write_config (const gchar *path, const gchar *model_path)
{
  write_config_with (path, "", model_path, "");
}

/* After a config file was rewritten: SIGHUP, then `needle` from segd. */
static void
reload_expect (Segd *s, const gchar *needle, const gchar *what)
{
  g_subprocess_send_signal (s->proc, SIGHUP);
  segd_expect (s, needle, 30, what);
}

static gchar *
status_wait_model_state (segmask_sub *sub, Segd *s, const gchar *want,
    gdouble seconds)
{
  return status_wait_field (sub, s, "model_state", want, seconds);
}

/* SIGHUP: a good model is swapped in; a broken one keeps the old model
 * serving and the failure shows in STATUS and, as model_state, in the
 * ZeroMQ status; the next good load resets model_state to "ok". */
static void
case_sighup (void)
{
  Segd s = {.stream = "cam"};
  g_autofree gchar *want = NULL;
  g_autofree gchar *state = NULL;
  segmask_sub *sub;
  g_autofree gchar *conf = g_build_filename (segd_dir (&s), "cam.conf", NULL);
  g_autofree gchar *junk = g_build_filename (s.dir, "junk.tflite", NULL);
  g_autofree gchar *square = model ("selfie_segmentation.tflite");
  g_autofree gchar *landscape = model ("selfie_segmentation_landscape.tflite");
  guint64 masks;
  gchar *msg;

  write_config (conf, square);
  write_text (junk, "TFL3 this is not a model");
  /* The daemon re-reads this file on SIGHUP. */
  segd_start (&s, (const gchar *[]){"--config", conf, NULL});
  segd_expect (&s, "READY=1", 60, "no READY");
  sub = status_sub_new (s.endpoint, "cam");
  state = status_wait_model_state (sub, &s, "ok", 30);
  CHECK (state && !strcmp (state, "ok"), "model_state at start: %s", state);
  g_clear_pointer (&state, g_free);

  write_config (conf, landscape);
  reload_expect (&s, "model selfie_segmentation_landscape.tflite",
      "good model not swapped in");

  write_config (conf, junk);
  g_subprocess_send_signal (s.proc, SIGHUP);
  want = g_strdup_printf ("reload of %s failed: ", junk);
  msg = segd_wait (&s, want, 30);
  CHECK (msg, "broken model not reported; last: %s", s.last_status);
  CHECK (strstr (msg, "model selfie_segmentation_landscape.tflite"),
      "the old model must keep serving: %s", msg);
  g_free (msg);
  state = status_wait_model_state (sub, &s, want, 30);
  CHECK (state, "no model_state \"%s...\" in the ZeroMQ status", want);
  CHECK (strlen (state) > strlen (want), "no reason given: %s", state);
  g_clear_pointer (&state, g_free);
  masks = segd_masks (&s);
  segd_wait_masks (&s, masks + 20, 30);

  /* The next good load clears the failure everywhere. */
  write_config (conf, square);
  g_subprocess_send_signal (s.proc, SIGHUP);
  state = status_wait_model_state (sub, &s, "ok", 30);
  CHECK (state && !strcmp (state, "ok"),
      "model_state after a good "
      "reload: %s",
      state);
  g_free (segd_wait (&s, "STATUS=", 5));
  CHECK (s.last_status
          && strstr (s.last_status, "model selfie_segmentation.tflite")
          && !strstr (s.last_status, "failed"),
      "STATUS after a good reload: %s", s.last_status);
  segmask_sub_free (&sub);
  segd_stop (&s);
  segd_clear (&s);
}

/* A missing camera: segd stays up, READY says waiting, the watchdog keeps
 * being pinged (retrying is healthy), SIGTERM still stops it at once. */
static void
case_missing_v4l2 (void)
{
  Segd s = {0};
  gchar *ready;

  segd_start (&s,
      (const gchar *[]){"--set", "source.type=v4l2", "--set",
          "source.device=/dev/video-segd-test-missing", "--set",
          "source.retry-max=0.5", NULL});
  ready = segd_wait (&s, "READY=1", 30);
  CHECK (ready && strstr (ready, "waiting for /dev/video-segd-test-missing"),
      "READY: %s", ready);
  g_free (ready);
  g_free (segd_wait (&s, "never-sent", 3.0));
  CHECK (s.watchdogs >= 3, "only %u WATCHDOG=1 while waiting", s.watchdogs);
  CHECK (strstr (s.last_status, "waiting for"), "%s", s.last_status);
  segd_stop (&s);
  segd_clear (&s);
}

/* The real zmqmasksink: a zmqmasksrc subscriber receives masks over ipc
 * and segd's STATUS counts it as a subscriber. */
static void
case_zmq (void)
{
  Segd s = {.stream = "cam"};
  GstElement *sub;

  segd_start (&s, (const gchar *[]){"--set", "source.type=test", NULL});
  segd_expect (&s, "READY=1", 60, "no READY");

  sub = play ("zmqmasksrc endpoint=%s stream-name=cam num-buffers=20 ! "
              "fakesink",
      s.endpoint);
  segd_expect (&s, "1 subscriber,", 30, "subscriber not counted");
  /* num-buffers=20: EOS after twenty masks arrived. */
  expect_eos (sub, 60, "subscriber got no 20 masks");

  segd_stop (&s);
  segd_clear (&s);
}

/* Under systemd the endpoint defaults to the unit's RuntimeDirectory, and
 * the socket is group-writable (0660) so that members of group segd can
 * subscribe. */
static void
case_runtime_dir (void)
{
  Segd s = {0};
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-rt-XXXXXX", &error);
  g_autofree gchar *rt = g_strdup_printf ("%s:/nonexistent", dir);
  g_autofree gchar *path = g_build_filename (dir, "cam.sock", NULL);
  g_autofree gchar *what = g_strdup_printf ("no masks on the default "
                                            "endpoint %s",
      path);
  GStatBuf st;

  /* systemd passes a list; the first entry is the service's own. */
  g_setenv ("RUNTIME_DIRECTORY", rt, TRUE);
  segd_start (&s,
      (const gchar *[]){"--set", "source.type=test", "--set",
          "output.sink=zmqmasksink", "--set", "output.stream-name=cam", NULL});
  g_unsetenv ("RUNTIME_DIRECTORY");
  segd_expect (&s, "READY=1", 60, "no READY");
  CHECK (g_stat (path, &st) == 0, "no socket at %s", path);
  CHECK ((st.st_mode & 0777) == 0660, "socket mode %04o, want 0660",
      st.st_mode & 0777);

  expect_eos (play ("zmqmasksrc endpoint=ipc://%s stream-name=cam "
                    "num-buffers=3 ! fakesink",
                  path),
      60, what);

  segd_stop (&s);
  segd_clear (&s);
  g_rmdir (dir);
}

/* Starts segd publishing stream `name` from the test source on
 * ipc://DIR/NAME.sock; returns the endpoint (transfer full) once READY. */
static gchar *
start_publisher (Segd *s, const gchar *dir, const gchar *name)
{
  s->stream = name;
  s->endpoint = g_strdup_printf ("ipc://%s/%s.sock", dir, name);
  segd_start (s, (const gchar *[]){"--set", "source.type=test", NULL});
  g_free (segd_wait (s, "READY=1", 60));
  CHECK (s->ready, "%s: no READY; status: %s", name, s->last_status);
  return g_strdup (s->endpoint);
}

/* The real segd-sub against the real segd: --count N exits 0 after N
 * masks with exactly N lines, each naming the stream. */
static void
case_sub_count (void)
{
  Segd s = {0};
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-sub-XXXXXX", &error);
  g_autofree gchar *endpoint = NULL;
  g_autoptr (GSubprocess) sub = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_auto (GStrv) lines = NULL;
  const guint n = 25;
  g_autofree gchar *count = g_strdup_printf ("%u", n);
  gint64 end;
  guint got = 0;

  CHECK (g_getenv ("SEGD_SUB"), "SEGD_SUB must be set");
  endpoint = start_publisher (&s, dir, "cam");
  sub = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      &error, g_getenv ("SEGD_SUB"), endpoint, "--stream", "cam", "--count",
      count, "--timeout", "30", NULL);
  CHECK (sub, "%s", error->message);
  /* communicate() keeps both pipes drained; segd's notify socket is
   * drained on the way by polling for the exit first. */
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_subprocess_get_identifier (sub) && g_get_monotonic_time () < end) {
    segd_drain (&s);
    g_main_context_iteration (NULL, FALSE);
    g_usleep (10000);
  }
  CHECK (!g_subprocess_get_identifier (sub),
      "segd-sub still running after "
      "60 s");
  CHECK (g_subprocess_communicate_utf8 (sub, NULL, NULL, &out, &err, &error),
      "%s", error->message);
  CHECK (g_subprocess_get_if_exited (sub)
          && g_subprocess_get_exit_status (sub) == 0,
      "segd-sub failed: %s", err);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (!lines[i][0])
      continue;
    CHECK (g_str_has_prefix (lines[i], "stream=cam seq="), "line %u: %s", i,
        lines[i]);
    got++;
  }
  CHECK (got == n, "%u lines for --count %u:\n%s", got, n, out);
  segd_stop (&s);
  segd_clear (&s);
  g_rmdir (dir);
}

/* The multi-camera example: two segd processes publish two streams; one
 * subscriber connected to both receives each stream's masks in order. */
static void
case_two_instances (void)
{
  Segd a = {0}, b = {0};
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-two-XXXXXX", &error);
  g_autofree gchar *ep0 = start_publisher (&a, dir, "cam0");
  g_autofree gchar *ep1 = start_publisher (&b, dir, "cam1");
  segmask_sub_options opt;
  segmask_sub_stats stats;
  segmask_sub *sub = NULL;
  char err[256];
  guint64 last[2] = {0, 0};
  guint got[2] = {0, 0};
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  segmask_sub_options_init (&opt);
  opt.endpoint = ep0;
  CHECK (segmask_sub_new (&opt, &sub, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  CHECK (segmask_sub_connect (sub, ep1, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  while ((got[0] < 20 || got[1] < 20) && g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;
    int i;

    segd_drain (&a);
    segd_drain (&b);
    if (segmask_sub_recv (sub, 100, &m) != SEGMASK_OK)
      continue;
    if (m->header.type == SEGMASK_MSG_MASK) {
      CHECK (!strcmp (m->header.stream, "cam0")
              || !strcmp (m->header.stream, "cam1"),
          "stream %s", m->header.stream);
      i = m->header.stream[3] - '0';
      CHECK (m->header.seq > last[i],
          "%s: seq %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT,
          m->header.stream, (guint64) m->header.seq, last[i]);
      CHECK (m->data && m->header.width > 0 && m->header.height > 0,
          "empty mask");
      last[i] = m->header.seq;
      got[i]++;
    }
    segmask_msg_free (&m);
  }
  CHECK (got[0] >= 20 && got[1] >= 20, "masks: cam0 %u, cam1 %u", got[0],
      got[1]);
  segmask_sub_get_stats (sub, &stats);
  CHECK (stats.invalid == 0, "%" G_GUINT64_FORMAT " invalid messages",
      (guint64) stats.invalid);
  segmask_sub_free (&sub);
  segd_stop (&a);
  segd_stop (&b);
  segd_clear (&a);
  segd_clear (&b);
  g_rmdir (dir);
}

/* on-demand: idle (source closed) until a subscriber connects, streaming
 * while it is there, idle again after the grace period. */
static void
case_on_demand (void)
{
  Segd s = {.stream = "cam"};
  GstElement *sub;
  gchar *msg;

  segd_start (&s,
      (const gchar *[]){"--set", "source.type=test", "--set",
          "source.on-demand=true", "--set", "source.on-demand-grace=0.5",
          NULL});
  msg = segd_wait (&s, "READY=1", 60);
  CHECK (msg && strstr (msg, "STATUS=idle"), "READY: %s", msg);
  g_free (msg);
  CHECK (segd_masks (&s) == 0, "masks while idle: %s", s.last_status);

  sub = play ("zmqmasksrc endpoint=%s stream-name=cam ! fakesink", s.endpoint);
  segd_expect (&s, "STATUS=streaming", 30,
      "source not opened for a subscriber");
  segd_wait_masks (&s, 10, 30);
  gst_element_set_state (sub, GST_STATE_NULL);
  gst_object_unref (sub);

  segd_expect (&s, "STATUS=idle", 30,
      "source not closed after the grace period");
  segd_stop (&s);
  segd_clear (&s);
}

static glong
rss_kb (Segd *s)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%s/status",
      g_subprocess_get_identifier (s->proc));
  g_autofree gchar *text = NULL;
  const gchar *p;

  CHECK (g_file_get_contents (path, &text, NULL, NULL), "%s", path);
  p = strstr (text, "VmRSS:");
  CHECK (p, "no VmRSS");
  return strtol (p + 6, NULL, 10);
}

/* 640x480 at 30 fps for SEGD_SOAK_SECONDS (600): RSS after the first
 * minute (warm-up, caches) must stay within 4 MiB to the end. */
static void
case_soak (void)
{
  const gchar *env = g_getenv ("SEGD_SOAK_SECONDS");
  gdouble seconds = env ? g_ascii_strtod (env, NULL) : 600;
  gint64 t0, end;
  glong start_kb = 0, warm_kb = 0, end_kb, max_kb = 0;
  Segd s = {0};

  segd_start (&s, (const gchar *[]){"--set", "source.type=test", NULL});
  segd_expect (&s, "READY=1", 60, "no READY");
  t0 = g_get_monotonic_time ();
  end = t0 + (gint64) (seconds * 1e6);
  start_kb = rss_kb (&s);
  while (g_get_monotonic_time () < end) {
    glong kb;

    g_free (segd_wait (&s, "never-sent", 10));
    kb = rss_kb (&s);
    max_kb = MAX (max_kb, kb);
    if (!warm_kb
        && g_get_monotonic_time () - t0 > MIN (60e6, seconds * 1e6 / 4))
      warm_kb = kb;
    printf ("t=%.0f s RSS %ld kB, %s\n", (g_get_monotonic_time () - t0) / 1e6,
        kb, s.last_status);
    fflush (stdout);
  }
  end_kb = rss_kb (&s);
  printf ("RSS start %ld kB, after warm-up %ld kB, end %ld kB, max %ld kB, "
          "%" G_GUINT64_FORMAT " masks\n",
      start_kb, warm_kb, end_kb, max_kb, segd_masks (&s));
  CHECK (segd_masks (&s) >= (guint64) (seconds * 30 * 0.9),
      "only %" G_GUINT64_FORMAT " masks", segd_masks (&s));
  CHECK (end_kb - warm_kb < 4096, "RSS grew by %ld kB", end_kb - warm_kb);
  segd_stop (&s);
  segd_clear (&s);
}

/* Runs segd with `env` (NAME, VALUE pairs) to its exit: the status must be
 * `want`, stderr must contain every `needles` and none of `absent`. */
static void
expect_exit_env (const gchar *const *args, const gchar *const *env, int want,
    const gchar *const *needles, const gchar *const *absent)
{
  Segd s = {0};
  g_autofree gchar *err = NULL;
  int status;

  s.env = env;
  segd_start (&s, args);
  status = segd_wait_exit (&s, 60);
  err = segd_stderr (&s);
  CHECK (status == want, "exit %d, want %d; stderr: %s", status, want, err);
  for (guint i = 0; needles && needles[i]; i++)
    CHECK (strstr (err, needles[i]), "\"%s\" not in stderr: %s", needles[i],
        err);
  for (guint i = 0; absent && absent[i]; i++)
    CHECK (!strstr (err, absent[i]), "\"%s\" in stderr: %s", absent[i], err);
  segd_clear (&s);
}

static void
expect_exit (const gchar *const *args, int want, const gchar *const *needles)
{
  expect_exit_env (args, NULL, want, needles, NULL);
}

static void
case_bad_config (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-bad-XXXXXX", &error);
  g_autofree gchar *conf = g_build_filename (dir, "bad.conf", NULL);
  g_autofree gchar *junk = g_build_filename (dir, "junk.onnx", NULL);
  g_autofree gchar *set_junk = g_strdup_printf ("segmenter.model=%s", junk);

  write_text (conf, "[source]\ntype=test\n[segmenter]\nthreads = lots\n");
  write_text (junk, "\x08\x07junk");

  expect_exit ((const gchar *[]){"--config", conf, NULL}, 78,
      (const gchar *[]){"bad.conf:4", "threads", "integer", NULL});
  expect_exit ((const gchar *[]){"--set", "source.colour=red", NULL}, 78,
      (const gchar *[]){"unknown key \"colour\"", NULL});
  expect_exit ((const gchar *[]){"--set", "source.framerate=0", NULL}, 78,
      (const gchar *[]){"framerate", "from 1 to 240", NULL});
  expect_exit ((const gchar *[]){"--set", set_junk, "--check-config", NULL}, 78,
      (const gchar *[]){"model", "junk.onnx", NULL});
  expect_exit ((const gchar *[]){"--set", "source.type=test", "--check-config",
                   NULL},
      0, NULL);
  remove_tree (dir);
}

/* A failure while running (here: the file source is missing) is printed
 * once as a plain sentence with its exit status. It is not a g_critical,
 * which means a programming error and which G_DEBUG=fatal-criticals (or a
 * GLib built that way) turns into an abort. */
static void
case_runtime_error (void)
{
  expect_exit_env ((const gchar *[]){"--set", "source.type=file", "--set",
                       "source.location=/nonexistent-segd-test/clip.avi", NULL},
      (const gchar *[]){"G_DEBUG", "fatal-criticals", NULL}, 69,
      (const gchar *[]){"segd: source: source file "
                        "/nonexistent-segd-test/clip.avi does not exist\n",
          NULL},
      (const gchar *[]){"CRITICAL", "error: source", NULL});
}

/* On SIGHUP the segmenter must get the new thread count before the model:
 * setting "model" queues the load on the element's loader thread, which
 * reads "threads" when it runs, so the reverse order loads the new model
 * with the old count whenever the loader is quicker than the main loop.
 * GStreamer's GST_PROPERTIES log records the order of the property changes
 * of an element inside a bin (at start-up the segmenter is not in one yet,
 * so only the reload shows), which is what this checks. */
static void
case_reload_threads (void)
{
  Segd s = {0};
  g_autofree gchar *conf = g_build_filename (segd_dir (&s), "cam.conf", NULL);
  g_autofree gchar *log = g_build_filename (s.dir, "gst.log", NULL);
  g_autofree gchar *square = model ("selfie_segmentation.tflite");
  g_autofree gchar *landscape = model ("selfie_segmentation_landscape.tflite");
  g_autofree gchar *text = NULL;
  const gchar *threads_at, *model_at;

  write_config_with (conf, "", square, "threads=1\n");
  s.env = (const gchar *[]){"GST_DEBUG", "GST_PROPERTIES:6", "GST_DEBUG_FILE",
      log, "GST_DEBUG_NO_COLOR", "1", NULL};
  segd_start (&s, (const gchar *[]){"--config", conf, NULL});
  segd_expect (&s, "READY=1", 60, "no READY");

  write_config_with (conf, "", landscape, "threads=2\n");
  reload_expect (&s, "model selfie_segmentation_landscape.tflite",
      "new model not loaded");
  segd_stop (&s);

  CHECK (g_file_get_contents (log, &text, NULL, NULL), "no %s", log);
  threads_at = strstr (text, "deep notification from segmenter (threads)");
  model_at = strstr (text, "deep notification from segmenter (model)");
  CHECK (threads_at && model_at, "no threads/model change logged in %s", log);
  CHECK (threads_at < model_at, "the model was set before the thread count");
  segd_clear (&s);
}

static void
write_on_demand (const gchar *path, gboolean on_demand)
{
  g_autofree gchar *m = model ("selfie_segmentation.tflite");

  write_config_with (path,
      on_demand ? "on-demand=true\non-demand-grace=0.5\n"
                : "on-demand=false\non-demand-grace=0.5\n",
      m, "");
}

/* Turning on-demand off with SIGHUP while idle opens the source at once;
 * turning it back on with nobody subscribed closes it after the grace. */
static void
case_on_demand_reload (void)
{
  Segd s = {0};
  g_autofree gchar *conf = g_build_filename (segd_dir (&s), "cam.conf", NULL);
  gchar *msg;

  write_on_demand (conf, TRUE);
  segd_start (&s, (const gchar *[]){"--config", conf, NULL});
  msg = segd_wait (&s, "READY=1", 60);
  CHECK (msg && strstr (msg, "STATUS=idle"), "READY: %s", msg);
  g_free (msg);

  write_on_demand (conf, FALSE);
  reload_expect (&s, "STATUS=streaming",
      "on-demand=false did not open the source");
  segd_wait_masks (&s, 10, 30);

  write_on_demand (conf, TRUE);
  reload_expect (&s, "STATUS=idle",
      "on-demand=true with no subscriber did not close the source");
  segd_stop (&s);
  segd_clear (&s);
}

static guint
count (const gchar *haystack, const gchar *needle)
{
  guint n = 0;

  for (const gchar *p = strstr (haystack, needle); p;
       p = strstr (p + 1, needle))
    n++;
  return n;
}

/* SIGHUPs keep arriving while a short file that plays once ends: every run
 * ends with "end of the file", exit status 0 (no sanitizer report, no
 * hang), and the unchanged model is loaded once, not once per SIGHUP. A
 * reload frees the configuration on the main loop while the end of the
 * file passes the source's pad on a streaming thread; the ASan build of
 * the daemon suite runs this too. */
static void
case_reload_eos (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-eos-XXXXXX", &error);
  g_autofree gchar *video = g_build_filename (dir, "clip.avi", NULL);
  g_autofree gchar *conf = g_build_filename (dir, "cam.conf", NULL);
  g_autofree gchar *m = model ("selfie_segmentation.tflite");
  const guint rounds = 4;

  write_video (video, 60);
  write_text (conf,
      "[source]\ntype=file\nlocation=%s\nloop=false\n"
      "[segmenter]\nmodel=%s\n",
      video, m);
  for (guint r = 0; r < rounds; r++) {
    Segd s = {0};
    g_autofree gchar *err = NULL;
    gint64 end;
    guint hups = 0;
    int status;

    segd_start (&s, (const gchar *[]){"--config", conf, NULL});
    g_free (segd_wait (&s, "READY=1", 60));
    CHECK (s.ready, "round %u: no READY; status: %s", r, s.last_status);
    /* Until segd says it is stopping: a signal after that may find
     * GLib's handler gone. */
    end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    while (!s.stopping && g_subprocess_get_identifier (s.proc)
        && g_get_monotonic_time () < end) {
      g_subprocess_send_signal (s.proc, SIGHUP);
      hups++;
      g_usleep (10000);
      segd_drain (&s);
    }
    status = segd_wait_exit (&s, 30);
    err = segd_stderr (&s);
    CHECK (status == 0, "round %u: exit %d after %u SIGHUPs; stderr: %s", r,
        status, hups, err);
    CHECK (strstr (err, "end of the file: done"), "round %u: %s", r, err);
    CHECK (hups > 0, "round %u: no SIGHUP sent", r);
    CHECK (count (err, "notice: model ") == 1,
        "round %u: the model was "
        "loaded %u times: %s",
        r, count (err, "notice: model "), err);
    segd_clear (&s);
  }
  g_unlink (conf);
  g_unlink (video);
  g_rmdir (dir);
}

/* A port on 127.0.0.1 that nothing listens on (as far as one can know). */
static guint
closed_port (void)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  CHECK (fd >= 0, "socket");
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  CHECK (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0, "bind");
  CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0, "getsockname");
  close (fd);
  return ntohs (addr.sin_port);
}

/* A uri camera that segd cannot reach: camera_state in the ZeroMQ status
 * and the STATUS line say `want` ("network-error", or "blocked" when
 * connect() fails with EPERM as under the unit's IPAddressDeny=), the log
 * says once which drop-in opens the sandbox, segd stays up and keeps
 * retrying, SIGTERM still stops it at once, and the password in the URI
 * shows nowhere (STATUS is readable with systemctl status by any user). */
static void
run_network_source (const gchar *want, const gchar *const *env)
{
  Segd s = {.stream = "cam", .env = env};
  /* With a password, which no log line, STATUS or camera_state shows. */
  g_autofree gchar *uri = g_strdup_printf ("http://alice:s3cret@127.0.0.1:%u/"
                                           "cam.mjpg",
      closed_port ());
  g_autofree gchar *set_uri = g_strdup_printf ("source.uri=%s", uri);
  g_autofree gchar *state = NULL;
  const gchar *err;
  segmask_sub *sub;

  segd_start (&s,
      (const gchar *[]){"--set", "source.type=uri", "--set", set_uri, "--set",
          "source.retry-max=0.5", NULL});
  segd_expect (&s, "READY=1", 60, "no READY");
  sub = status_sub_new (s.endpoint, "cam");
  state = status_wait_field (sub, &s, "camera_state", want, 30);
  CHECK (state, "camera_state never said %s", want);
  g_clear_pointer (&state, g_free);
  /* Several retries later: still up, still saying so. */
  g_free (segd_wait (&s, "never-sent", 2.0));
  CHECK (!segd_exited (&s), "segd exited");
  state = status_wait_field (sub, &s, "camera_state", want, 10);
  CHECK (state, "camera_state no longer says %s", want);
  CHECK (!strstr (state, "s3cret"), "camera_state: %s", state);
  g_free (segd_wait (&s, "STATUS=", 2.0));
  CHECK (s.last_status && strstr (s.last_status, want)
          && strstr (s.last_status, "alice:***@127.0.0.1")
          && !strstr (s.last_status, "s3cret"),
      "STATUS: %s", s.last_status);
  segmask_sub_free (&sub);
  err = segd_stop (&s);
  CHECK (count (err, "source: uri") >= 3, "not retrying: %s", err);
  CHECK (count (err, "segd-network.conf") == 1,
      "the sandbox hint must be "
      "logged once: %s",
      err);
  CHECK (strstr (err, "IPAddressAllow="), "%s", err);
  CHECK (!strstr (err, "did not flush"), "%s", err);
  CHECK (!strstr (err, "s3cret"), "the password is in the log: %s", err);
  segd_clear (&s);
}

/* Connection refused: a closed port on 127.0.0.1. */
static void
case_network_source (void)
{
  run_network_source ("network-error", NULL);
}

/* connect() fails with EPERM, as IPAddressDeny= makes it (an LD_PRELOAD
 * shim stands in for the unit's BPF filter). */
static void
case_network_blocked (void)
{
  /* ASan insists on coming first in the library list; the shim does. */
  g_autofree gchar *asan_options =
      asan_options_with ("verify_asan_link_order=0");

  CHECK (g_getenv ("SEGD_EPERM_SHIM"), "SEGD_EPERM_SHIM must be set");
  run_network_source ("blocked",
      (const gchar *[]){"LD_PRELOAD", g_getenv ("SEGD_EPERM_SHIM"),
          "ASAN_OPTIONS", asan_options, NULL});
}

/* Under systemd (INVOCATION_ID set), a tcp:// endpoint that is not on
 * loopback gets a warning at start naming the drop-in that opens the
 * unit's IPAddressDeny=; a loopback one does not. */
static void
case_network_output (void)
{
  const gchar *env[] = {"INVOCATION_ID", "0123456789abcdef", NULL};
  const gchar *const endpoints[] = {"tcp://*:5599", "tcp://192.0.2.7:5599",
      "tcp://127.0.0.1:5599", "tcp://localhost:5599", NULL};

  for (guint i = 0; endpoints[i]; i++) {
    Segd s = {0};
    g_autofree gchar *set =
        g_strdup_printf ("output.endpoint=%s", endpoints[i]);
    const gchar *err;
    gboolean remote = i < 2;

    s.env = env;
    segd_start (&s,
        (const gchar *[]){"--set", "source.type=test", "--set", set, NULL});
    g_free (segd_wait (&s, "READY=1", 60));
    CHECK (s.ready, "%s: no READY", endpoints[i]);
    err = segd_stop (&s);
    CHECK (!remote
            || (strstr (err, endpoints[i])
                && strstr (err, "segd-network.conf")),
        "%s: no warning: %s", endpoints[i], err);
    CHECK (remote || !strstr (err, "segd-network.conf"), "%s: warned: %s",
        endpoints[i], err);
    segd_clear (&s);
  }
}

/* [output] CURVE keys: --check-config rejects a key file that is missing
 * (exit 78, naming the config line and the path) or a sink that cannot
 * take keys; the keys reach zmqmasksink, so a subscriber whose public key
 * is allowed receives masks and another one does not. */
static void
case_curve (void)
{
  Segd s = {.stream = "cam"};
  const gchar *dir = segd_dir (&s);
  g_autofree gchar *secret = g_build_filename (dir, "server.key", NULL);
  g_autofree gchar *allowed = g_build_filename (dir, "allowed.keys", NULL);
  g_autofree gchar *missing = g_build_filename (dir, "nope.key", NULL);
  g_autofree gchar *conf = g_build_filename (dir, "keys.conf", NULL);
  g_autofree gchar *set_secret =
      g_strdup_printf ("output.curve-secret-key-file=%s", secret);
  g_autofree gchar *set_allowed =
      g_strdup_printf ("output.curve-allowed-keys=%s", allowed);
  char server_pub[41], server_sec[41], client_pub[41], client_sec[41];
  char other_pub[41], other_sec[41], err[256];
  segmask_sub_options opt;
  segmask_sub *sub = NULL, *stranger = NULL;
  segmask_msg *m = NULL;
  gint64 end;

  CHECK (zmq_curve_keypair (server_pub, server_sec) == 0
          && zmq_curve_keypair (client_pub, client_sec) == 0
          && zmq_curve_keypair (other_pub, other_sec) == 0,
      "no CURVE in libzmq");
  write_text (secret, "%s\n", server_sec);
  write_text (allowed, "%s", client_pub);

  write_text (conf,
      "[source]\ntype=test\n\n[output]\n"
      "curve-secret-key-file = %s\n",
      missing);
  expect_exit ((const gchar *[]){"--config", conf, "--check-config", NULL}, 78,
      (const gchar *[]){"keys.conf:5", "curve-secret-key-file", missing, NULL});
  expect_exit ((const gchar *[]){"--set", "source.type=test", "--set",
                   set_secret, NULL},
      78, (const gchar *[]){"curve-secret-key-file", "fakesink", NULL});

  segd_start (&s,
      (const gchar *[]){"--set", "source.type=test", "--set", set_secret,
          "--set", set_allowed, NULL});
  segd_expect (&s, "READY=1", 60, "no READY");

  segmask_sub_options_init (&opt);
  opt.endpoint = s.endpoint;
  opt.stream = "cam";
  opt.curve_server_key = server_pub;
  opt.curve_public_key = other_pub;
  opt.curve_secret_key = other_sec;
  CHECK (segmask_sub_new (&opt, &stranger, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  opt.curve_public_key = client_pub;
  opt.curve_secret_key = client_sec;
  CHECK (segmask_sub_new (&opt, &sub, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  CHECK (sub_count_masks_until (sub, &s, 1, 30) == 1,
      "the allowed subscriber received no mask");
  /* By now the stranger has had as long to get in. */
  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    segd_drain (&s);
    CHECK (segmask_sub_recv (stranger, 100, &m) != SEGMASK_OK,
        "a subscriber whose key is not allowed received a message");
  }
  segmask_sub_free (&sub);
  segmask_sub_free (&stranger);
  segd_stop (&s);
  segd_clear (&s);
}

/* SIGHUPs that keep coming while segd stops (a reload loop racing
 * systemctl stop) must not turn the clean exit into "killed by SIGHUP":
 * GLib gives SIGHUP its default action back when its last source goes. */
static void
case_hup_at_stop (void)
{
  /* Each stop has a window of a few ms; 40 make a miss unlikely. */
  for (guint r = 0; r < 40; r++) {
    Segd s = {0};
    gint64 end;
    guint hups = 0;
    int status;
    pid_t pid;

    segd_start (&s, (const gchar *[]){"--set", "source.type=test", NULL});
    g_free (segd_wait (&s, "READY=1", 60));
    CHECK (s.ready, "round %u: no READY", r);
    pid = atoi (g_subprocess_get_identifier (s.proc));
    g_subprocess_send_signal (s.proc, SIGTERM);
    /* kill() itself: g_subprocess_send_signal only queues the signal for
     * GLib's worker thread, which thins out the burst. Until GLib reaped
     * segd (a zombie takes signals harmlessly), so the pid is still ours. */
    end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    while (
        g_subprocess_get_identifier (s.proc) && g_get_monotonic_time () < end) {
      kill (pid, SIGHUP);
      if (++hups % 64 == 0)
        segd_drain (&s);
    }
    status = segd_wait_exit (&s, 10);
    CHECK (status == 0, "round %u: exit %d after SIGTERM and %u SIGHUPs", r,
        status, hups);
    segd_clear (&s);
  }
}

/* ---- several streams in one segd ---- */

typedef struct
{
  gchar name[16];
  guint64 last_seq, masks, gaps;
  gint64 last_us;
  gboolean weight2; /* its status said weight=2 */
} StreamTrack;

static StreamTrack *
stream_track (StreamTrack *t, guint n, const gchar *name)
{
  for (guint i = 0; i < n; i++)
    if (!strcmp (t[i].name, name))
      return &t[i];
  for (guint i = 0; i < n; i++)
    if (!t[i].name[0]) {
      g_strlcpy (t[i].name, name, sizeof t[i].name);
      return &t[i];
    }
  return NULL;
}

/* Receives masks and status for `seconds`, keeping each stream's sequence:
 * every mask must follow the last one of its stream by exactly one. */
static void
streams_recv (segmask_sub *sub, Segd *s, StreamTrack *t, guint n,
    gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);

  while (g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;
    StreamTrack *st;

    segd_drain (s);
    if (segmask_sub_recv (sub, 100, &m) != SEGMASK_OK)
      continue;
    st = stream_track (t, n, m->header.stream);
    CHECK (st, "too many streams");
    if (m->header.type == SEGMASK_MSG_MASK) {
      if (st->masks && m->header.seq != st->last_seq + 1)
        st->gaps++;
      st->last_seq = m->header.seq;
      st->masks++;
      st->last_us = g_get_monotonic_time ();
    } else if (m->header.type == SEGMASK_MSG_STATUS && m->text
        && strstr (m->text, "\nweight=2\n")) {
      st->weight2 = TRUE;
    }
    segmask_msg_free (&m);
  }
}

static void
write_streams_config (const gchar *path, const gchar *endpoint,
    const gchar *streams)
{
  g_autofree gchar *m = model ("selfie_segmentation.tflite");
  g_autofree gchar *text =
      g_strdup_printf ("[source]\ntype=test\n"
                       "width=160\nheight=120\nframerate=15\n[segmenter]"
                       "\nmodel=%s\n"
                       "threads=2\n[output]\nsink=zmqmasksink\nendpoint=%s\n%s",
          m, endpoint, streams);

  CHECK (g_file_set_contents (path, text, -1, NULL), "%s", path);
}

/* Three streams on one socket; SIGHUP removes one and adds another while
 * the two that stay keep publishing with no gap in their sequence. */
static void
case_streams (void)
{
  Segd s = {0};
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-streams-XXXXXX", &error);
  g_autofree gchar *endpoint = g_strdup_printf ("ipc://%s/all.sock", dir);
  g_autofree gchar *conf = g_build_filename (dir, "cams.conf", NULL);
  StreamTrack t[4] = {0};
  StreamTrack *a, *b, *c, *d;
  guint64 a_before, b_before;
  segmask_sub_options opt;
  segmask_sub *sub = NULL;
  char err[256];
  gint64 reload_us;

  write_streams_config (conf, endpoint,
      "[stream a]\npattern=ball\n"
      "[stream b]\npattern=snow\n[stream c]\npattern=smpte\n");
  segd_start (&s,
      (const gchar *[]){"--config", conf, "--set", "output.sink=zmqmasksink",
          NULL});
  g_free (segd_wait (&s, "READY=1", 60));
  CHECK (s.ready, "no READY; status: %s", s.last_status);
  CHECK (s.last_status && strstr (s.last_status, "a: ")
          && strstr (s.last_status, "; c: "),
      "STATUS names every stream: %s", s.last_status);

  segmask_sub_options_init (&opt);
  opt.endpoint = endpoint;
  opt.status = 1;
  CHECK (segmask_sub_new (&opt, &sub, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  streams_recv (sub, &s, t, 4, 3.0);
  a = stream_track (t, 4, "a");
  b = stream_track (t, 4, "b");
  c = stream_track (t, 4, "c");
  CHECK (a->masks >= 10 && b->masks >= 10 && c->masks >= 10,
      "masks a %" G_GUINT64_FORMAT " b %" G_GUINT64_FORMAT
      " c %" G_GUINT64_FORMAT,
      a->masks, b->masks, c->masks);
  a_before = a->masks;
  b_before = b->masks;

  write_streams_config (conf, endpoint,
      "[stream a]\npattern=ball\n"
      "[stream b]\npattern=snow\n[stream d]\npattern=black\nweight=2\n");
  reload_us = g_get_monotonic_time ();
  g_subprocess_send_signal (s.proc, SIGHUP);
  streams_recv (sub, &s, t, 4, 4.0);
  d = stream_track (t, 4, "d");
  CHECK (d->masks >= 10, "added stream d: %" G_GUINT64_FORMAT " masks",
      d->masks);
  CHECK (d->weight2, "d's status carries its weight");
  CHECK (c->last_us < reload_us + 1000000,
      "removed stream c still "
      "publishes");
  CHECK (a->masks >= a_before + 30 && b->masks >= b_before + 30,
      "a %" G_GUINT64_FORMAT " b %" G_GUINT64_FORMAT " masks over the reload",
      a->masks - a_before, b->masks - b_before);
  CHECK (a->gaps == 0 && b->gaps == 0,
      "sequence gaps: a %" G_GUINT64_FORMAT " b %" G_GUINT64_FORMAT, a->gaps,
      b->gaps);
  {
    g_autofree gchar *msg = segd_wait (&s, "d: ", 5);

    CHECK (msg && !strstr (msg, "c: "), "STATUS after the reload: %s", msg);
  }
  segmask_sub_free (&sub);
  segd_stop (&s);
  segd_clear (&s);
  g_unlink (conf);
  g_rmdir (dir);
}

/* CURVE keys with streams on the shared socket stop start-up naming the
 * stream: the proxy would publish them in the clear. */
static void
case_streams_curve (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("segd-scurve-XXXXXX", &error);
  g_autofree gchar *secret = g_build_filename (dir, "server.key", NULL);
  g_autofree gchar *conf = g_build_filename (dir, "cams.conf", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *m = model ("selfie_segmentation.tflite");
  char pub[41], sec[41];

  CHECK (zmq_curve_keypair (pub, sec) == 0, "no CURVE in libzmq");
  text = g_strdup_printf ("%s\n", sec);
  CHECK (g_file_set_contents (secret, text, -1, NULL), "%s", secret);
  g_clear_pointer (&text, g_free);
  text = g_strdup_printf ("[source]\ntype=test\n[segmenter]\nmodel=%s\n"
                          "[output]\nendpoint=ipc://%s/"
                          "all.sock\ncurve-secret-key-file=%s\n"
                          "[stream a]\n",
      m, dir, secret);
  CHECK (g_file_set_contents (conf, text, -1, NULL), "%s", conf);
  expect_exit ((const gchar *[]){"--config", conf, "--set",
                   "output.sink=zmqmasksink", NULL},
      78, (const gchar *[]){"[stream a]", "CURVE", NULL});
  g_unlink (conf);
  g_unlink (secret);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  const gchar *c = argc > 1 ? argv[1] : "";
  g_autofree gchar *image = NULL;

  gst_init (NULL, NULL);
  CHECK (g_getenv ("SEGD") && g_getenv ("SEG_MODEL_DIR"),
      "SEGD and SEG_MODEL_DIR must be set");
  signal (SIGPIPE, SIG_IGN);

  if (!strcmp (c, "test")) {
    run_streaming ((const gchar *[]){"--set", "source.type=test", NULL}, 30);
  } else if (!strcmp (c, "demo")) {
    run_streaming ((const gchar *[]){"--set", "source.type=demo", NULL}, 30);
  } else if (!strcmp (c, "file-image")) {
    image = g_strdup_printf ("source.location=%s", g_getenv ("SEG_TEST_IMAGE"));
    run_streaming ((const gchar *[]){"--set", "source.type=file", "--set",
                       image, NULL},
        30);
  } else if (!strcmp (c, "file-video")) {
    case_file_video ();
  } else if (!strcmp (c, "stall")) {
    case_stall ();
  } else if (!strcmp (c, "sighup")) {
    case_sighup ();
  } else if (!strcmp (c, "missing-v4l2")) {
    case_missing_v4l2 ();
  } else if (!strcmp (c, "zmq")) {
    case_zmq ();
  } else if (!strcmp (c, "runtime-dir")) {
    case_runtime_dir ();
  } else if (!strcmp (c, "sub-count")) {
    case_sub_count ();
  } else if (!strcmp (c, "two-instances")) {
    case_two_instances ();
  } else if (!strcmp (c, "on-demand")) {
    case_on_demand ();
  } else if (!strcmp (c, "soak")) {
    case_soak ();
  } else if (!strcmp (c, "streams")) {
    case_streams ();
  } else if (!strcmp (c, "streams-curve")) {
    case_streams_curve ();
  } else if (!strcmp (c, "bad-config")) {
    case_bad_config ();
  } else if (!strcmp (c, "runtime-error")) {
    case_runtime_error ();
  } else if (!strcmp (c, "reload-threads")) {
    case_reload_threads ();
  } else if (!strcmp (c, "on-demand-reload")) {
    case_on_demand_reload ();
  } else if (!strcmp (c, "reload-eos")) {
    case_reload_eos ();
  } else if (!strcmp (c, "network-source")) {
    case_network_source ();
  } else if (!strcmp (c, "network-blocked")) {
    case_network_blocked ();
  } else if (!strcmp (c, "network-output")) {
    case_network_output ();
  } else if (!strcmp (c, "curve")) {
    case_curve ();
  } else if (!strcmp (c, "hup-at-stop")) {
    case_hup_at_stop ();
  } else {
    fprintf (stderr, "unknown case \"%s\"\n", c);
    return 2;
  }
  printf ("PASS %s\n", c);
  return 0;
}
