/* segd-sub against a libsegmask publisher with CURVE from czmq
 * certificate files: keys come from files, a secret key on the command
 * line is refused, and the strings a publisher sends (labels, here with a
 * C1 control byte that the decoder lets through as non-ASCII) reach the
 * terminal escaped. Usage: test-segd-sub SEGD_SUB */
#include "../check.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <segmask-pub.h>
#include <string.h>
#include <zmq.h>

static segmask_pub *pub;
static gint stop;

static void
release_free (void *data, void *owner)
{
  g_free (owner);
}

static gpointer
pusher (gpointer data)
{
  static const char *const labels[] = {"back\x9b[2Jground", "person"};

  while (!g_atomic_int_get (&stop)) {
    segmask_pub_mask m = {0};
    guint8 *plane = g_malloc0 (16 * 8);

    plane[3] = 1;
    m.plane = plane;
    m.kind = SEGMASK_KIND_CLASSES;
    m.width = m.stride = 16;
    m.height = 8;
    m.num_classes = 2;
    m.labels = labels;
    m.model_name = "m\x1b[31m";
    m.release = release_free;
    m.owner = plane;
    segmask_pub_push (pub, &m);
    g_usleep (20 * 1000);
  }
  return NULL;
}

static gchar *
cert (const gchar *dir, const gchar *name, const char *pk, const char *sk)
{
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *text = g_strdup_printf ("#   ZeroMQ CURVE Certificate\ncurve\n"
                                 "    public-key = \"%s\"\n%s%s%s",
      pk, sk ? "    secret-key = \"" : "", sk ? sk : "", sk ? "\"\n" : "");

  CHECK (g_file_set_contents (path, text, -1, NULL), "write %s", path);
  g_free (text);
  return path;
}

int
main (int argc, char **argv)
{
  char srv_pub[41], srv_sec[41], cl_pub[41], cl_sec[41], err[256];
  gchar *dir = g_dir_make_tmp ("segd-sub-XXXXXX", NULL);
  gchar *srv_cert, *srv_pubcert, *cl_cert, *cl_pubcert, *ep, *out = NULL,
                                                             *errout = NULL;
  segmask_pub_options o;
  GSubprocess *p;
  GThread *t;
  GError *error = NULL;

  CHECK (argc == 2 && dir, "usage");
  CHECK (zmq_curve_keypair (srv_pub, srv_sec) == 0
          && zmq_curve_keypair (cl_pub, cl_sec) == 0,
      "keypair");
  srv_cert = cert (dir, "server.key_secret", srv_pub, srv_sec);
  srv_pubcert = cert (dir, "server.key", srv_pub, NULL);
  cl_cert = cert (dir, "client.key_secret", cl_pub, cl_sec);
  cl_pubcert = cert (dir, "client.key", cl_pub, NULL);
  ep = g_strdup_printf ("ipc://%s/sub.sock", dir);
  segmask_pub_options_init (&o);
  o.endpoint = ep;
  o.stream = "cam0";
  o.curve_secret_key_file = srv_cert;
  o.curve_allowed_keys_file = cl_pubcert;
  CHECK (segmask_pub_new (&o, &pub, err, sizeof (err)) == SEGMASK_OK, "%s",
      err);
  t = g_thread_new ("pusher", pusher, NULL);

  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      &error, argv[1], ep, "--count", "2", "--timeout", "10",
      "--curve-server-key-file", srv_pubcert, "--curve-secret-key-file",
      cl_cert, NULL);
  CHECK (p, "spawn: %s", error ? error->message : "");
  CHECK (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &errout, &error),
      "communicate");
  CHECK (g_subprocess_get_if_exited (p)
          && g_subprocess_get_exit_status (p) == 0,
      "segd-sub failed: %s", errout);
  CHECK (strstr (out, "back\\x9b[2Jground="), "label not escaped: %s", out);
  CHECK (!strchr (out, '\x9b') && !strchr (out, '\x1b'),
      "raw control "
      "bytes reached the terminal: %s",
      out);
  g_object_unref (p);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&errout, g_free);

  /* A secret on the command line is refused, not used. */
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      &error, argv[1], ep, "--count", "1", "--timeout", "2",
      "--curve-server-key", srv_pub, "--curve-public-key", cl_pub,
      "--curve-secret-key", cl_sec, NULL);
  CHECK (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &errout, &error),
      "communicate");
  CHECK (g_subprocess_get_if_exited (p)
          && g_subprocess_get_exit_status (p) == 64
          && strstr (errout, "--curve-secret-key-file"),
      "exit %d: %s", g_subprocess_get_exit_status (p), errout);
  g_object_unref (p);

  g_atomic_int_set (&stop, 1);
  g_thread_join (t);
  segmask_pub_free (&pub);
  printf ("segd-sub: keys from certificates, escaped labels, no secret on "
          "argv: ok\n");
  g_unlink (srv_cert);
  g_unlink (srv_pubcert);
  g_unlink (cl_cert);
  g_unlink (cl_pubcert);
  g_rmdir (dir);
  g_free (srv_cert);
  g_free (srv_pubcert);
  g_free (cl_cert);
  g_free (cl_pubcert);
  g_free (ep);
  g_free (out);
  g_free (errout);
  g_free (dir);
  return 0;
}
