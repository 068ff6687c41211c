/* Unit tests of segd's configuration layers and error messages, of the
 * documented defaults in configs/segd.conf, and of V4L2 mode selection.
 */
#include "segd-config.h"
#include "segd-v4l2.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <linux/videodev2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

static gchar *tmp;

static void
write_file (const gchar *rel, const gchar *text)
{
  g_autofree gchar *path = g_build_filename (tmp, rel, NULL);
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_mkdir_with_parents (dir, 0700);
  CHECK (g_file_set_contents (path, text, -1, &error), "%s", path);
}

static SegdConfig *
load (const gchar *const *files, const gchar *const *sets, GError **error)
{
  g_autofree gchar *dir = g_build_filename (tmp, "etc", NULL);
  SegdConfigSources s = {dir, files, sets};

  return segd_config_load (&s, error);
}

static void
expect_error (const gchar *const *files, const gchar *const *sets,
    const gchar *const *needles)
{
  g_autoptr (GError) error = NULL;
  SegdConfig *c = load (files, sets, &error);

  CHECK (c == NULL, "config loaded but should not");
  CHECK (error->domain == SEGD_CONFIG_ERROR, "domain %s",
      g_quark_to_string (error->domain));
  CHECK (!strchr (error->message, '\n'), "not one line: %s", error->message);
  for (guint i = 0; needles[i]; i++)
    CHECK (strstr (error->message, needles[i]), "\"%s\" not in \"%s\"",
        needles[i], error->message);
}

/* Writes the config file `rel` (printf-style) and expects loading it as
 * --config to fail with every one of `needles` in the message. */
static void G_GNUC_PRINTF (3, 4) expect_file_error (const gchar *rel,
    const gchar *const *needles, const gchar *fmt, ...)
{
  g_autofree gchar *path = g_build_filename (tmp, rel, NULL);
  g_autofree gchar *text = NULL;
  va_list ap;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  write_file (rel, text);
  expect_error ((const gchar *[]){path, NULL}, NULL, needles);
}

static void
test_defaults (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SegdConfig) c = load (NULL, NULL, &error);

  CHECK (c, "%s", error->message);
  CHECK (c->source_type == SEGD_SOURCE_AUTO, "type %d", c->source_type);
  CHECK (c->width == 640 && c->height == 480 && c->framerate == 30, "size");
  CHECK (!strcmp (c->sink, "zmqmasksink"), "sink %s", c->sink);
  CHECK (!strcmp (c->stream_name, "segd"), "stream %s", c->stream_name);
  CHECK (c->retry_max == 5.0, "retry-max %g", c->retry_max);
  CHECK (!c->on_demand && c->loop, "bools");
}

/* defaults < segd.conf < drop-ins in lexical order < --config < --set */
static void
test_layers (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *extra = g_build_filename (tmp, "cam7.conf", NULL);
  const gchar *files[] = {extra, NULL};
  const gchar *sets[] = {"segmenter.threshold=0.25", NULL};
  g_autoptr (SegdConfig) c = NULL;

  write_file ("etc/segd.conf",
      "[source]\nwidth=320\nheight=200\n"
      "framerate=15\n[segmenter]\nthreshold=0.9\n");
  write_file ("etc/segd.conf.d/20-b.conf",
      "[source]\nheight=240\n"
      "framerate=20\n");
  write_file ("etc/segd.conf.d/10-a.conf",
      "[source]\nheight=100\n"
      "framerate=10\ntype=test\n");
  write_file ("etc/segd.conf.d/30-ignored.txt", "[bogus]\nx=1\n");
  write_file ("cam7.conf", "[source]\nframerate=25\n");

  c = load (files, sets, &error);
  CHECK (c, "%s", error->message);
  CHECK (c->width == 320, "width %d from segd.conf", c->width);
  CHECK (c->height == 240, "height %d: 20-b must win over 10-a", c->height);
  CHECK (c->framerate == 25, "framerate %d from --config", c->framerate);
  CHECK (c->source_type == SEGD_SOURCE_TEST, "type from 10-a");
  CHECK (c->threshold == 0.25, "threshold %g from --set", c->threshold);
  CHECK (!strcmp (c->stream_name, "cam7"), "stream %s from the file name",
      c->stream_name);

  /* --print-config output parses back to the same values. */
  {
    g_autofree gchar *text = segd_config_to_string (c);
    g_autoptr (GKeyFile) kf = g_key_file_new ();
    g_autofree gchar *type = NULL;

    CHECK (g_key_file_load_from_data (kf, text, -1, 0, NULL), "%s", text);
    CHECK (g_key_file_get_integer (kf, "source", "height", NULL) == 240, "%s",
        text);
    type = g_key_file_get_value (kf, "source", "type", NULL);
    CHECK (type && !strcmp (type, "test"), "%s", text);
  }
  g_clear_pointer (&c, segd_config_free);

  for (const gchar *const *f = (const gchar *[]){"etc/segd.conf",
           "etc/segd.conf.d/20-b.conf", "etc/segd.conf.d/10-a.conf", NULL};
       *f; f++) {
    g_autofree gchar *p = g_build_filename (tmp, *f, NULL);

    g_unlink (p);
  }
}

