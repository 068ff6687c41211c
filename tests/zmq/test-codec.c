/* Unit tests of the segmask codec: header and payload round trips for
 * every encoding, RLE byte for byte against a plain encoder, each
 * documented rejection, and 10,000 random and
 * mutated messages through parse + decode (no crash; a message that
 * passes must decode to exactly raw_len bytes). */
#include "../check.h"

#include <segmask.h>
#include <stdlib.h>
#include <string.h>

static const char *const labels[] = {"background", "person", "cat"};

static void
fill_header (segmask_header *h, uint32_t w, uint32_t hh, uint32_t stride,
    segmask_encoding enc)
{
  memset (h, 0, sizeof (*h));
  h->type = SEGMASK_MSG_MASK;
  h->kind = SEGMASK_KIND_CLASSES;
  h->encoding = enc;
  h->session = 0xdeadbeef;
  h->seq = 42;
  h->capture_realtime_ns = 1700000000123456789ull;
  h->capture_running_ns = 5 * 1000000000ull;
  h->publish_realtime_ns = 1700000000223456789ull;
  h->inference_ns = 12345678;
  h->mask_age_ns = 33000000;
  h->mask_age_frames = 1;
  h->drops = 7;
  h->frame_width = 640;
  h->frame_height = 480;
  h->width = w;
  h->height = hh;
  h->stride = stride;
  h->raw_len = stride * hh;
  h->num_classes = 3;
  for (int i = 0; i < 3; i++)
    h->labels[i] = labels[i];
  h->stream = "cam0";
  h->model_name = "deeplab.onnx";
  h->model_sha256 = "0123456789abcdef";
}

/* A blocky class map (like a real one: long runs) or noise. */
static void
fill_mask (uint8_t *m, uint32_t w, uint32_t h, uint32_t stride, int noise,
    uint32_t *rng)
{
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < stride; x++)
      m[y * stride + x] =
          noise ? test_rand (rng) % 3 : (uint8_t) (((x / 17) + (y / 13)) % 3);
}

static size_t
encode_message (segmask_codec *codec, segmask_header *h, const uint8_t *raw,
    uint8_t *hdr, size_t hcap, size_t *hlen, uint8_t *pay, size_t pcap)
{
  size_t plen;

  CHECK (segmask_payload_encode (codec, h->encoding, 3, raw, h->raw_len, pay,
             pcap, &plen)
          == SEGMASK_OK,
      "encode payload");
  h->payload_len = (uint32_t) plen;
  CHECK (segmask_header_encode (h, hdr, hcap, hlen) == SEGMASK_OK,
      "encode header");
  return plen;
}

