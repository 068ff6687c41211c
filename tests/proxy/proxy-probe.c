/* proxy-probe — the subscriber and key maker of the proxy network test.
 *
 *   proxy-probe keygen DIR NAME
 *       writes DIR/NAME.key (czmq-style secret certificate, for the
 *       proxy), DIR/NAME.secret (the secret key alone, for zmqmasksink,
 *       which takes one key per file) and DIR/NAME.pub (the public key)
 *   proxy-probe sub --connect EP [--connect EP...] [--server-key FILE
 *       --client-key FILE] [--stream NAME] [--status-stream NAME
 *       --status-file PATH] [--seconds S] [--slow MS] [--rcvhwm N]
 *       [--gap-ms MS]
 *
 * `sub` reads through plain libsegmask (nothing proxy-specific: that is
 * part of what the test shows) for a bounded time and prints, per stream,
 * masks, sequence gaps and sessions, then one line per arrival gap and per
 * sequence gap with wall-clock times, which test-proxy.sh compares with
 * the times it cut links and killed publishers. The newest status text of
 * --status-stream is kept in --status-file (written atomically).
 */
#include "segd-proxy-keys.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <segmask.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct
{
  guint64 masks, missed;
  guint sessions;
  guint32 session;
  guint64 seq;
  gdouble first, last;
} StreamStats;

static gdouble
now_real (void)
{
  return g_get_real_time () / 1e6;
}

static int
keygen (const gchar *dir, const gchar *name)
{
  gchar pub[41], sec[41];
  g_autofree gchar *kpath = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree gchar *ppath = g_strdup_printf ("%s/%s.pub", dir, name);
  g_autofree gchar *spath = g_strdup_printf ("%s/%s.secret", dir, name);
  g_autofree gchar *cert = NULL, *pubtext = NULL, *sectext = NULL;
  g_autoptr (GError) error = NULL;

  if (zmq_curve_keypair (pub, sec) != 0) {
    fprintf (stderr, "zmq_curve_keypair: %s\n", zmq_strerror (zmq_errno ()));
    return 1;
  }
  cert = g_strdup_printf ("#   ZeroMQ CURVE **Secret** Certificate\n"
                          "metadata\n    name = \"%s\"\ncurve\n    public-key "
                          "= \"%s\"\n"
                          "    secret-key = \"%s\"\n",
      name, pub, sec);
  pubtext = g_strdup_printf ("%s\n", pub);
  sectext = g_strdup_printf ("%s\n", sec);
  if (!g_file_set_contents_full (kpath, cert, -1,
          G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)
      || !g_file_set_contents_full (spath, sectext, -1,
          G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)
      || !g_file_set_contents (ppath, pubtext, -1, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  return 0;
}

static void
write_status (const gchar *path, const gchar *text)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, text, -1, &error))
    fprintf (stderr, "proxy-probe: %s\n", error->message);
}

