/* The CURVE key/certificate parser and the publisher's subscription
 * tracker, driven directly with the attack inputs of the Trust issue. */
#include "../check.h"

#include <pub-internal.h>
#include <segmask.h>
#include <string.h>
#include <zmq.h>

static segmask_status
parse (segmask_keyring *r, segmask_key_kind kind, const char *text, char *err)
{
  return segmask_keyring_add_text (r, kind, text, strlen (text), "f", err, 256);
}

static void
test_parser (void)
{
  char pub[41], sec[41], pub2[41], sec2[41], err[256], text[1024];
  segmask_keyring *r = segmask_keyring_new ();

  CHECK (zmq_curve_keypair (pub, sec) == 0
          && zmq_curve_keypair (pub2, sec2) == 0,
      "keypair");
  /* Bare lists: every token a key; '#' is a Z85 character, not a comment. */
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, "#this-is-not-a-valid-key", err)
              == SEGMASK_ERR_INVALID
          && strstr (err, "f:1:"),
      "%s", err);
  snprintf (text, sizeof (text), "%s\n\n  %s,\n", pub, pub2);
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, text, err) == SEGMASK_OK, "%s", err);
  CHECK (segmask_keyring_count (r) == 2, "count");
  snprintf (text, sizeof (text), "%s\n# a comment\n", pub);
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, text, err) == SEGMASK_ERR_INVALID
          && strstr (err, "f:2:"),
      "comment in a list: %s", err);
  CHECK (parse (r, SEGMASK_KEY_PUBLIC,
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             err)
          == SEGMASK_ERR_INVALID,
      "hex accepted");
  /* A secret file holds one key. */
  snprintf (text, sizeof (text), "%s %s", sec, sec2);
  CHECK (parse (r, SEGMASK_KEY_SECRET, text, err) == SEGMASK_ERR_INVALID,
      "two secrets");
  segmask_keyring_free (&r);

  /* czmq certificates: take secret-key, check public-key matches. */
  r = segmask_keyring_new ();
  snprintf (text, sizeof (text),
      "#   ZeroMQ CURVE **Secret** Certificate\n"
      "metadata\n    name = \"x # y\"\ncurve\n    public-key = \"%s\"\n"
      "    secret-key = \"%s\"   # trailing comment\n",
      pub, sec);
  CHECK (parse (r, SEGMASK_KEY_SECRET, text, err) == SEGMASK_OK, "%s", err);
  {
    uint8_t bin[32];

    CHECK (zmq_z85_decode (bin, sec)
            && memcmp (segmask_keyring_get (r, 0), bin, 32) == 0,
        "secret");
  }
  snprintf (text, sizeof (text),
      "curve\n    public-key = \"%s\"\n"
      "    secret-key = \"%s\"\n",
      pub2, sec);
  CHECK (parse (r, SEGMASK_KEY_SECRET, text, err) == SEGMASK_ERR_INVALID
          && strstr (err, "does not belong"),
      "mismatched pair: %s", err);
  /* The secret certificate where the public one belongs is refused. */
  snprintf (text, sizeof (text),
      "curve\n    public-key = \"%s\"\n"
      "    secret-key = \"%s\"\n",
      pub, sec);
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, text, err) == SEGMASK_ERR_INVALID
          && strstr (err, "f:3:") && strstr (err, "secret key where a public"),
      "secret cert as public: %s", err);
  snprintf (text, sizeof (text), "curve\n    public-key = \"%s\"\n", pub);
  CHECK (parse (r, SEGMASK_KEY_SECRET, text, err) == SEGMASK_ERR_INVALID
          && strstr (err, "secret-key"),
      "public cert as secret: %s", err);
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, text, err) == SEGMASK_OK, "%s", err);
  snprintf (text, sizeof (text), "curve\n    public-key = %s\n", pub);
  if (strchr (pub, '#'))
    CHECK (parse (r, SEGMASK_KEY_PUBLIC, text, err) == SEGMASK_ERR_INVALID,
        "unquoted key with '#' accepted");
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, "curve\n  public-key = \"x\"\n", err)
              == SEGMASK_ERR_INVALID
          && strstr (err, "f:2:"),
      "indent: %s", err);
  CHECK (parse (r, SEGMASK_KEY_PUBLIC, "curve\n    public-key = \"abc\n", err)
          == SEGMASK_ERR_INVALID,
      "unterminated");
  segmask_keyring_free (&r);
  printf ("key parser: ok\n");
}

/* One XPUB notification: `sub` 1/0, then the prefix. */
static unsigned
frame (segmask_track *t, uint64_t conn, int sub, const char *prefix)
{
  uint8_t b[300];
  size_t n = strlen (prefix);

  b[0] = (uint8_t) sub;
  memcpy (b + 1, prefix, n);
  return segmask_track_frame (t, conn, b, n + 1) | segmask_track_flush (t);
}