static void
test_round_trip (segmask_codec *codec, uint32_t *rng)
{
  static const uint32_t sizes[][3] = {
      {1, 1, 1},
      {7, 3, 8},
      {256, 256, 256},
      {641, 479, 644},
      {64, 2, 64},
  };

  for (size_t s = 0; s < sizeof (sizes) / sizeof (sizes[0]); s++) {
    for (int enc = 0; enc <= 2; enc++) {
      for (int noise = 0; noise < 2; noise++) {
        uint32_t w = sizes[s][0], hh = sizes[s][1], st = sizes[s][2];
        segmask_header h, d;
        uint8_t *raw = malloc (st * hh), *out = malloc (st * hh);
        size_t pcap = segmask_payload_bound (enc, st * hh), hlen, plen;
        uint8_t *pay = malloc (pcap), hdr[1024];
        const char *why = NULL;
        char topic[64];
        size_t tlen;

        fill_header (&h, w, hh, st, enc);
        fill_mask (raw, w, hh, st, noise, rng);
        plen = encode_message (codec, &h, raw, hdr, sizeof (hdr), &hlen, pay,
            pcap);
        CHECK (hlen == segmask_header_size (&h), "size %zu", hlen);
        tlen = segmask_topic (SEGMASK_MSG_MASK, "cam0", topic, sizeof (topic));
        CHECK (tlen == 9 && strcmp (topic, "mask/cam0") == 0, "topic %s",
            topic);
        CHECK (segmask_message_parse ((uint8_t *) topic, tlen, hdr, hlen, plen,
                   0, &d, &why)
                == SEGMASK_OK,
            "parse: %s", why);
        CHECK (d.seq == 42 && d.session == 0xdeadbeef && d.width == w
                && d.height == hh && d.stride == st && d.drops == 7
                && d.capture_realtime_ns == h.capture_realtime_ns
                && d.capture_running_ns == h.capture_running_ns
                && d.inference_ns == h.inference_ns && d.frame_width == 640
                && d.num_classes == 3 && strcmp (d.labels[1], "person") == 0
                && strcmp (d.stream, "cam0") == 0
                && strcmp (d.model_sha256, "0123456789abcdef") == 0
                && d.encoding == (segmask_encoding) enc,
            "header fields differ");
        memset (out, 0xee, st * hh);
        CHECK (segmask_payload_decode (codec, &d, pay, plen, out, &why)
                == SEGMASK_OK,
            "decode %s: %s", segmask_encoding_name (enc), why);
        CHECK (memcmp (out, raw, st * hh) == 0, "payload differs (%s)",
            segmask_encoding_name (enc));
        if (enc == SEGMASK_ENC_RLE && !noise && w >= 64)
          CHECK (plen * 5 < st * hh, "RLE of a blocky map too big: %zu", plen);
        free (raw);
        free (out);
        free (pay);
      }
    }
  }
}

typedef struct
{
  uint8_t hdr[1024];
  size_t hlen;
  uint8_t pay[8192];
  size_t plen;
  segmask_header h;
} Msg;

static void
make_valid (segmask_codec *codec, Msg *m, segmask_encoding enc)
{
  uint8_t raw[40 * 30];
  uint32_t rng = 1;

  fill_header (&m->h, 40, 30, 40, enc);
  fill_mask (raw, 40, 30, 40, 0, &rng);
  m->plen = encode_message (codec, &m->h, raw, m->hdr, sizeof (m->hdr),
      &m->hlen, m->pay, sizeof (m->pay));
}

static segmask_status
check_msg (segmask_codec *codec, const Msg *m, const char **why)
{
  static const uint8_t topic[] = "mask/cam0";
  segmask_header d;
  uint8_t out[SEGMASK_MAX_DIM];
  segmask_status st;

  st =
      segmask_message_parse (topic, 9, m->hdr, m->hlen, m->plen, 4096, &d, why);
  if (st != SEGMASK_OK)
    return st;
  if (d.raw_len > sizeof (out))
    return SEGMASK_ERR_NOSPACE;
  return segmask_payload_decode (codec, &d, m->pay, m->plen, out, why);
}

static void
expect_reject (segmask_codec *codec, const Msg *m, const char *what)
{
  const char *why = NULL;

  CHECK (check_msg (codec, m, &why) == SEGMASK_ERR_INVALID && why,
      "%s was accepted", what);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, 4); /* the test host is little-endian */
}