static void
test_errors (void)
{
  g_autofree gchar *missing = g_build_filename (tmp, "nope.conf", NULL);

  expect_file_error ("bad.conf",
      (const gchar *[]){"bad.conf:4", "unknown key \"widht\"", "[source]",
          "width", NULL},
      "# comment\n[source]\n\nwidht = 3\n");
  expect_file_error ("bad.conf",
      (const gchar *[]){"bad.conf:2", "width", "from 16 to 8192", "\"3\"",
          NULL},
      "[source]\nwidth = 3\n");
  expect_file_error ("bad.conf",
      (const gchar *[]){"bad.conf:3", "threshold", "a number", NULL},
      "[segmenter]\nthreshold=0.5\nthreshold = high\n");
  expect_file_error ("bad.conf",
      (const gchar *[]){"bad.conf:2", "type",
          "auto, demo, test, file, uri, v4l2", NULL},
      "[source]\ntype = webcam\n");
  expect_file_error ("bad.conf",
      (const gchar *[]){"bad.conf:3", "unknown section [sauce]", NULL},
      "[output]\nsink=fakesink\n[sauce]\ntype=test\n");
  expect_file_error ("bad.conf",
      (const gchar *[]){"bad.conf", "not a key file", NULL},
      "this is not a key file\n");

  expect_error ((const gchar *[]){missing, NULL}, NULL,
      (const gchar *[]){"nope.conf", NULL});

  expect_error (NULL, (const gchar *[]){"source.framerate=1000", NULL},
      (const gchar *[]){"--set source.framerate=1000", "framerate",
          "from 1 to 240", NULL});
  expect_error (NULL, (const gchar *[]){"source.on-demand=maybe", NULL},
      (const gchar *[]){"on-demand", "true or false", NULL});
  expect_error (NULL, (const gchar *[]){"width=3", NULL},
      (const gchar *[]){"section.key=value", NULL});
  expect_error (NULL, (const gchar *[]){"source.type=file", NULL},
      (const gchar *[]){"[source] location", "type=file", NULL});
  expect_error (NULL, (const gchar *[]){"source.format=YUV", NULL},
      (const gchar *[]){"[source] format", "four-character", NULL});
}

/* The CURVE key files are checked once all layers are in: missing, not a
 * regular file (a directory is fine for the allowed keys), holding no
 * usable key, or the allowed keys without the server's key each fail with
 * the line that set them and the path; a later layer may fix an earlier
 * one. */
