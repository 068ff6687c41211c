/* The segd test harness (see segd-harness.h), linked into test-segd and
 * test-v4l2. */
#include "segd-harness.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

gchar *
model (const gchar *name)
{
  return g_build_filename (g_getenv ("SEG_MODEL_DIR"), name, NULL);
}

const gchar *
segd_dir (Segd *s)
{
  g_autoptr (GError) error = NULL;

  if (!s->dir) {
    s->dir = g_dir_make_tmp ("segd-test-XXXXXX", &error);
    CHECK (s->dir, "%s", error->message);
  }
  return s->dir;
}

/* In the child: a failed CHECK exits the test at once, and a segd left
 * running would keep the test's output pipe open, so that meson reported a
 * timeout instead of the failure. */
static void
die_with_test (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

void
segd_start (Segd *s, const gchar *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sock_path = g_build_filename (segd_dir (s), "notify", NULL);
  g_autofree gchar *etc = g_build_filename (s->dir, "etc", NULL);
  g_autofree gchar *m = model ("selfie_segmentation.tflite");
  struct sockaddr_un addr = {AF_UNIX, {0}};

  g_mkdir (etc, 0700);
  s->sock = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK (s->sock >= 0, "socket");
  g_strlcpy (addr.sun_path, sock_path, sizeof addr.sun_path);
  CHECK (bind (s->sock, (struct sockaddr *) &addr, sizeof addr) == 0, "bind %s",
      sock_path);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  g_subprocess_launcher_setenv (launcher, "NOTIFY_SOCKET", sock_path, TRUE);
  g_subprocess_launcher_setenv (launcher, "WATCHDOG_USEC", "400000", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "WATCHDOG_PID");
  for (guint i = 0; s->env && s->env[i] && s->env[i + 1]; i += 2)
    g_subprocess_launcher_setenv (launcher, s->env[i], s->env[i + 1], TRUE);

  g_ptr_array_add (argv, g_strdup (g_getenv ("SEGD")));
  g_ptr_array_add (argv, g_strdup ("--config-dir"));
  g_ptr_array_add (argv, g_strdup (etc));
  /* A test that passes --config names its own model there. */
  if (!args || !g_strv_contains (args, "--config")) {
    g_ptr_array_add (argv, g_strdup ("--set"));
    g_ptr_array_add (argv, g_strdup_printf ("segmenter.model=%s", m));
  }
  g_ptr_array_add (argv, g_strdup ("--set"));
  if (s->stream) {
    if (!s->endpoint)
      s->endpoint = g_strdup_printf ("ipc://%s/%s.sock", s->dir, s->stream);
    g_ptr_array_add (argv, g_strdup ("output.sink=zmqmasksink"));
    g_ptr_array_add (argv, g_strdup ("--set"));
    g_ptr_array_add (argv,
        g_strdup_printf ("output.stream-name=%s", s->stream));
    g_ptr_array_add (argv, g_strdup ("--set"));
    g_ptr_array_add (argv, g_strdup_printf ("output.endpoint=%s", s->endpoint));
  } else {
    g_ptr_array_add (argv, g_strdup ("output.sink=fakesink"));
  }
  /* The status page has its own tests (tests/http); here its default port
   * 9470 would be fought over by the tests running in parallel, or taken
   * by a segd.service on the machine. */
  g_ptr_array_add (argv, g_strdup ("--set"));
  g_ptr_array_add (argv, g_strdup ("http.enabled=false"));
  for (guint i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  s->proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar *const *) argv->pdata, &error);
  CHECK (s->proc, "%s", error->message);
}

/* Counts READY and WATCHDOG in one datagram and keeps its STATUS. */
static void
take (Segd *s, const char *buf)
{
  const char *st = strstr (buf, "STATUS=");

  if (strstr (buf, "WATCHDOG=1"))
    s->watchdogs++;
  if (strstr (buf, "READY=1"))
    s->ready = TRUE;
  if (strstr (buf, "STOPPING=1"))
    s->stopping = TRUE;
  if (st) {
    g_free (s->last_status);
    s->last_status = g_strndup (st + 7, strcspn (st + 7, "\n"));
  }
}

gchar *
segd_wait (Segd *s, const gchar *needle, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);

  while (g_get_monotonic_time () < end) {
    struct timeval tv = {0, 50000};
    char buf[4096];
    ssize_t n;

    setsockopt (s->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    n = recv (s->sock, buf, sizeof buf - 1, 0);
    if (n <= 0)
      continue;
    buf[n] = '\0';
    take (s, buf);
    if (strstr (buf, needle))
      return g_strdup (buf);
  }
  return NULL;
}

void
segd_expect (Segd *s, const gchar *needle, gdouble seconds, const gchar *what)
{
  gchar *msg = segd_wait (s, needle, seconds);

  CHECK (msg, "%s; last: %s", what, s->last_status);
  g_free (msg);
}