static void
test_rejections (segmask_codec *codec)
{
  Msg v, m;
  const char *why;
  segmask_header d;

  make_valid (codec, &v, SEGMASK_ENC_RLE);
  CHECK (check_msg (codec, &v, &why) == SEGMASK_OK, "valid: %s", why);

  for (size_t n = 0; n < v.hlen; n++) {
    m = v;
    m.hlen = n;
    expect_reject (codec, &m, "truncated header");
  }
  m = v;
  m.hdr[0] = 'X';
  expect_reject (codec, &m, "bad magic");
  m = v;
  m.hdr[4] = 2;
  expect_reject (codec, &m, "version 2");
  CHECK (segmask_header_decode (m.hdr, m.hlen, &d, &why) != SEGMASK_OK
          && strstr (why, "version"),
      "version reason: %s", why);
  m = v;
  put32 (m.hdr + 96, 20000); /* width beyond SEGMASK_MAX_DIM */
  expect_reject (codec, &m, "oversized width");
  m = v;
  put32 (m.hdr + 104, 39); /* stride < width */
  expect_reject (codec, &m, "short stride");
  m = v;
  put32 (m.hdr + 108, 40 * 31); /* raw_len mismatch */
  expect_reject (codec, &m, "raw length mismatch");
  m = v;
  m.hdr[14] = 9;
  expect_reject (codec, &m, "unknown encoding");
  m = v;
  m.hdr[12] = 0;
  expect_reject (codec, &m, "unknown type");
  m = v;
  m.hdr[m.hlen - 1] = 'x'; /* last label loses its NUL */
  expect_reject (codec, &m, "unterminated label");
  m = v;
  m.hdr[20] = 200; /* more labels than bytes */
  expect_reject (codec, &m, "too many labels");
  m = v;
  m.plen--;
  expect_reject (codec, &m, "payload length mismatch");
  m = v;
  put32 (m.hdr + 112, (uint32_t) m.plen - 2);
  m.plen -= 2;
  expect_reject (codec, &m, "truncated runs");
  m = v;
  m.pay[1] = 0; /* first run of length 0 */
  expect_reject (codec, &m, "empty run");
  m = v;
  m.pay[1] = 0xff; /* run longer than the mask */
  m.pay[2] = 0x7f;
  expect_reject (codec, &m, "overlong run");
  m = v;
  m.pay[0] = 5; /* class 5 of 3 */
  expect_reject (codec, &m, "class out of range");
  make_valid (codec, &v, SEGMASK_ENC_ZSTD);
  m = v;
  m.pay[m.plen - 1] ^= 0x55;
  m.pay[m.plen / 2] ^= 0x55;
  {
    segmask_status st = check_msg (codec, &m, &why);

    CHECK (st == SEGMASK_ERR_INVALID || st == SEGMASK_OK, "zstd corrupt");
  }
  m = v;
  put32 (m.hdr + 112, (uint32_t) m.plen + 3);
  memset (m.pay + m.plen, 0, 3);
  m.plen += 3;
  expect_reject (codec, &m, "zstd trailing bytes");
  make_valid (codec, &v, SEGMASK_ENC_RAW);
  m = v;
  put32 (m.hdr + 100, 300);
  put32 (m.hdr + 108, 40 * 300);
  expect_reject (codec, &m, "raw payload too short / over max_raw");
  {
    static const uint8_t wrong[] = "mask/cam1";

    CHECK (segmask_message_parse (wrong, 9, v.hdr, v.hlen, v.plen, 0, &d, &why)
            == SEGMASK_ERR_INVALID,
        "topic mismatch accepted");
  }
}

/* 10,000 messages: pure noise, valid ones with random bytes flipped, and
 * valid ones cut short. Nothing may crash; what passes parse must decode
 * into exactly raw_len bytes or be rejected. Counts are checked. */