static int
sub (int argc, char **argv)
{
  g_auto (GStrv) connects = NULL;
  gchar *server_key_file = NULL, *client_key_file = NULL, *stream = NULL;
  gchar *status_stream = NULL, *status_file = NULL;
  gdouble seconds = 10;
  gint slow_ms = 0, rcvhwm = 0, gap_ms = 700;
  GOptionEntry entries[] = {{"connect", 0, 0, G_OPTION_ARG_STRING_ARRAY,
                                &connects, "endpoint", "EP"},
      {"server-key", 0, 0, G_OPTION_ARG_FILENAME, &server_key_file, "", "F"},
      {"client-key", 0, 0, G_OPTION_ARG_FILENAME, &client_key_file, "", "F"},
      {"stream", 0, 0, G_OPTION_ARG_STRING, &stream, "", "NAME"},
      {"status-stream", 0, 0, G_OPTION_ARG_STRING, &status_stream, "", "N"},
      {"status-file", 0, 0, G_OPTION_ARG_FILENAME, &status_file, "", "F"},
      {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "", "S"},
      {"slow", 0, 0, G_OPTION_ARG_INT, &slow_ms, "", "MS"},
      {"rcvhwm", 0, 0, G_OPTION_ARG_INT, &rcvhwm, "", "N"},
      {"gap-ms", 0, 0, G_OPTION_ARG_INT, &gap_ms, "", "MS"}, {NULL}};
  g_autoptr (GOptionContext) ctx = g_option_context_new ("sub");
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) streams =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GString) events = g_string_new (NULL);
  gchar server[41] = "", cpub[41] = "", csec[41] = "";
  segmask_sub_options opt;
  segmask_sub *s = NULL;
  char err[256];
  gint64 deadline;
  guint64 total = 0, statuses = 0;
  GHashTableIter it;
  gpointer k, v;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !connects
      || !connects[0]) {
    fprintf (stderr, "proxy-probe sub: %s\n",
        error ? error->message : "--connect is required");
    return 64;
  }
  if (server_key_file
      && (!segd_proxy_keys_load_public (server_key_file, server, &error)
          || !segd_proxy_keys_load_secret (client_key_file, csec, cpub,
              &error))) {
    fprintf (stderr, "proxy-probe: %s\n", error->message);
    return 64;
  }
  segmask_sub_options_init (&opt);
  opt.endpoint = connects[0];
  opt.stream = stream;
  opt.status = status_stream != NULL;
  opt.rcvhwm = rcvhwm;
  if (server[0]) {
    opt.curve_server_key = server;
    opt.curve_public_key = cpub;
    opt.curve_secret_key = csec;
  }
  if (segmask_sub_new (&opt, &s, err, sizeof (err)) != SEGMASK_OK) {
    fprintf (stderr, "proxy-probe: %s\n", err);
    return 1;
  }
  for (guint i = 1; connects[i]; i++)
    if (segmask_sub_connect (s, connects[i], err, sizeof (err)) != SEGMASK_OK) {
      fprintf (stderr, "proxy-probe: %s\n", err);
      segmask_sub_free (&s);
      return 1;
    }

  deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < deadline) {
    gint left = (gint) ((deadline - g_get_monotonic_time ()) / 1000);
    segmask_msg *m = NULL;
    segmask_status st = segmask_sub_recv (s, MIN (MAX (left, 1), 200), &m);
    StreamStats *ss;
    gdouble t = now_real ();

    if (st == SEGMASK_TIMEOUT)
      continue;
    if (st != SEGMASK_OK) {
      fprintf (stderr, "proxy-probe: receive failed: %s\n",
          segmask_status_string (st));
      break;
    }
    if (m->header.type == SEGMASK_MSG_STATUS) {
      statuses++;
      if (status_file && status_stream
          && !strcmp (m->header.stream, status_stream))
        write_status (status_file, m->text);
      segmask_msg_free (&m);
      continue;
    }
    if (m->header.type != SEGMASK_MSG_MASK) {
      segmask_msg_free (&m);
      continue;
    }
    total++;
    ss = g_hash_table_lookup (streams, m->header.stream);
    if (!ss) {
      ss = g_new0 (StreamStats, 1);
      ss->first = t;
      ss->last = t;
      g_hash_table_insert (streams, g_strdup (m->header.stream), ss);
    }
    if (ss->masks && t - ss->last > gap_ms / 1000.0)
      g_string_append_printf (events, "gap %s %.3f %.3f\n", m->header.stream,
          ss->last, t);
    if (!ss->masks || m->header.session != ss->session) {
      ss->sessions++;
      ss->session = m->header.session;
    } else if (m->header.seq > ss->seq + 1) {
      ss->missed += m->header.seq - ss->seq - 1;
      g_string_append_printf (events, "seqgap %s %.3f %" G_GUINT64_FORMAT "\n",
          m->header.stream, t, m->header.seq - ss->seq - 1);
    }
    ss->seq = m->header.seq;
    ss->masks++;
    ss->last = t;
    segmask_msg_free (&m);
    if (slow_ms)
      g_usleep (slow_ms * 1000);
  }
  segmask_sub_free (&s);

  g_hash_table_iter_init (&it, streams);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    StreamStats *ss = v;
    gdouble span = ss->last - ss->first;

    printf ("stream %s masks=%" G_GUINT64_FORMAT " missed=%" G_GUINT64_FORMAT
            " sessions=%u rate=%.2f first=%.3f last=%.3f\n",
        (gchar *) k, ss->masks, ss->missed, ss->sessions,
        span > 0 ? (ss->masks - 1) / span : 0.0, ss->first, ss->last);
  }
  fputs (events->str, stdout);
  printf ("total masks=%" G_GUINT64_FORMAT " status=%" G_GUINT64_FORMAT "\n",
      total, statuses);
  g_free (server_key_file);
  g_free (client_key_file);
  g_free (stream);
  g_free (status_stream);
  g_free (status_file);
  memset (csec, 0, sizeof (csec));
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && !strcmp (argv[1], "keygen"))
    return keygen (argv[2], argv[3]);
  if (argc >= 2 && !strcmp (argv[1], "sub"))
    return sub (argc - 1, argv + 1);
  fprintf (stderr, "usage: proxy-probe keygen DIR NAME | sub OPTIONS\n");
  return 64;
}
