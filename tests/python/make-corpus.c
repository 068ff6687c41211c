/* Writes the garbage corpus the Python client is checked against, with
 * libsegmask's verdict on each message: the same kinds of message as
 * tests/zmq/test-codec.c (valid ones of each encoding, each documented
 * rejection, 10,000 pure-noise, bit-flipped and truncated ones) plus status
 * and end-of-stream messages and their mutations.
 *
 * Header strings get every byte value in each of them: control bytes
 * (0x00-0x1F, 0x7F) must be rejected, everything else, invalid UTF-8
 * included, accepted.
 *
 * Usage: make-corpus FILE KEYFILE. FILE is a sequence of records,
 * little-endian:
 *   u32 n_frames, then per frame u32 length + bytes;
 *   u8 verdict (0 accepted, 1 rejected), u32 raw_len, raw_len decoded bytes
 *   (masks the C library accepted; 0 otherwise).
 * A record is what a subscriber receives; the verdict is segmask_message_parse
 * followed, for masks, by segmask_payload_decode (max_raw: the default).
 *
 * KEYFILE is the same for CURVE key files: bare Z85 lists and czmq
 * certificates, well-formed, broken in each documented way, and mutated,
 * each read as public and as secret key text by segmask_keyring_add_text
 * (origin "corpus"). Records:
 *   u8 kind (0 public, 1 secret), u32 length + text;
 *   u8 verdict, u32 length + error message (rejected) or 0;
 *   u32 n_keys, n_keys * 32 key bytes (accepted).
 *
 * make-corpus -p KIND PATH reads a file or directory with
 * segmask_keyring_add_path and prints "ok" and one Z85 key per line, or
 * "error: " and the message (for directory cases built by the test). */
#include <segmask.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static const char *const labels[] = {"background", "person", "cat"};
/* A label as a model file might carry it: the publisher sends ESC as '?'. */
static const char *const dirty_labels[] = {"background", "per\x1b[31mson",
    "c\x7f"
    "at"};
static const char *const *use_labels = labels;

typedef struct
{
  uint8_t topic[64];
  size_t tlen;
  uint8_t hdr[1024];
  size_t hlen;
  uint8_t pay[8192];
  size_t plen;
  int nframes;
} Msg;

static uint32_t rng = 0x1234567;

