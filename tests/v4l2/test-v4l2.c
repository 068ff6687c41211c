/* segd against a camera: `test-v4l2 CASE` runs the real segd with the
 * fakecam LD_PRELOAD library (FAKECAM_PRELOAD), so segd's probing, mode
 * choice, v4l2src and the camera lifecycle meet a device that streams,
 * disappears, comes back, stalls and refuses. The test owns the control
 * directory ($FAKECAM_DIR) and the notify socket; it waits for messages
 * and states with generous deadlines and never asserts after a sleep.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <segmask.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "../segd-harness.h"

#define BY_ID "usb-Fake_Webcam_C920_0001-video-index0"

/* The fake camera: its control directory (in segd's directory, so that
 * segd_clear removes it) and the environment that puts it under segd. */
typedef struct
{
  gchar *dir;
  gint plug;
  gchar *asan_options;
  const gchar *env[9];
} Cam;

/* The control file of camera `n`, replaced atomically. */
static void
cam_write (Cam *c, gint n, const gchar *extra)
{
  g_autofree gchar *path = g_strdup_printf ("%s/video%d", c->dir, n);

  write_text (path, "by-id=" BY_ID "\nplug=%d\n%s", c->plug,
      extra ? extra : "");
}

static void
cam_unplug (Cam *c, gint n)
{
  g_autofree gchar *path = g_strdup_printf ("%s/video%d", c->dir, n);

  CHECK (g_unlink (path) == 0, "unplug %s", path);
}

/* Camera 0 with a metadata node 1, as uvcvideo creates them; segd `s`
 * will stream from it and publish stream "cam". */
static void
cam_setup (Cam *c, Segd *s)
{
  g_autofree gchar *meta = NULL;

  c->dir = g_build_filename (segd_dir (s), "cam", NULL);
  g_mkdir (c->dir, 0700);
  c->plug = 1;
  cam_write (c, 0, NULL);
  meta = g_build_filename (c->dir, "video1", NULL);
  write_text (meta, "kind=meta\nplug=1\n");
  /* Under ASan: full allocation stacks, so that tests/lsan.supp can name
   * v4l2src's own leak by its library (a fast unwind stops in GLib). */
  c->asan_options = asan_options_with ("fast_unwind_on_malloc=0");
  memcpy (c->env,
      (const gchar *[]){"LD_PRELOAD", g_getenv ("FAKECAM_PRELOAD"),
          "FAKECAM_DIR", c->dir, "FAKECAM_SCENE", g_getenv ("SEG_TEST_IMAGE"),
          "ASAN_OPTIONS", c->asan_options, NULL},
      sizeof c->env);
  s->env = c->env;
  s->stream = "cam";
}

static void
cam_clear (Cam *c)
{
  g_clear_pointer (&c->dir, g_free);
  g_clear_pointer (&c->asan_options, g_free);
}

/* The camera log's last line that starts with `prefix` (transfer full). */
static gchar *
cam_log_last (Cam *c, const gchar *prefix)
{
  g_autofree gchar *path = g_build_filename (c->dir, "video0.log", NULL);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  gchar *last = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix)) {
      g_free (last);
      last = g_strdup (lines[i]);
    }
  return last;
}

/* The next status whose camera_state starts with `want`: that value
 * (transfer full), or NULL at the deadline. */
static gchar *
camera_state (segmask_sub *sub, Segd *s, const gchar *want, gdouble seconds)
{
  return status_wait_field (sub, s, "camera_state", want, seconds);
}

/* READY, and STATUS says streaming. */
static void
wait_streaming (Segd *s)
{
  g_free (segd_wait (s, "READY=1", 60));
  CHECK (s->ready && strstr (s->last_status, "streaming"), "status %s",
      s->last_status);
}

/* ---- cases ---- */

/* --list-devices: the capture node with every mode, not the metadata
 * node; nothing once the camera is unplugged. */