static void
test_tracker (void)
{
  segmask_track *t = segmask_track_new ("mask/cam0", "status/cam0");
  unsigned f;

  CHECK (t, "new");
  f = frame (t, 0, 1, "mask/cam0");
  f = frame (t, 1, 1, "mask/cam0");
  CHECK ((f & SEGMASK_TRACK_REPLAY) && segmask_track_subscribers (t) == 1,
      "first subscriber");
  /* Spoofed unsubscribes from connection 2, which holds nothing. */
  for (int i = 0; i < 100; i++)
    frame (t, 2, 0, "mask/cam0");
  frame (t, 2, 0, "mask/");
  frame (t, 2, 0, "");
  CHECK (segmask_track_subscribers (t) == 1, "spoofed: %d",
      segmask_track_subscribers (t));
  /* Duplicate subscribes: no new subscriber, no replay. */
  f = frame (t, 1, 1, "mask/cam0");
  CHECK (!(f & SEGMASK_TRACK_REPLAY), "duplicate replays");
  frame (t, 2, 1, "mask/cam0");
  frame (t, 3, 1, "mask/cam0");
  frame (t, 3, 1, "status/cam0");
  CHECK (segmask_track_subscribers (t) == 3, "three: %d",
      segmask_track_subscribers (t));
  /* 2 departs: libzmq's metadata-less unsubscription. */
  frame (t, 0, 0, "mask/cam0");
  CHECK (segmask_track_subscribers (t) == 2, "after departure: %d",
      segmask_track_subscribers (t));
  /* It may have taken 1 for 2 (same set); 1 speaking again fixes it. */
  frame (t, 1, 0, "mask/cam0");
  CHECK (segmask_track_subscribers (t) == 1, "after 1 left: %d",
      segmask_track_subscribers (t));
  /* 3 departs: both its topics come in one burst. */
  segmask_track_frame (t, 0, (const uint8_t *) "\0mask/cam0", 10);
  segmask_track_frame (t, 0, (const uint8_t *) "\0status/cam0", 12);
  segmask_track_flush (t);
  CHECK (segmask_track_subscribers (t) == 0, "all gone: %d",
      segmask_track_subscribers (t));
  CHECK (segmask_track_parse_user_id ("segd-17") == 17
          && segmask_track_parse_user_id ("segd-") == 0
          && segmask_track_parse_user_id ("x-1") == 0,
      "user ids");
  segmask_track_free (&t);
  printf ("subscription tracker: ok\n");
}

static void
test_zap (void)
{
  char pub[41], sec[41];
  uint8_t key[32], other[32] = {1};
  segmask_keyring *r = segmask_keyring_new (), *none = segmask_keyring_new ();
  segmask_frame f[7] = {
      {(const uint8_t *) "1.0", 3},
      {(const uint8_t *) "7", 1},
      {(const uint8_t *) "segd", 4},
      {(const uint8_t *) "", 0},
      {(const uint8_t *) "", 0},
      {(const uint8_t *) "CURVE", 5},
      {key, 32},
  };
  segmask_zap_reply rep;

  CHECK (zmq_curve_keypair (pub, sec) == 0 && zmq_z85_decode (key, pub), "key");
  CHECK (segmask_keyring_add_text (r, SEGMASK_KEY_PUBLIC, pub, 40, "x", NULL, 0)
          == SEGMASK_OK,
      "ring");
  CHECK (segmask_zap_decide (f, 7, 1, r, 5, &rep) && !strcmp (rep.code, "200")
          && !strcmp (rep.user_id, "segd-5"),
      "allowed key");
  CHECK (!segmask_zap_decide (f, 7, 1, none, 5, &rep), "empty list admits");
  f[6].data = other;
  CHECK (!segmask_zap_decide (f, 7, 1, r, 5, &rep), "other key admitted");
  CHECK (!segmask_zap_decide (f, 3, 1, NULL, 5, &rep), "short request");
  f[5] = (segmask_frame){(const uint8_t *) "NULL", 4};
  CHECK (!segmask_zap_decide (f, 6, 1, NULL, 5, &rep), "NULL on CURVE");
  CHECK (segmask_zap_decide (f, 6, 0, NULL, 5, &rep), "NULL on plain");
  /* Found by fuzz-segmask-pub: a set allow-list means listed keys only. */
  CHECK (!segmask_zap_decide (f, 6, 0, none, 5, &rep), "NULL with a list");
  segmask_keyring_free (&r);
  segmask_keyring_free (&none);
  printf ("ZAP decisions: ok\n");
}

/* Header strings: control bytes are refused on decode, sent as '?'. */
static void
test_control_bytes (void)
{
  segmask_header h, d;
  uint8_t buf[1024];
  size_t len;
  const char *why = NULL;

  memset (&h, 0, sizeof (h));
  h.type = SEGMASK_MSG_STATUS;
  h.stream = "cam\x1b[2J";
  h.model_name = "m";
  CHECK (segmask_header_encode (&h, buf, sizeof (buf), &len) == SEGMASK_OK,
      "encode");
  CHECK (memchr (buf, 0x1b, len) == NULL, "ESC sent");
  CHECK (segmask_header_decode (buf, len, &d, &why) == SEGMASK_OK
          && strcmp (d.stream, "cam?[2J") == 0,
      "decode: %s", why);
  /* A publisher that sends it anyway is rejected. */
  buf[SEGMASK_FIXED_LEN + 4] = 0x1b;
  CHECK (segmask_header_decode (buf, len, &d, &why) == SEGMASK_ERR_INVALID,
      "ESC in a stream name accepted");
  {
    char out[64];

    CHECK (!strcmp (segmask_printable ("a\x1b\x9b\\z", out, sizeof (out)),
               "a\\x1b\\x9b\\x5cz"),
        "printable: %s", out);
  }
  printf ("control bytes in header strings: ok\n");
}

int
main (void)
{
  test_control_bytes ();
  test_parser ();
  test_tracker ();
  test_zap ();
  return 0;
}