static void
test_random (segmask_codec *codec, uint32_t *rng)
{
  unsigned ok = 0, bad = 0, noise_bad = 0;
  Msg base[3];

  for (int e = 0; e <= 2; e++)
    make_valid (codec, &base[e], (segmask_encoding) e);
  for (int i = 0; i < 10000; i++) {
    Msg m = base[i % 3];
    const char *why;
    int kind = (i / 3) % 3;

    if (kind == 0) {
      m.hlen = test_rand (rng) % 400;
      for (size_t k = 0; k < m.hlen; k++)
        m.hdr[k] = (uint8_t) test_rand (rng);
      m.hdr[0] = 'X';
      m.plen = test_rand (rng) % 200;
      for (size_t k = 0; k < m.plen; k++)
        m.pay[k] = (uint8_t) test_rand (rng);
    } else if (kind == 1) {
      int flips = 1 + test_rand (rng) % 4;

      for (int f = 0; f < flips; f++) {
        if (test_rand (rng) & 1)
          m.hdr[test_rand (rng) % m.hlen] ^=
              (uint8_t) (1 + test_rand (rng) % 255);
        else if (m.plen)
          m.pay[test_rand (rng) % m.plen] ^=
              (uint8_t) (1 + test_rand (rng) % 255);
      }
    } else {
      if (test_rand (rng) & 1)
        m.hlen = test_rand (rng) % m.hlen;
      else
        m.plen = test_rand (rng) % (m.plen ? m.plen : 1);
    }
    if (check_msg (codec, &m, &why) == SEGMASK_OK) {
      ok++;
    } else {
      bad++;
      if (kind == 0)
        noise_bad++;
    }
  }
  CHECK (ok + bad == 10000, "lost messages");
  CHECK (noise_bad == 3334, "noise accepted: %u rejected", noise_bad);
  CHECK (bad >= 3334 + 3333, "cut messages accepted (bad=%u)", bad);
  printf ("random: %u accepted (mutations in ignored bytes), %u rejected\n", ok,
      bad);
}
/* The documented RLE, a byte at a time: (value, LEB128 length) for each
 * maximal run. */
static size_t
plain_rle (const uint8_t *raw, size_t len, uint8_t *dst)
{
  size_t o = 0;

  for (size_t i = 0; i < len;) {
    size_t run = 1;

    while (i + run < len && raw[i + run] == raw[i])
      run++;
    dst[o++] = raw[i];
    for (size_t n = run;; n >>= 7) {
      dst[o++] = (uint8_t) ((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      if (n <= 0x7f)
        break;
    }
    i += run;
  }
  return o;
}

/* The encoder scans runs a word at a time: its bytes must be the plain
 * encoding's, for runs of every length up to past a word, starting and
 * ending at every offset, and a last run that ends with the buffer. */
static void
test_rle_plain (segmask_codec *codec, uint32_t *rng)
{
  enum
  {
    N = 3000
  };
  static uint8_t raw[N], want[2 * N], got[2 * N];
  size_t glen;

  for (int k = 0; k < 200; k++) {
    size_t len = 1 + test_rand (rng) % N, wlen;
    int maxrun = 1 + k % 40;

    for (size_t i = 0; i < len;) {
      size_t run = 1 + test_rand (rng) % (uint32_t) maxrun;
      uint8_t v = (uint8_t) (test_rand (rng) % 3 * 127);

      for (size_t j = 0; j < run && i < len; j++)
        raw[i++] = v;
    }
    wlen = plain_rle (raw, len, want);
    CHECK (segmask_payload_encode (codec, SEGMASK_ENC_RLE, 0, raw, len, got,
               sizeof got, &glen)
            == SEGMASK_OK,
        "encode %zu bytes", len);
    CHECK (glen == wlen && memcmp (got, want, wlen) == 0,
        "RLE of %zu bytes (runs up to %d) differs from the plain encoding", len,
        maxrun);
  }
  /* One run of the whole buffer: a length of two LEB128 bytes. */
  memset (raw, 255, N);
  CHECK (segmask_payload_encode (codec, SEGMASK_ENC_RLE, 0, raw, N, got,
             sizeof got, &glen)
          == SEGMASK_OK,
      "encode");
  CHECK (glen == plain_rle (raw, N, want) && memcmp (got, want, glen) == 0
          && glen == 3,
      "one run: %zu bytes", glen);
}

int
main (void)
{
  segmask_codec *codec = segmask_codec_new ();
  uint32_t rng = 0x1234567;

  CHECK (codec, "codec");
  test_round_trip (codec, &rng);
  test_rle_plain (codec, &rng);
  test_rejections (codec);
  test_random (codec, &rng);
  segmask_codec_free (&codec);
  CHECK (codec == NULL, "free NULLs");
  segmask_codec_free (&codec);
  printf ("codec: ok\n");
  return 0;
}