static void
case_list_devices (void)
{
  Segd s = {0};
  Cam c = {0};
  g_autoptr (GSubprocessLauncher) l = NULL;
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  static const gchar *const want[] =
      {"/dev/video0: Fake Webcam C920 (uvcvideo, usb-0000:00:14.0-1)\n",
          "  YUYV 640x480 at 30/1 fps\n", "  YUYV 1280x720 at 15/2 fps\n",
          "  YUYV 1920x1080 at 5/1 fps\n", "  MJPG 1280x720 at 30/1 fps\n",
          "  MJPG 1920x1080 at 15/1 fps\n", NULL};

  cam_setup (&c, &s);
  for (gint round = 0; round < 2; round++) {
    l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    for (guint i = 0; c.env[i]; i += 2)
      g_subprocess_launcher_setenv (l, c.env[i], c.env[i + 1], TRUE);
    p = g_subprocess_launcher_spawn (l, &error, g_getenv ("SEGD"),
        "--list-devices", NULL);
    CHECK (p, "%s", error->message);
    CHECK (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error),
        "%s", error->message);
    CHECK (g_subprocess_get_if_exited (p)
            && g_subprocess_get_exit_status (p) == 0,
        "exit status");
    if (round == 0) {
      for (guint i = 0; want[i]; i++)
        CHECK (strstr (out, want[i]), "no \"%s\" in:\n%s", want[i], out);
      CHECK (!strstr (out, "/dev/video1"), "the metadata node is listed:\n%s",
          out);
      cam_unplug (&c, 0);
    } else {
      CHECK (!strcmp (out, "no V4L2 capture device found\n"),
          "after "
          "unplugging:\n%s",
          out);
    }
    g_clear_pointer (&out, g_free);
    g_clear_object (&p);
    g_clear_object (&l);
  }
  segd_clear (&s);
  cam_clear (&c);
}

/* The mode segd opens for a request, as the camera saw it at STREAMON,
 * against what docs/daemon.md promises. */