static uint32_t
rnd (void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void
put32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
make (segmask_codec *codec, Msg *m, segmask_msg_type type, segmask_encoding enc,
    segmask_kind kind, uint32_t w, uint32_t h, uint32_t stride)
{
  segmask_header hd;
  uint8_t raw[64 * 40];

  memset (&hd, 0, sizeof (hd));
  memset (m, 0, sizeof (*m));
  hd.type = type;
  hd.session = 0xdeadbeef;
  hd.seq = 42;
  hd.stream = "cam0";
  hd.model_name = "deeplab.onnx";
  hd.model_sha256 = "0123456789abcdef";
  hd.num_classes = 3;
  for (int i = 0; i < 3; i++)
    hd.labels[i] = use_labels[i];
  m->nframes = 3;
  if (type == SEGMASK_MSG_MASK) {
    hd.kind = kind;
    hd.encoding = enc;
    hd.width = w;
    hd.height = h;
    hd.stride = stride;
    hd.raw_len = stride * h;
    for (uint32_t y = 0; y < h; y++)
      for (uint32_t x = 0; x < stride; x++)
        raw[y * stride + x] = kind == SEGMASK_KIND_CLASSES
            ? (uint8_t) (((x / 17) + (y / 13)) % 3)
            : (uint8_t) (x * 5 + y);
    if (segmask_payload_encode (codec, enc, 3, raw, hd.raw_len, m->pay,
            sizeof (m->pay), &m->plen)
        != SEGMASK_OK)
      exit (1);
  } else if (type == SEGMASK_MSG_STATUS) {
    m->plen = (size_t) snprintf ((char *) m->pay, sizeof (m->pay),
        "fps=30.0\ninference_ms=9.9\ndrops=0\nmodel=deeplab.onnx\n");
  }
  hd.payload_len = (uint32_t) m->plen;
  if (segmask_header_encode (&hd, m->hdr, sizeof (m->hdr), &m->hlen)
      != SEGMASK_OK)
    exit (1);
  m->tlen = segmask_topic (type, "cam0", (char *) m->topic, sizeof (m->topic));
}

static void
write_frame (FILE *f, const uint8_t *p, size_t n)
{
  uint8_t len[4];

  put32 (len, (uint32_t) n);
  fwrite (len, 1, 4, f);
  fwrite (p, 1, n, f);
}

static unsigned counts[2];

static void
emit (FILE *f, segmask_codec *codec, const Msg *m)
{
  static uint8_t out[SEGMASK_MAX_DIM * 64];
  segmask_header h;
  const char *why = NULL;
  uint8_t b[4];
  int ok = 0;

  put32 (b, (uint32_t) m->nframes);
  fwrite (b, 1, 4, f);
  write_frame (f, m->topic, m->tlen);
  if (m->nframes > 1)
    write_frame (f, m->hdr, m->hlen);
  if (m->nframes > 2)
    write_frame (f, m->pay, m->plen);
  for (int i = 3; i < m->nframes; i++)
    write_frame (f, m->pay, m->plen);
  if (m->nframes == 3
      && segmask_message_parse (m->topic, m->tlen, m->hdr, m->hlen, m->plen, 0,
             &h, &why)
          == SEGMASK_OK) {
    ok = 1;
    if (h.type == SEGMASK_MSG_MASK)
      ok = h.raw_len <= sizeof (out)
          && segmask_payload_decode (codec, &h, m->pay, m->plen, out, &why)
              == SEGMASK_OK;
  }
  fputc (ok ? 0 : 1, f);
  put32 (b, ok && h.type == SEGMASK_MSG_MASK ? h.raw_len : 0);
  fwrite (b, 1, 4, f);
  if (ok && h.type == SEGMASK_MSG_MASK)
    fwrite (out, 1, h.raw_len, f);
  counts[ok ? 0 : 1]++;
}

/* ---- CURVE key files ---- */

/* Two key pairs (both keys of the first hold '#', which ZPL and a naive
 * comment stripper confuse) and a token of the Z85 alphabet whose groups
 * overflow 32 bits. */
#define PUB1 "Snt$BpffXFFeM$(g5Jha{3??2+v(#VKL{!q8V03p"
#define SEC1 "M%UZ2n>IqBjq..Y-dvvN*3KhLP:DS3IaQZJsZ#b="
#define PUB2 ".!1fT]oL}nsg4e6Kq9[JzT0hVw>*AzD<a&rX<F4O"
#define SEC2 "vghNtozi*sp0@$PY(^1espQWNtUmZXi#}dh1{AHK"
#define OVERFLOW "########################################"

static const char *const key_texts[] = {
    PUB1 "\n",
    PUB1,
    PUB1 ", " PUB2 "\n\t" SEC1 "\r\n",
    PUB1 "\n" PUB1 "\n",
    "#" PUB1 "\n",
    "# a comment\n" PUB1 "\n",
    PUB1 " # trailing\n",
    OVERFLOW "\n",
    PUB1 "x\n",
    "\xff" PUB1 "\n",
    "",
    "\n \t\r\n",
    ",",
    "#   ZeroMQ CURVE Secret Certificate\n#   Exchange securely, or use a "
    "secure mechanism to generate the key pair.\n\nmetadata\ncurve\n    "
    "public-key = \"" PUB1 "\"\n    secret-key = \"" SEC1 "\"\n",
    "#   ZeroMQ CURVE Public Certificate\n\nmetadata\n    name = "
    "\"segd\"\ncurve\n    public-key = \"" PUB2 "\"\n",
    "curve\n    public-key = \"" PUB1 "\"\n    secret-key = \"" SEC2 "\"\n",
    "curve\n    secret-key = \"" SEC2 "\"\n",
    "curve\n    public-key = '" PUB1 "'\n",
    "curve\n    public-key = " PUB2 "\n",
    "curve\n    public-key = " PUB1 "\n",
    "curve # the keys\n    public-key = \"" PUB2 "\"   # ours\n",
    "curve\r\n    public-key = \"" PUB2 "\"\r\n    secret-key = \"" SEC2
    "\"\r\n",
    "curve\n\tpublic-key = \"" PUB2 "\"\n",
    "curve\n  public-key = \"" PUB2 "\"\n",
    "curve\n        public-key = \"" PUB2 "\"\n",
    "metadata\n    curve\n        public-key = \"" PUB2 "\"\ncurve\n",
    "curve\n    public-key = \"" PUB2 "\"\n    public-key = \"" PUB1 "\"\n",
    "curve\n    public-key = \"" PUB2 "\n",
    "curve\n    public-key = \"" PUB2 "\" x\n",
    "curve\n    public-key = \"\"\n    secret-key =\n",
    "curve\n    = \"" PUB2 "\"\n",
    "curve\n    public-key\n        x = 1\n",
    "curvexxxxxxxxxxxxxxxx\n    public-key = \"" PUB2 "\"\ncurve\n",
    "curves\n    public-key = \"" PUB2 "\"\n",
    "metadata\n    public-key = \"" PUB2 "\"\n",
    "curve\n    public-key = \"" OVERFLOW "\"\n    secret-key = \"" SEC1
    "x\"\n",
};

static const char interesting[] = " \t\r\n#\"'=,x\xff"
                                  "0";

static void
put_blob (FILE *f, const void *p, size_t n)
{
  uint8_t b[4];

  put32 (b, (uint32_t) n);
  fwrite (b, 1, 4, f);
  fwrite (p, 1, n, f);
}

static void
emit_key (FILE *f, int kind, const char *text, size_t len)
{
  segmask_keyring *r = segmask_keyring_new ();
  char err[1024] = "";
  segmask_status st;
  uint8_t b[4];

  if (!r)
    exit (1);
  st = segmask_keyring_add_text (r,
      kind ? SEGMASK_KEY_SECRET : SEGMASK_KEY_PUBLIC, text, len, "corpus", err,
      sizeof (err));
  fputc (kind, f);
  put_blob (f, text, len);
  fputc (st == SEGMASK_OK ? 0 : 1, f);
  put_blob (f, err, st == SEGMASK_OK ? 0 : strlen (err));
  put32 (b, st == SEGMASK_OK ? (uint32_t) segmask_keyring_count (r) : 0);
  fwrite (b, 1, 4, f);
  for (size_t i = 0; st == SEGMASK_OK && i < segmask_keyring_count (r); i++)
    fwrite (segmask_keyring_get (r, i), 1, 32, f);
  segmask_keyring_free (&r);
  counts[st == SEGMASK_OK ? 0 : 1]++;
}

static void
key_corpus (FILE *f)
{
  size_t n = sizeof (key_texts) / sizeof (key_texts[0]);
  char t[512];

  for (size_t i = 0; i < n; i++) {
    size_t len = strlen (key_texts[i]);

    for (int kind = 0; kind <= 1; kind++) {
      emit_key (f, kind, key_texts[i], len);
      /* Mutations: a byte replaced (by one of the characters the formats
       * care about, or any byte), inserted, deleted; the text cut short. */
      for (int k = 0; k < 300; k++) {
        size_t l = len, at;
        int op = (int) (rnd () % 4);
        char c = rnd () & 1 ? interesting[rnd () % (sizeof (interesting) - 1)]
                            : (char) (1 + rnd () % 255);

        memcpy (t, key_texts[i], len);
        at = l ? rnd () % l : 0;
        if (op == 0 && l) {
          t[at] = c;
        } else if (op == 1) {
          memmove (t + at + 1, t + at, l - at);
          t[at] = c;
          l++;
        } else if (op == 2 && l) {
          memmove (t + at, t + at + 1, l - at - 1);
          l--;
        } else {
          l = at;
        }
        emit_key (f, kind, t, l);
      }
    }
  }
}

/* make-corpus -p KIND PATH: segmask_keyring_add_path's answer. */
static int
read_path (const char *kind, const char *path)
{
  segmask_keyring *r = segmask_keyring_new ();
  char err[1024] = "", z[41];
  segmask_status st;

  if (!r)
    return 70;
  st = segmask_keyring_add_path (r,
      strcmp (kind, "secret") == 0 ? SEGMASK_KEY_SECRET : SEGMASK_KEY_PUBLIC,
      path, err, sizeof (err));
  if (st != SEGMASK_OK) {
    printf ("error: %s\n", err);
  } else {
    printf ("ok\n");
    for (size_t i = 0; i < segmask_keyring_count (r); i++)
      if (zmq_z85_encode (z, segmask_keyring_get (r, i), 32))
        printf ("%s\n", z);
  }
  segmask_keyring_free (&r);
  return 0;
}

int
main (int argc, char **argv)
{
  segmask_codec *codec = segmask_codec_new ();
  FILE *f;
  Msg base[7], m;
  int nbase = 0;

  if (argc == 4 && strcmp (argv[1], "-p") == 0) {
    segmask_codec_free (&codec);
    return read_path (argv[2], argv[3]);
  }
  if (argc != 3 || !codec || !(f = fopen (argv[1], "wb"))) {
    fprintf (stderr, "usage: make-corpus FILE KEYFILE | -p KIND PATH\n");
    return 64;
  }
  for (int e = 0; e <= 2; e++)
    make (codec, &base[nbase++], SEGMASK_MSG_MASK, e, SEGMASK_KIND_CLASSES, 40,
        30, 40);
  make (codec, &base[nbase++], SEGMASK_MSG_MASK, SEGMASK_ENC_RLE,
      SEGMASK_KIND_PROBABILITY, 50, 20, 64);
  make (codec, &base[nbase++], SEGMASK_MSG_MASK, SEGMASK_ENC_ZSTD,
      SEGMASK_KIND_CLASSES, 37, 11, 40);
  make (codec, &base[nbase++], SEGMASK_MSG_STATUS, 0, 0, 0, 0, 0);
  make (codec, &base[nbase++], SEGMASK_MSG_EOS, 0, 0, 0, 0, 0);
  for (int i = 0; i < nbase; i++)
    emit (f, codec, &base[i]);

  /* The documented rejections, as test-codec.c makes them. */
  m = base[1];
  for (size_t n = 0; n < m.hlen; n += 7) {
    Msg t = m;
    t.hlen = n;
    emit (f, codec, &t);
  }
#define MUT(base_i, stmt) \
  do {                    \
    m = base[base_i];     \
    stmt;                 \
    emit (f, codec, &m);  \
  } while (0)
  MUT (1, m.hdr[0] = 'X');
  MUT (1, m.hdr[4] = 2);
  MUT (1, put32 (m.hdr + 96, 20000));
  MUT (1, put32 (m.hdr + 104, 39));
  MUT (1, put32 (m.hdr + 108, 40 * 31));
  MUT (1, m.hdr[14] = 9);
  MUT (1, m.hdr[12] = 0);
  MUT (1, m.hdr[13] = 3);
  MUT (1, m.hdr[13] = 0);
  MUT (1, m.hdr[m.hlen - 1] = 'x');
  MUT (1, m.hdr[20] = 200);
  MUT (1, m.hdr[21] = 2);
  MUT (1, m.hdr[6] = 119);
  MUT (1, m.hdr[6] = 255);
  MUT (1, m.hdr[120] = 0);
  MUT (1, m.plen--);
  MUT (1, put32 (m.hdr + 112, (uint32_t) m.plen - 2); m.plen -= 2);
  MUT (1, m.pay[1] = 0);
  MUT (1, m.pay[1] = 0xff; m.pay[2] = 0x7f);
  MUT (1, m.pay[0] = 5);
  MUT (1, m.pay[1] = 0x80; m.pay[2] = 0x80; m.pay[3] = 0x80; m.pay[4] = 0x80;
       m.pay[5] = 0x80; m.pay[6] = 0x01);
  MUT (1, m.topic[5] = 'x');
  MUT (1, m.tlen--);
  MUT (1, m.nframes = 2);
  MUT (1, m.nframes = 4);
  MUT (1, m.nframes = 1);
  MUT (2, m.pay[m.plen - 1] ^= 0x55; m.pay[m.plen / 2] ^= 0x55);
  MUT (2, put32 (m.hdr + 112, (uint32_t) m.plen + 3);
       memset (m.pay + m.plen, 0, 3); m.plen += 3);
  MUT (2, m.pay[5] ^= 0x20);
  MUT (0, put32 (m.hdr + 100, 300); put32 (m.hdr + 108, 40 * 300));
  MUT (0, m.pay[7] = 3);
  MUT (5, m.hdr[13] = 1);
  MUT (5, put32 (m.hdr + 96, 1));
  MUT (5, m.hdr[14] = 1);
  MUT (5, memcpy (m.topic, "mask/cam0", 9); m.tlen = 9);
  MUT (6, m.pay[0] = 1; put32 (m.hdr + 112, 1); m.plen = 1);
  MUT (6, memcpy (m.topic, "status/cam0", 11); m.tlen = 11);
  MUT (6, m.hdr[12] = 1);

  /* Every byte value in each header string of a mask (stream, model name,
   * sha256, a label) and in a status message's stream; the topic follows
   * the stream so that the byte is the only difference. */
  for (int bi = 1; bi <= 5; bi += 4) {
    for (int which = 0; which < 4; which++) {
      for (int v = 0; v < 256; v++) {
        size_t pos = 120;

        m = base[bi];
        for (int k = 0; k < which; k++)
          pos += m.hdr[pos] + 2u;
        m.hdr[pos + 2] = (uint8_t) v;
        if (which == 0)
          m.topic[(bi == 5 ? 7 : 5) + 1] = (uint8_t) v;
        emit (f, codec, &m);
      }
      if (bi == 5)
        break;
    }
  }
  /* An encoded UTF-16 surrogate (invalid UTF-8) in the stream name. */
  m = base[1];
  memcpy (m.hdr + 121, "\xed\xa0\x80", 3);
  memcpy (m.topic + 5, "\xed\xa0\x80", 3);
  emit (f, codec, &m);
  /* Labels with control bytes as a model file has them: sent as '?'. */
  use_labels = dirty_labels;
  make (codec, &m, SEGMASK_MSG_MASK, SEGMASK_ENC_RLE, SEGMASK_KIND_CLASSES, 40,
      30, 40);
  use_labels = labels;
  emit (f, codec, &m);

  /* 10,000 random ones: noise, flipped bytes, cut short. */
  for (int i = 0; i < 10000; i++) {
    int kind = (i / nbase) % 3;

    m = base[i % nbase];
    if (kind == 0) {
      m.hlen = rnd () % 400;
      for (size_t k = 0; k < m.hlen; k++)
        m.hdr[k] = (uint8_t) rnd ();
      if (i & 1)
        memcpy (m.hdr, "SGMK\x01", m.hlen < 5 ? m.hlen : 5);
      m.plen = rnd () % 200;
      for (size_t k = 0; k < m.plen; k++)
        m.pay[k] = (uint8_t) rnd ();
    } else if (kind == 1) {
      int flips = 1 + rnd () % 4;

      for (int k = 0; k < flips; k++) {
        if (rnd () & 1)
          m.hdr[rnd () % m.hlen] ^= (uint8_t) (1 + rnd () % 255);
        else if (m.plen)
          m.pay[rnd () % m.plen] ^= (uint8_t) (1 + rnd () % 255);
      }
    } else if (rnd () & 1) {
      m.hlen = rnd () % m.hlen;
    } else {
      m.plen = rnd () % (m.plen ? m.plen : 1);
    }
    emit (f, codec, &m);
  }
  fclose (f);
  segmask_codec_free (&codec);
  printf ("make-corpus: %u accepted, %u rejected\n", counts[0], counts[1]);
  counts[0] = counts[1] = 0;
  if (!(f = fopen (argv[2], "wb")))
    return 70;
  key_corpus (f);
  fclose (f);
  printf ("make-corpus: key files: %u accepted, %u rejected\n", counts[0],
      counts[1]);
  return 0;
}