static void
test_key_files (void)
{
  g_autofree gchar *conf = g_build_filename (tmp, "keys.conf", NULL);
  g_autofree gchar *secret = g_build_filename (tmp, "server.key", NULL);
  g_autofree gchar *allowed = g_build_filename (tmp, "allowed.d", NULL);
  g_autofree gchar *missing = g_build_filename (tmp, "nope.key", NULL);
  g_autofree gchar *junk = g_build_filename (tmp, "junk.key", NULL);
  g_autofree gchar *set_secret =
      g_strdup_printf ("output.curve-secret-key-file=%s", secret);
  g_autofree gchar *set_missing =
      g_strdup_printf ("output.curve-allowed-keys=%s", missing);
  const gchar *files[] = {conf, NULL};
  g_autoptr (GError) error = NULL;
  g_autoptr (SegdConfig) c = NULL;

  write_file ("server.key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n");
  write_file ("allowed.d/client.key",
      "#   ZeroMQ CURVE Public Certificate\n"
      "metadata\ncurve\n"
      "    public-key = \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n");
  write_file ("junk.key", "not a key\n");

  expect_file_error ("keys.conf",
      (const gchar *[]){"keys.conf:3", "curve-secret-key-file", missing,
          g_strerror (ENOENT), NULL},
      "# keys\n[output]\ncurve-secret-key-file = %s\n", missing);
  expect_file_error ("keys.conf",
      (const gchar *[]){"keys.conf:2", "curve-secret-key-file",
          "not a regular file", NULL},
      "[output]\ncurve-secret-key-file = %s\n", tmp);

  expect_error (NULL, (const gchar *[]){set_secret, set_missing, NULL},
      (const gchar *[]){"--set output.curve-allowed-keys=", missing,
          g_strerror (ENOENT), NULL});

  /* There and readable, but no key in it: read with the sink's loader. */
  expect_file_error ("keys.conf",
      (const gchar *[]){"keys.conf:2", "curve-secret-key-file", junk, NULL},
      "[output]\ncurve-secret-key-file = %s\n", junk);
  expect_file_error ("keys.conf",
      (const gchar *[]){"keys.conf:2", "curve-allowed-keys",
          "needs [output] curve-secret-key-file", NULL},
      "[output]\ncurve-allowed-keys = %s\n", allowed);

  /* A key file and a directory of certificates; --set fixes the file's
   * missing server key. */
  {
    g_autofree gchar *text = g_strdup_printf ("[output]\n"
                                              "curve-secret-key-file = "
                                              "%s\ncurve-allowed-keys = %s\n",
        missing, allowed);

    write_file ("keys.conf", text);
  }
  c = load (files, (const gchar *[]){set_secret, NULL}, &error);
  CHECK (c, "%s", error->message);
  CHECK (!strcmp (c->curve_secret_key_file, secret), "%s",
      c->curve_secret_key_file);
  CHECK (!strcmp (c->curve_allowed_keys, allowed), "%s", c->curve_allowed_keys);
  g_unlink (conf);
}

typedef struct
{
  gchar *text;
  guint missing;
} DocCheck;

static void
check_documented (const gchar *section, const gchar *key, const gchar *def,
    const gchar *desc, gpointer user_data)
{
  DocCheck *doc = user_data;
  g_autofree gchar *header = g_strdup_printf ("[%s]\n", section);
  g_autofree gchar *line = g_strdup_printf ("\n#%s = %s\n", key, def);
  const gchar *sec = strstr (doc->text, header);
  const gchar *next, *at;

  if (!sec) {
    fprintf (stderr, "configs/segd.conf: no [%s]\n", section);
    doc->missing++;
    return;
  }
  next = strstr (sec + 1, "\n[");
  at = strstr (sec, line);
  if (!at || (next && at > next)) {
    fprintf (stderr, "configs/segd.conf: [%s] lacks \"#%s = %s\"\n", section,
        key, def);
    doc->missing++;
  }
}

static void
test_documented (void)
{
  g_autoptr (GError) error = NULL;
  const gchar *path = g_getenv ("SEGD_CONF_DOC");
  DocCheck doc = {NULL, 0};

  CHECK (path, "SEGD_CONF_DOC is not set");
  CHECK (g_file_get_contents (path, &doc.text, NULL, &error), "%s",
      error->message);
  segd_config_foreach_key (check_documented, &doc);
  CHECK (doc.missing == 0, "%u keys undocumented or with a wrong default",
      doc.missing);

  /* The documented file itself loads (everything commented out). */
  {
    g_autoptr (SegdConfig) c =
        load ((const gchar *[]){path, NULL}, NULL, &error);

    CHECK (c, "%s", error->message);
  }
  g_free (doc.text);
}