void
segd_drain (Segd *s)
{
  char buf[4096];
  ssize_t n;

  while ((n = recv (s->sock, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
    buf[n] = '\0';
    take (s, buf);
  }
}

guint64
segd_masks (Segd *s)
{
  const gchar *p = s->last_status ? strstr (s->last_status, " masks") : NULL;

  while (p && p > s->last_status && g_ascii_isdigit (p[-1]))
    p--;
  return p ? g_ascii_strtoull (p, NULL, 10) : 0;
}

gboolean
segd_masks_within (Segd *s, guint64 n, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);

  while (segd_masks (s) < n && g_get_monotonic_time () < end)
    g_free (segd_wait (s, "STATUS=", 0.2));
  return segd_masks (s) >= n;
}

void
segd_wait_masks (Segd *s, guint64 n, gdouble seconds)
{
  CHECK (segd_masks_within (s, n, seconds),
      "wanted %" G_GUINT64_FORMAT " masks, status: %s", n, s->last_status);
}

gboolean
segd_exited (Segd *s)
{
  /* GLib reaps the child on its worker thread; the identifier goes NULL
   * once it has. */
  g_main_context_iteration (NULL, FALSE);
  return g_subprocess_get_identifier (s->proc) == NULL;
}

int
segd_wait_exit (Segd *s, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);

  while (!segd_exited (s) && g_get_monotonic_time () < end) {
    segd_drain (s);
    g_usleep (10000);
  }
  if (!segd_exited (s)) {
    g_subprocess_force_exit (s->proc);
    return -1;
  }
  if (g_subprocess_get_if_signaled (s->proc))
    return 128 + g_subprocess_get_term_sig (s->proc);
  return g_subprocess_get_exit_status (s->proc);
}

gchar *
segd_stderr (Segd *s)
{
  if (!s->err_text) {
    GInputStream *in = g_subprocess_get_stderr_pipe (s->proc);
    const gsize size = 1 << 20;
    gchar *buf = g_malloc (size);
    gsize n = 0;

    g_input_stream_read_all (in, buf, size - 1, &n, NULL, NULL);
    buf[n] = '\0';
    s->err_text = buf;
  }
  return g_strdup (s->err_text);
}

/* segd gives the pipeline 1.5 s to flush before it quits anyway and says
 * so; that message, not the wall clock (loaded machines, sanitizers),
 * tells a clean stop from a forced one. The time to stop under systemd is
 * measured by tests/systemd. */
const gchar *
segd_stop (Segd *s)
{
  g_autofree gchar *err = NULL;
  int status;

  g_subprocess_send_signal (s->proc, SIGTERM);
  status = segd_wait_exit (s, 30);
  err = segd_stderr (s);
  CHECK (status == 0, "exit status %d after SIGTERM; stderr:\n%s", status, err);
  CHECK (!strstr (err, "did not flush in time"), "stop was forced: %s", err);
  return s->err_text;
}

void
remove_tree (const gchar *dir)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  if (system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", dir);
}

void
segd_clear (Segd *s)
{
  if (s->sock > 0)
    close (s->sock);
  s->sock = 0;
  g_clear_object (&s->proc);
  g_clear_pointer (&s->last_status, g_free);
  g_clear_pointer (&s->err_text, g_free);
  g_clear_pointer (&s->endpoint, g_free);
  if (s->dir)
    remove_tree (s->dir);
  g_clear_pointer (&s->dir, g_free);
}

void
write_text (const gchar *path, const gchar *fmt, ...)
{
  g_autofree gchar *text = NULL;
  va_list ap;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  CHECK (g_file_set_contents (path, text, -1, NULL), "write %s", path);
}

gchar *
asan_options_with (const gchar *more)
{
  const gchar *asan = g_getenv ("ASAN_OPTIONS");

  return g_strdup_printf ("%s%s%s", asan ? asan : "", asan && *asan ? ":" : "",
      more);
}

segmask_sub *
status_sub_new (const gchar *endpoint, const gchar *stream)
{
  segmask_sub_options opt;
  segmask_sub *sub = NULL;
  char err[256];

  segmask_sub_options_init (&opt);
  opt.endpoint = endpoint;
  opt.stream = stream;
  opt.status = 1;
  CHECK (segmask_sub_new (&opt, &sub, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  return sub;
}

gchar *
status_wait_field (segmask_sub *sub, Segd *s, const gchar *key,
    const gchar *want, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);
  g_autofree gchar *prefix = g_strdup_printf ("\n%s=", key);
  gsize skip = strlen (prefix);

  while (g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;
    const char *line;

    segd_drain (s);
    if (segmask_sub_recv (sub, 100, &m) != SEGMASK_OK)
      continue;
    line = m->header.type == SEGMASK_MSG_STATUS && m->text
        ? strstr (m->text, prefix)
        : NULL;
    if (line && g_str_has_prefix (line + skip, want)) {
      gchar *value = g_strndup (line + skip, strcspn (line + skip, "\n"));

      segmask_msg_free (&m);
      return value;
    }
    segmask_msg_free (&m);
  }
  return NULL;
}

guint
sub_count_masks_until (segmask_sub *sub, Segd *s, guint enough, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);
  guint n = 0;

  while (n < enough && g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;

    segd_drain (s);
    if (segmask_sub_recv (sub, 50, &m) != SEGMASK_OK)
      continue;
    n += m->header.type == SEGMASK_MSG_MASK;
    segmask_msg_free (&m);
  }
  return n;
}