static void
case_mode_choice (void)
{
  static const struct
  {
    const gchar *w, *h, *fps, *format, *want, *why;
  } cases[] = {
      {"640", "480", "30", "auto", "YUYV 640x480 1/30", "exact, raw"},
      {"1280", "720", "30", "auto", "MJPG 1280x720 1/30",
          "MJPEG is the only way to 720p at 30"},
      {"1280", "720", "10", "auto", "YUYV 1280x720 1/10", "raw has 720p at 10"},
      {"1280", "720", "7", "auto", "YUYV 1280x720 2/15", "7.5 fps is enough"},
      {"1920", "1080", "25", "auto", "MJPG 1920x1080 1/30",
          "the rate over raw"},
      {"1024", "768", "30", "auto", "MJPG 1920x1080 1/30",
          "bigger over smaller, at the rate"},
      {"1280", "720", "30", "YUYV", "YUYV 640x480 1/30",
          "forced raw: the rate over the size"},
      {"400", "300", "30", "auto", "YUYV 640x480 1/30", "bigger over smaller"},
      {"640", "480", "60", "auto", "YUYV 640x480 1/30", "as fast as it goes"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Segd s = {0};
    Cam c = {0};
    g_autofree gchar *w = g_strdup_printf ("source.width=%s", cases[i].w);
    g_autofree gchar *h = g_strdup_printf ("source.height=%s", cases[i].h);
    g_autofree gchar *f = g_strdup_printf ("source.framerate=%s", cases[i].fps);
    g_autofree gchar *fmt =
        g_strdup_printf ("source.format=%s", cases[i].format);
    g_autofree gchar *got = NULL;
    const gchar *err;

    cam_setup (&c, &s);
    segd_start (&s,
        (const gchar *[]){"--set", "source.type=v4l2", "--set",
            "source.device=/dev/video0", "--set", w, "--set", h, "--set", f,
            "--set", fmt, NULL});
    g_free (segd_wait (&s, "READY=1", 60));
    CHECK (s.ready && strstr (s.last_status, "streaming"),
        "%sx%s@%s %s: "
        "status %s",
        cases[i].w, cases[i].h, cases[i].fps, cases[i].format, s.last_status);
    got = cam_log_last (&c, "streamon ");
    err = segd_stop (&s);
    CHECK (got && !strcmp (got + 9, cases[i].want),
        "%sx%s@%s %s: the camera "
        "streams %s, want %s (%s); segd said:\n%s",
        cases[i].w, cases[i].h, cases[i].fps, cases[i].format, got,
        cases[i].want, cases[i].why, err);
    segd_clear (&s);
    cam_clear (&c);
  }
}

/* Masks of the person in the photo, from the camera named by its by-id
 * link: about a third of the frame, never empty, never all of it. */
static void
run_masks (const gchar *device, const gchar *control, const gchar *want_source)
{
  Segd s = {0};
  Cam c = {0};
  g_autofree gchar *set = g_strdup_printf ("source.device=%s", device);
  const gchar *err;
  gint64 end;
  segmask_sub *sub;
  guint n = 0;
  gdouble sum = 0, lo = 1, hi = 0;

  cam_setup (&c, &s);
  cam_write (&c, 0, control);
  segd_start (&s,
      (const gchar *[]){"--set", "source.type=v4l2", "--set", set, NULL});
  wait_streaming (&s);
  sub = status_sub_new (s.endpoint, "cam");
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (n < 30 && g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;
    guint64 on = 0;
    gdouble cover;

    segd_drain (&s);
    if (segmask_sub_recv (sub, 100, &m) != SEGMASK_OK)
      continue;
    if (m->header.type != SEGMASK_MSG_MASK) {
      segmask_msg_free (&m);
      continue;
    }
    CHECK ((m->header.kind == SEGMASK_KIND_PROBABILITY
               || m->header.kind == SEGMASK_KIND_CLASSES)
            && m->data,
        "kind %d", m->header.kind);
    CHECK (m->header.frame_width == 640 && m->header.frame_height == 480,
        "frame %ux%u", m->header.frame_width, m->header.frame_height);
    for (guint y = 0; y < m->header.height; y++)
      for (guint x = 0; x < m->header.width; x++)
        on += m->data[(gsize) y * m->header.stride + x]
            > (m->header.kind == SEGMASK_KIND_CLASSES ? 0 : 127);
    cover = (gdouble) on / ((gdouble) m->header.width * m->header.height);
    sum += cover;
    lo = MIN (lo, cover);
    hi = MAX (hi, cover);
    n++;
    segmask_msg_free (&m);
  }
  segmask_sub_free (&sub);
  err = segd_stop (&s);
  CHECK (n == 30, "%u masks", n);
  printf ("mask coverage: mean %.2f, min %.2f, max %.2f\n", sum / n, lo, hi);
  CHECK (lo > 0.15 && hi < 0.8,
      "implausible person coverage: min %.2f max "
      "%.2f",
      lo, hi);
  CHECK (strstr (err, want_source), "\"%s\" not in:\n%s", want_source, err);
  segd_clear (&s);
  cam_clear (&c);
}

/* Unplugged (the camera named by `device`, waited for as `path`):
 * camera_state says so, segd stays up, no mask comes and STATUS no
 * longer says streaming. Plugged back: masks again
 * within 2 s. Without udev events (the fake cannot send them) the retry
 * timer finds it, so retry-max is 1 s here. */
static void
case_unplug (const gchar *device, const gchar *path)
{
  Segd s = {0};
  Cam c = {0};
  g_autofree gchar *set = g_strdup_printf ("source.device=%s", device);
  g_autofree gchar *waiting = g_strdup_printf ("waiting for %s", path);
  g_autofree gchar *state = NULL;
  const gchar *err;
  segmask_sub *sub;
  gint64 t0;
  guint stale;

  cam_setup (&c, &s);
  segd_start (&s,
      (const gchar *[]){"--set", "source.type=v4l2", "--set", set, "--set",
          "source.retry-max=1", "--set", "daemon.stall-timeout=1", NULL});
  wait_streaming (&s);
  sub = status_sub_new (s.endpoint, "cam");
  state = camera_state (sub, &s, "ok", 30);
  CHECK (state, "no camera_state=ok while streaming");
  g_clear_pointer (&state, g_free);
  CHECK (segd_masks_within (&s, 11, 30), "no masks: %s", s.last_status);

  for (gint round = 0; round < 2; round++) {
    gdouble dt;

    cam_unplug (&c, 0);
    state = camera_state (sub, &s, waiting, 10);
    CHECK (state, "camera_state does not say the camera is gone");
    g_clear_pointer (&state, g_free);
    /* Two seconds without the camera: no mask (nothing stale from the
     * queues), still up, STATUS tells the truth. */
    stale = sub_count_masks_until (sub, &s, G_MAXUINT, 2.0);
    CHECK (stale == 0, "%u masks without a camera", stale);
    CHECK (!segd_exited (&s), "segd exited without its camera");
    CHECK (strstr (s.last_status, waiting), "STATUS: %s", s.last_status);

    c.plug++;
    cam_write (&c, 0, NULL);
    t0 = g_get_monotonic_time ();
    CHECK (sub_count_masks_until (sub, &s, 1, 10),
        "no masks after the "
        "replug: %s",
        s.last_status);
    dt = (g_get_monotonic_time () - t0) / 1e6;
    printf ("round %d: first mask %.2f s after the replug\n", round, dt);
    CHECK (dt < 2.0, "first mask %.2f s after the camera returned", dt);
    state = camera_state (sub, &s, "ok", 10);
    CHECK (state, "camera_state not ok after the replug");
    g_clear_pointer (&state, g_free);
  }
  segmask_sub_free (&sub);
  err = segd_stop (&s);
  CHECK (strstr (err, waiting), "no log of the wait:\n%s", err);
  segd_clear (&s);
  cam_clear (&c);
}

/* Frames stop while the camera stays: no mask, so no watchdog ping after
 * stall-timeout, STATUS and camera_state say stalled, the stall is
 * logged; frames again: pings and "ok" again. */
static void
case_stall (void)
{
  Segd s = {0};
  Cam c = {0};
  const gchar *err;
  g_autofree gchar *state = NULL;
  segmask_sub *sub;
  guint before;
  guint64 masks;

  cam_setup (&c, &s);
  segd_start (&s,
      (const gchar *[]){"--set", "source.type=v4l2", "--set",
          "source.device=/dev/video0", "--set", "daemon.stall-timeout=0.5",
          NULL});
  wait_streaming (&s);
  CHECK (segd_masks_within (&s, 11, 30), "no masks: %s", s.last_status);

  sub = status_sub_new (s.endpoint, "cam");
  cam_write (&c, 0, "fault=stall\n");
  /* stall-timeout plus a ping period, then none may come for 2 s. */
  g_free (segd_wait (&s, "never-sent", 1.0));
  before = s.watchdogs;
  masks = segd_masks (&s);
  g_free (segd_wait (&s, "never-sent", 2.0));
  CHECK (s.watchdogs == before, "%u WATCHDOG=1 while the camera is stalled",
      s.watchdogs - before);
  CHECK (segd_masks (&s) <= masks + 1, "masks while stalled");
  CHECK (g_str_has_prefix (s.last_status, "stalled: no mask for "),
      "STATUS while stalled: %s", s.last_status);
  state = camera_state (sub, &s, "stalled", 5);
  CHECK (state, "camera_state does not say stalled");
  g_clear_pointer (&state, g_free);
  CHECK (!segd_exited (&s), "segd exited");

  cam_write (&c, 0, NULL);
  CHECK (segd_masks_within (&s, segd_masks (&s) + 1, 10),
      "no masks after "
      "the stall: %s",
      s.last_status);
  state = camera_state (sub, &s, "ok", 10);
  CHECK (state, "camera_state not ok once frames flow again");
  g_clear_pointer (&state, g_free);
  segmask_sub_free (&sub);
  g_free (segd_wait (&s, "WATCHDOG=1", 5));
  CHECK (s.watchdogs > before, "no ping once frames flow");
  err = segd_stop (&s);
  CHECK (strstr (err, "stalled"), "the stall is not logged:\n%s", err);
  segd_clear (&s);
  cam_clear (&c);
}

/* The camera refuses the mode segd picks (STREAMON fails with ENOSPC, as
 * without USB bandwidth): segd stays up, says why and streams the next
 * best mode instead of retrying the same one forever. */
static void
case_refuse (void)
{
  Segd s = {0};
  Cam c = {0};
  const gchar *err;
  g_autofree gchar *got = NULL;
  g_autofree gchar *refused = NULL;

  cam_setup (&c, &s);
  cam_write (&c, 0, "refuse=YUYV 640x480\n");
  segd_start (&s,
      (const gchar *[]){"--set", "source.type=v4l2", "--set",
          "source.device=/dev/video0", "--set", "source.retry-max=0.5", NULL});
  g_free (segd_wait (&s, "READY=1", 60));
  CHECK (s.ready, "no READY; status %s", s.last_status);
  CHECK (segd_masks_within (&s, 6, 30), "no masks from another mode: %s",
      s.last_status);
  refused = cam_log_last (&c, "refused ");
  got = cam_log_last (&c, "streamon ");
  err = segd_stop (&s);
  CHECK (refused && !strcmp (refused, "refused YUYV 640x480 1/30"), "%s",
      refused);
  CHECK (got && !strcmp (got, "streamon MJPG 640x480 1/30"),
      "streams %s; "
      "segd said:\n%s",
      got, err);
  CHECK (strstr (err,
             "/dev/video0 did not start in YUYV 640x480 at 30/1 "
             "fps: trying the next best mode"),
      "the refusal is not logged:\n%s", err);
  segd_clear (&s);
  cam_clear (&c);
}

int
main (int argc, char **argv)
{
  const gchar *c = argc > 1 ? argv[1] : "";

  CHECK (g_getenv ("SEGD") && g_getenv ("SEG_MODEL_DIR")
          && g_getenv ("FAKECAM_PRELOAD"),
      "SEGD, SEG_MODEL_DIR and "
      "FAKECAM_PRELOAD must be set");
  signal (SIGPIPE, SIG_IGN);

  if (!strcmp (c, "list-devices"))
    case_list_devices ();
  else if (!strcmp (c, "mode-choice"))
    case_mode_choice ();
  else if (!strcmp (c, "masks"))
    run_masks ("/dev/video0", NULL,
        "source: v4l2 /dev/video0 (Fake Webcam C920)");
  else if (!strcmp (c, "masks-mmap")) /* a driver without EXPBUF */
    run_masks ("/dev/video0", "expbuf=no\n",
        "source: v4l2 /dev/video0 (Fake Webcam C920)");
  else if (!strcmp (c, "masks-mjpeg"))
    run_masks ("/dev/video0", "mode=MJPG 640x480 30\n",
        "source: v4l2 /dev/video0 (Fake Webcam C920): MJPG 640x480");
  else if (!strcmp (c, "by-id"))
    run_masks (BY_ID, NULL, "source: v4l2 /dev/v4l/by-id/" BY_ID);
  else if (!strcmp (c, "unplug"))
    case_unplug ("/dev/video0", "/dev/video0");
  else if (!strcmp (c, "unplug-by-id"))
    case_unplug (BY_ID, "/dev/v4l/by-id/" BY_ID);
  else if (!strcmp (c, "stall"))
    case_stall ();
  else if (!strcmp (c, "refuse"))
    case_refuse ();
  else {
    fprintf (stderr, "unknown case \"%s\"\n", c);
    return 2;
  }
  printf ("PASS %s\n", c);
  return 0;
}