/* [stream NAME] sections: the base with the section on top, drop-ins
 * changing one stream, the [stream] defaults, errors naming the section. */
static void
test_streams (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *multi = g_build_filename (tmp, "multi.conf", NULL);
  g_autofree gchar *bad = g_build_filename (tmp, "badstream.conf", NULL);
  const SegdStreamConfig *a, *b, *c;

  write_file ("multi.conf",
      "[source]\ntype = test\nframerate = 15\n"
      "[output]\nendpoint = ipc:///tmp/all.sock\n"
      "[stream]\nmax-latency = 200\n"
      "[stream cam0]\npattern = snow\nweight = 2\n"
      "[stream cam1]\n"
      "[stream cam2]\nendpoint = ipc:///tmp/cam2.sock\nframerate = 5\n");
  write_file ("etc/segd.conf.d/50-cam1.conf",
      "[stream cam1]\n"
      "pattern = black\nmax-latency = 50\n");
  {
    g_autoptr (SegdConfig) cfg =
        load ((const gchar *[]){multi, NULL}, NULL, &error);
    g_autofree gchar *text = NULL;

    CHECK (cfg, "%s", error->message);
    CHECK (cfg->streams->len == 3, "%u streams", cfg->streams->len);
    a = g_ptr_array_index (cfg->streams, 0);
    b = g_ptr_array_index (cfg->streams, 1);
    c = g_ptr_array_index (cfg->streams, 2);
    /* The drop-in is read first: cam1 comes first. */
    CHECK (!strcmp (a->name, "cam1") && !strcmp (b->name, "cam0")
            && !strcmp (c->name, "cam2"),
        "order");
    CHECK (!strcmp (a->config->pattern, "black") && a->config->max_latency == 50
            && a->config->weight == 1,
        "cam1 from the drop-in");
    CHECK (!strcmp (b->config->pattern, "snow") && b->config->weight == 2
            && b->config->max_latency == 200 && b->config->framerate == 15,
        "cam0 over the base");
    CHECK (!strcmp (b->config->stream_name, "cam0"), "name");
    CHECK (!b->own_endpoint && !b->config->endpoint[0], "shared endpoint");
    CHECK (c->own_endpoint
            && !strcmp (c->config->endpoint, "ipc:///tmp/cam2.sock")
            && c->config->framerate == 5,
        "cam2");
    CHECK (c->config->streams == NULL, "no streams of streams");
    text = segd_config_to_string (cfg);
    CHECK (strstr (text, "[stream cam0]\npattern=snow\nweight=2\n"), "%s",
        text);
  }
  {
    g_autofree gchar *dropin =
        g_build_filename (tmp, "etc/segd.conf.d/50-cam1.conf", NULL);

    g_remove (dropin);
  }

  write_file ("badstream.conf", "[stream cam0]\nmodel = x.onnx\n");
  expect_error ((const gchar *[]){bad, NULL}, NULL,
      (const gchar *[]){"badstream.conf:2", "[stream cam0]", "model",
          "[source] key", NULL});
  write_file ("badstream.conf", "[stream cam0]\nweight = 0\n");
  expect_error ((const gchar *[]){bad, NULL}, NULL,
      (const gchar *[]){"badstream.conf:2", "weight", "0.01", NULL});
  write_file ("badstream.conf", "[stream cam/0]\ntype = test\n");
  expect_error ((const gchar *[]){bad, NULL}, NULL,
      (const gchar *[]){"[stream cam/0]", "letters", NULL});
  write_file ("badstream.conf", "[stream cam0]\ntype = file\n");
  expect_error ((const gchar *[]){bad, NULL}, NULL,
      (const gchar *[]){"[stream cam0]", "location", NULL});
}

static void
test_best_mode (void)
{
  const guint32 yuyv = V4L2_PIX_FMT_YUYV, mjpg = V4L2_PIX_FMT_MJPEG;
  /* A typical USB webcam: raw is slow at high resolutions. */
  const SegdV4l2Mode modes[] = {
      {yuyv, 640, 480, 30, 1},
      {yuyv, 1280, 720, 10, 1},
      {yuyv, 320, 240, 30, 1},
      {mjpg, 640, 480, 30, 1},
      {mjpg, 1280, 720, 30, 1},
      {V4L2_PIX_FMT_H264, 1920, 1080, 30, 1},
  };
  const guint n = G_N_ELEMENTS (modes);
  const SegdV4l2Mode *m;
  g_autofree gchar *caps = NULL;

  m = segd_v4l2_best_mode (modes, n, 640, 480, 30, 0);
  CHECK (m == &modes[0], "exact raw match, got %ux%u", m->width, m->height);
  m = segd_v4l2_best_mode (modes, n, 1280, 720, 30, 0);
  CHECK (m == &modes[4], "MJPG keeps the frame rate");
  m = segd_v4l2_best_mode (modes, n, 1280, 720, 30, yuyv);
  CHECK (m == &modes[0], "forced raw: keep the rate over the size");
  m = segd_v4l2_best_mode (modes, n, 1280, 720, 10, yuyv);
  CHECK (m == &modes[1], "forced raw at a rate it has");
  m = segd_v4l2_best_mode (modes, n, 1920, 1080, 30, 0);
  CHECK (m == &modes[4], "largest usable (H264 is not consumable)");
  m = segd_v4l2_best_mode (modes, n, 400, 300, 30, 0);
  CHECK (m == &modes[0], "bigger over smaller, got %ux%u", m->width, m->height);
  m = segd_v4l2_best_mode (modes, n, 640, 480, 30, V4L2_PIX_FMT_NV12);
  CHECK (m == NULL, "no NV12 mode");
  CHECK (segd_v4l2_best_mode (modes, 0, 640, 480, 30, 0) == NULL, "empty");

  caps = segd_v4l2_mode_to_caps (&modes[4]);
  CHECK (!strcmp (caps, "image/jpeg,width=1280,height=720,framerate=30/1"),
      "%s", caps);
  g_free (caps);
  caps = segd_v4l2_mode_to_caps (&modes[0]);
  CHECK (!strcmp (caps,
             "video/x-raw,format=YUY2,width=640,height=480,"
             "framerate=30/1"),
      "%s", caps);
  CHECK (segd_v4l2_fourcc_from_string ("YUYV") == yuyv, "fourcc");
  CHECK (segd_v4l2_fourcc_from_string ("YUV") == 0, "short fourcc");
}

static void
test_resolve (void)
{
  g_autofree gchar *a = segd_v4l2_resolve ("/dev/video9");
  g_autofree gchar *b = segd_v4l2_resolve ("usb-Acme_Cam_123-video-index0");
  g_autoptr (GError) error = NULL;
  g_autoptr (SegdV4l2Device) dev =
      segd_v4l2_probe ("/nonexistent/video0", &error);

  CHECK (!strcmp (a, "/dev/video9"), "%s", a);
  CHECK (g_str_has_prefix (b, "/dev/v4l/by-"), "%s", b);
  CHECK (!dev && error && strstr (error->message, "/nonexistent/video0"),
      "probe of a missing device");
}

int
main (void)
{
  g_autoptr (GError) error = NULL;

  tmp = g_dir_make_tmp ("segd-config-XXXXXX", &error);
  CHECK (tmp, "%s", error->message);

  test_defaults ();
  test_layers ();
  test_errors ();
  test_key_files ();
  test_documented ();
  test_streams ();
  test_best_mode ();
  test_resolve ();

  {
    g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp);

    if (system (cmd) != 0)
      fprintf (stderr, "could not remove %s\n", tmp);
  }
  g_free (tmp);
  printf ("PASS\n");
  return 0;
}
