/* The segd mask protocol codec: the fixed little-endian header of
 * docs/protocol.md and the raw, run-length and zstd payloads. Shared by
 * the GStreamer elements, the subscriber library and the fuzz target, so
 * there is exactly one parser of untrusted bytes; it checks every length
 * against the bytes actually present before reading. */
#include "segmask.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

struct segmask_codec
{
  ZSTD_CCtx *cctx;
  ZSTD_DCtx *dctx;
};

/* Field offsets of the 1.0 fixed part. */
enum
{
  OFF_MAGIC = 0,
  OFF_MAJOR = 4,
  OFF_MINOR = 5,
  OFF_FIXED_LEN = 6,
  OFF_HEADER_LEN = 8,
  OFF_TYPE = 12,
  OFF_KIND = 13,
  OFF_ENCODING = 14,
  OFF_FLAGS = 15,
  OFF_SESSION = 16,
  OFF_NUM_CLASSES = 20,
  OFF_SEQ = 24,
  OFF_CAPTURE_REALTIME = 32,
  OFF_CAPTURE_RUNNING = 40,
  OFF_PUBLISH_REALTIME = 48,
  OFF_INFERENCE = 56,
  OFF_AGE = 64,
  OFF_AGE_FRAMES = 72,
  OFF_DROPS = 80,
  OFF_FRAME_WIDTH = 88,
  OFF_FRAME_HEIGHT = 92,
  OFF_WIDTH = 96,
  OFF_HEIGHT = 100,
  OFF_STRIDE = 104,
  OFF_RAW_LEN = 108,
  OFF_PAYLOAD_LEN = 112,
};

/* Status payloads are short key=value texts. */
#define MAX_STATUS_PAYLOAD 65536

static void
put_u16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
}

static void
put_u32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
put_u64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint16_t
get_u16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
      | ((uint32_t) p[3] << 24);
}

static uint64_t
get_u64 (const uint8_t *p)
{
  uint64_t v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static size_t
str_len (const char *s)
{
  return s ? strlen (s) : 0;
}

size_t
segmask_header_size (const segmask_header *h)
{
  size_t size = SEGMASK_FIXED_LEN;
  const char *fixed[3];

  if (!h || !h->stream || !h->stream[0] || h->num_classes > SEGMASK_MAX_CLASSES)
    return 0;
  fixed[0] = h->stream;
  fixed[1] = h->model_name;
  fixed[2] = h->model_sha256;
  for (int i = 0; i < 3; i++) {
    if (str_len (fixed[i]) > SEGMASK_MAX_STRING)
      return 0;
    size += 2 + str_len (fixed[i]);
  }
  for (unsigned i = 0; i < h->num_classes; i++) {
    if (str_len (h->labels[i]) > SEGMASK_MAX_STRING)
      return 0;
    size += 2 + str_len (h->labels[i]);
  }
  return size;
}

/* C0 controls and DEL, which readers reject in header strings. */
static int
is_control (uint8_t c)
{
  return c < 0x20 || c == 0x7f;
}

/* Labels and model names come from model files we do not control; a
 * control byte there would make every reader reject every mask, so it is
 * sent as '?' instead. */
static uint8_t *
put_string (uint8_t *p, const char *s)
{
  size_t n = str_len (s);

  *p++ = (uint8_t) n;
  for (size_t i = 0; i < n; i++)
    p[i] = is_control ((uint8_t) s[i]) ? '?' : (uint8_t) s[i];
  p[n] = 0;
  return p + n + 1;
}

segmask_status
segmask_header_encode (const segmask_header *h, uint8_t *dst, size_t cap,
    size_t *out_len)
{
  size_t size = segmask_header_size (h);
  uint8_t *p;

  if (size == 0)
    return SEGMASK_ERR_INVALID;
  if (!dst || cap < size)
    return SEGMASK_ERR_NOSPACE;
  memset (dst, 0, SEGMASK_FIXED_LEN);
  memcpy (dst + OFF_MAGIC, SEGMASK_MAGIC, 4);
  dst[OFF_MAJOR] = SEGMASK_VERSION_MAJOR;
  dst[OFF_MINOR] = SEGMASK_VERSION_MINOR;
  put_u16 (dst + OFF_FIXED_LEN, SEGMASK_FIXED_LEN);
  put_u32 (dst + OFF_HEADER_LEN, (uint32_t) size);
  dst[OFF_TYPE] = (uint8_t) h->type;
  dst[OFF_KIND] = (uint8_t) h->kind;
  dst[OFF_ENCODING] = (uint8_t) h->encoding;
  dst[OFF_FLAGS] = (uint8_t) h->flags;
  put_u32 (dst + OFF_SESSION, h->session);
  put_u16 (dst + OFF_NUM_CLASSES, (uint16_t) h->num_classes);
  put_u64 (dst + OFF_SEQ, h->seq);
  put_u64 (dst + OFF_CAPTURE_REALTIME, h->capture_realtime_ns);
  put_u64 (dst + OFF_CAPTURE_RUNNING, h->capture_running_ns);
  put_u64 (dst + OFF_PUBLISH_REALTIME, h->publish_realtime_ns);
  put_u64 (dst + OFF_INFERENCE, h->inference_ns);
  put_u64 (dst + OFF_AGE, h->mask_age_ns);
  put_u64 (dst + OFF_AGE_FRAMES, h->mask_age_frames);
  put_u64 (dst + OFF_DROPS, h->drops);
  put_u32 (dst + OFF_FRAME_WIDTH, h->frame_width);
  put_u32 (dst + OFF_FRAME_HEIGHT, h->frame_height);
  put_u32 (dst + OFF_WIDTH, h->width);
  put_u32 (dst + OFF_HEIGHT, h->height);
  put_u32 (dst + OFF_STRIDE, h->stride);
  put_u32 (dst + OFF_RAW_LEN, h->raw_len);
  put_u32 (dst + OFF_PAYLOAD_LEN, h->payload_len);
  p = dst + SEGMASK_FIXED_LEN;
  p = put_string (p, h->stream);
  p = put_string (p, h->model_name);
  p = put_string (p, h->model_sha256);
  for (unsigned i = 0; i < h->num_classes; i++)
    p = put_string (p, h->labels[i]);
  *out_len = size;
  return SEGMASK_OK;
}

/* Reads one length-prefixed, NUL-terminated string at `*pos`. */
static const char *
get_string (const uint8_t *buf, size_t len, size_t *pos)
{
  size_t n;
  const char *s;

  if (*pos >= len)
    return NULL;
  n = buf[*pos];
  if (len - *pos < n + 2 || buf[*pos + 1 + n] != 0)
    return NULL;
  s = (const char *) buf + *pos + 1;
  /* No NUL inside, and no control characters: these strings end up on
   * terminals and in logs, where ESC sequences would be obeyed. */
  for (size_t i = 0; i < n; i++)
    if (is_control ((uint8_t) s[i]))
      return NULL;
  *pos += n + 2;
  return s;
}

char *
segmask_printable (const char *src, char *dst, size_t cap)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;

  if (!dst || !cap)
    return dst;
  for (const unsigned char *p = (const unsigned char *) (src ? src : ""); *p;
       p++) {
    if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
      if (o + 1 >= cap)
        break;
      dst[o++] = (char) *p;
    } else {
      if (o + 4 >= cap)
        break;
      dst[o++] = '\\';
      dst[o++] = 'x';
      dst[o++] = hex[*p >> 4];
      dst[o++] = hex[*p & 15];
    }
  }
  dst[o] = 0;
  return dst;
}

#define REJECT(msg)             \
  do {                          \
    if (why)                    \
      *why = (msg);             \
    return SEGMASK_ERR_INVALID; \
  } while (0)

segmask_status
segmask_header_decode (const uint8_t *buf, size_t len, segmask_header *h,
    const char **why)
{
  size_t fixed_len, header_len, pos;
  uint64_t raw;

  if (!buf || !h)
    REJECT ("no header");
  if (len < 8 || memcmp (buf, SEGMASK_MAGIC, 4) != 0)
    REJECT ("bad magic");
  if (buf[OFF_MAJOR] != SEGMASK_VERSION_MAJOR)
    REJECT ("unsupported protocol version");
  if (len < SEGMASK_FIXED_LEN)
    REJECT ("header truncated");
  fixed_len = get_u16 (buf + OFF_FIXED_LEN);
  header_len = get_u32 (buf + OFF_HEADER_LEN);
  if (header_len != len)
    REJECT ("header length does not match the frame");
  if (fixed_len < SEGMASK_FIXED_LEN || fixed_len > header_len)
    REJECT ("bad fixed header length");

  memset (h, 0, sizeof (*h));
  h->version_major = buf[OFF_MAJOR];
  h->version_minor = buf[OFF_MINOR];
  h->type = (segmask_msg_type) buf[OFF_TYPE];
  h->kind = (segmask_kind) buf[OFF_KIND];
  h->encoding = (segmask_encoding) buf[OFF_ENCODING];
  h->flags = buf[OFF_FLAGS];
  h->session = get_u32 (buf + OFF_SESSION);
  h->num_classes = get_u16 (buf + OFF_NUM_CLASSES);
  h->seq = get_u64 (buf + OFF_SEQ);
  h->capture_realtime_ns = get_u64 (buf + OFF_CAPTURE_REALTIME);
  h->capture_running_ns = get_u64 (buf + OFF_CAPTURE_RUNNING);
  h->publish_realtime_ns = get_u64 (buf + OFF_PUBLISH_REALTIME);
  h->inference_ns = get_u64 (buf + OFF_INFERENCE);
  h->mask_age_ns = get_u64 (buf + OFF_AGE);
  h->mask_age_frames = get_u64 (buf + OFF_AGE_FRAMES);
  h->drops = get_u64 (buf + OFF_DROPS);
  h->frame_width = get_u32 (buf + OFF_FRAME_WIDTH);
  h->frame_height = get_u32 (buf + OFF_FRAME_HEIGHT);
  h->width = get_u32 (buf + OFF_WIDTH);
  h->height = get_u32 (buf + OFF_HEIGHT);
  h->stride = get_u32 (buf + OFF_STRIDE);
  h->raw_len = get_u32 (buf + OFF_RAW_LEN);
  h->payload_len = get_u32 (buf + OFF_PAYLOAD_LEN);

  if (h->type < SEGMASK_MSG_MASK || h->type > SEGMASK_MSG_EOS)
    REJECT ("unknown message type");
  if (h->kind > SEGMASK_KIND_PROBABILITY)
    REJECT ("unknown mask kind");
  if (h->encoding > SEGMASK_ENC_ZSTD)
    REJECT ("unknown payload encoding");
  if (h->num_classes > SEGMASK_MAX_CLASSES)
    REJECT ("too many classes");

  pos = fixed_len;
  if (!(h->stream = get_string (buf, header_len, &pos))
      || !(h->model_name = get_string (buf, header_len, &pos))
      || !(h->model_sha256 = get_string (buf, header_len, &pos)))
    REJECT ("bad string in header");
  if (!h->stream[0])
    REJECT ("empty stream name");
  for (unsigned i = 0; i < h->num_classes; i++)
    if (!(h->labels[i] = get_string (buf, header_len, &pos)))
      REJECT ("bad label in header");

  if (h->type == SEGMASK_MSG_MASK) {
    if (h->kind == SEGMASK_KIND_NONE)
      REJECT ("mask without a kind");
    if (h->width == 0 || h->height == 0 || h->width > SEGMASK_MAX_DIM
        || h->height > SEGMASK_MAX_DIM)
      REJECT ("mask size out of range");
    if (h->stride < h->width || h->stride > h->width + 4096)
      REJECT ("bad mask stride");
    raw = (uint64_t) h->stride * h->height;
    if (raw != h->raw_len)
      REJECT ("raw length does not match the mask size");
  } else if (h->kind != SEGMASK_KIND_NONE || h->width || h->height || h->stride
      || h->raw_len || h->encoding != SEGMASK_ENC_RAW) {
    REJECT ("status or end-of-stream message with a mask");
  }
  return SEGMASK_OK;
}

size_t
segmask_topic (segmask_msg_type type, const char *stream, char *dst, size_t cap)
{
  const char *prefix = type == SEGMASK_MSG_STATUS ? "status/" : "mask/";
  size_t np = strlen (prefix), ns = str_len (stream);

  if (!dst || np + ns + 1 > cap)
    return 0;
  memcpy (dst, prefix, np);
  if (ns)
    memcpy (dst + np, stream, ns);
  dst[np + ns] = 0;
  return np + ns;
}

segmask_status
segmask_message_parse (const uint8_t *topic, size_t topic_len,
    const uint8_t *header, size_t header_len, size_t payload_len,
    size_t max_raw, segmask_header *h, const char **why)
{
  char expect[16 + SEGMASK_MAX_STRING];
  size_t n;
  segmask_status st;

  if (max_raw == 0)
    max_raw = SEGMASK_DEFAULT_MAX_RAW;
  st = segmask_header_decode (header, header_len, h, why);
  if (st != SEGMASK_OK)
    return st;
  n = segmask_topic (h->type, h->stream, expect, sizeof (expect));
  if (!topic || n != topic_len || memcmp (topic, expect, n) != 0)
    REJECT ("topic does not match the header");
  if (h->payload_len != payload_len)
    REJECT ("payload length does not match the header");
  switch (h->type) {
    case SEGMASK_MSG_MASK:
      if (h->raw_len > max_raw)
        REJECT ("mask larger than allowed");
      if (payload_len > segmask_payload_bound (h->encoding, h->raw_len))
        REJECT ("payload larger than its encoding allows");
      if (h->encoding == SEGMASK_ENC_RAW && payload_len != h->raw_len)
        REJECT ("raw payload of the wrong size");
      break;
    case SEGMASK_MSG_STATUS:
      if (payload_len > MAX_STATUS_PAYLOAD)
        REJECT ("status payload too large");
      break;
    case SEGMASK_MSG_EOS:
      if (payload_len != 0)
        REJECT ("end-of-stream with a payload");
      break;
  }
  return SEGMASK_OK;
}

segmask_codec *
segmask_codec_new (void)
{
  segmask_codec *c = calloc (1, sizeof (*c));

  if (!c)
    return NULL;
  c->cctx = ZSTD_createCCtx ();
  c->dctx = ZSTD_createDCtx ();
  if (!c->cctx || !c->dctx)
    segmask_codec_free (&c);
  return c;
}

void
segmask_codec_free (segmask_codec **codec)
{
  segmask_codec *c = codec ? *codec : NULL;

  if (!c)
    return;
  ZSTD_freeCCtx (c->cctx);
  ZSTD_freeDCtx (c->dctx);
  free (c);
  *codec = NULL;
}

size_t
segmask_payload_bound (segmask_encoding enc, size_t raw_len)
{
  switch (enc) {
    case SEGMASK_ENC_RAW:
      return raw_len;
    case SEGMASK_ENC_RLE:
      /* Worst case: every byte its own run of length 1. */
      return 2 * raw_len;
    case SEGMASK_ENC_ZSTD:
      return ZSTD_compressBound (raw_len);
  }
  return 0;
}

/* Length of the run of raw[i] starting at i, at most `max`. Eight bytes
 * at a time where the byte order lets the first differing byte be found
 * from the low end of a word: masks are mostly long runs of 0 and 255, and
 * a byte at a time this scan was most of the publisher's time. */
static size_t
run_length (const uint8_t *raw, size_t i, size_t max)
{
  const uint8_t v = raw[i];
  size_t run = 1;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t pattern = v * UINT64_C (0x0101010101010101);

  while (run + 8 <= max) {
    uint64_t w;

    memcpy (&w, raw + i + run, 8);
    w ^= pattern;
    if (w)
      return run + (size_t) (__builtin_ctzll (w) / 8);
    run += 8;
  }
#endif
  while (run < max && raw[i + run] == v)
    run++;
  return run;
}

/* Runs: the value byte, then the run length as an unsigned LEB128 varint
 * (1..2^32-1). Runs continue across rows. */
static segmask_status
rle_encode (const uint8_t *raw, size_t raw_len, uint8_t *dst, size_t cap,
    size_t *out_len)
{
  size_t i = 0, o = 0;

  while (i < raw_len) {
    size_t left = raw_len - i;
    uint8_t v = raw[i];
    size_t run = run_length (raw, i, left < UINT32_MAX ? left : UINT32_MAX);
    uint64_t n;

    if (o >= cap)
      return SEGMASK_ERR_NOSPACE;
    dst[o++] = v;
    n = run;
    do {
      if (o >= cap)
        return SEGMASK_ERR_NOSPACE;
      dst[o++] = (uint8_t) ((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>= 7;
    } while (n);
    i += run;
  }
  *out_len = o;
  return SEGMASK_OK;
}

static segmask_status
rle_decode (const uint8_t *src, size_t len, uint8_t *dst, size_t raw_len,
    const char **why)
{
  size_t i = 0, o = 0;

  while (i < len) {
    uint8_t v = src[i++];
    uint64_t run = 0;
    int shift = 0;

    for (;;) {
      uint8_t b;

      if (i >= len)
        REJECT ("run-length payload truncated");
      if (shift > 28)
        REJECT ("run length too long");
      b = src[i++];
      run |= (uint64_t) (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80))
        break;
    }
    if (run == 0)
      REJECT ("empty run");
    if (run > raw_len - o)
      REJECT ("runs longer than the mask");
    memset (dst + o, v, (size_t) run);
    o += (size_t) run;
  }
  if (o != raw_len)
    REJECT ("runs shorter than the mask");
  return SEGMASK_OK;
}

segmask_status
segmask_payload_encode (segmask_codec *codec, segmask_encoding enc, int level,
    const uint8_t *raw, size_t raw_len, uint8_t *dst, size_t cap,
    size_t *out_len)
{
  size_t n;

  if (!raw || !dst || !out_len)
    return SEGMASK_ERR_INVALID;
  switch (enc) {
    case SEGMASK_ENC_RAW:
      if (cap < raw_len)
        return SEGMASK_ERR_NOSPACE;
      memcpy (dst, raw, raw_len);
      *out_len = raw_len;
      return SEGMASK_OK;
    case SEGMASK_ENC_RLE:
      return rle_encode (raw, raw_len, dst, cap, out_len);
    case SEGMASK_ENC_ZSTD:
      if (!codec)
        return SEGMASK_ERR_INVALID;
      n = ZSTD_compressCCtx (codec->cctx, dst, cap, raw, raw_len, level);
      if (ZSTD_isError (n))
        return ZSTD_getErrorCode (n) == ZSTD_error_dstSize_tooSmall
            ? SEGMASK_ERR_NOSPACE
            : SEGMASK_ERR_INVALID;
      *out_len = n;
      return SEGMASK_OK;
  }
  return SEGMASK_ERR_INVALID;
}

segmask_status
segmask_payload_decode (segmask_codec *codec, const segmask_header *h,
    const uint8_t *src, size_t len, uint8_t *dst, const char **why)
{
  unsigned long long content;
  size_t n;
  segmask_status st = SEGMASK_OK;

  if (!h || !dst || (len && !src))
    REJECT ("no payload");
  switch (h->encoding) {
    case SEGMASK_ENC_RAW:
      if (len != h->raw_len)
        REJECT ("raw payload of the wrong size");
      memcpy (dst, src, len);
      break;
    case SEGMASK_ENC_RLE:
      st = rle_decode (src, len, dst, h->raw_len, why);
      break;
    case SEGMASK_ENC_ZSTD:
      if (!codec)
        REJECT ("no codec for zstd");
      content = ZSTD_getFrameContentSize (src, len);
      if (content != h->raw_len)
        REJECT ("zstd frame of the wrong size");
      if (ZSTD_findFrameCompressedSize (src, len) != len)
        REJECT ("zstd payload is not exactly one frame");
      n = ZSTD_decompressDCtx (codec->dctx, dst, h->raw_len, src, len);
      if (ZSTD_isError (n) || n != h->raw_len)
        REJECT ("corrupt zstd payload");
      break;
    default:
      REJECT ("unknown payload encoding");
  }
  if (st != SEGMASK_OK)
    return st;
  if (h->kind == SEGMASK_KIND_CLASSES && h->num_classes > 0) {
    for (uint32_t y = 0; y < h->height; y++) {
      const uint8_t *row = dst + (size_t) y * h->stride;

      for (uint32_t x = 0; x < h->width; x++)
        if (row[x] >= h->num_classes)
          REJECT ("class index out of range");
    }
  }
  return SEGMASK_OK;
}

const char *
segmask_encoding_name (segmask_encoding enc)
{
  switch (enc) {
    case SEGMASK_ENC_RAW:
      return "raw";
    case SEGMASK_ENC_RLE:
      return "rle";
    case SEGMASK_ENC_ZSTD:
      return "zstd";
  }
  return "unknown";
}

int
segmask_encoding_from_name (const char *name)
{
  for (int e = SEGMASK_ENC_RAW; e <= SEGMASK_ENC_ZSTD; e++)
    if (name
        && strcmp (name, segmask_encoding_name ((segmask_encoding) e)) == 0)
      return e;
  return -1;
}

const char *
segmask_status_string (segmask_status st)
{
  switch (st) {
    case SEGMASK_OK:
      return "ok";
    case SEGMASK_TIMEOUT:
      return "timed out";
    case SEGMASK_INTERRUPTED:
      return "interrupted";
    case SEGMASK_ERR_INVALID:
      return "invalid message or argument";
    case SEGMASK_ERR_NOSPACE:
      return "buffer too small";
    case SEGMASK_ERR_NOMEM:
      return "out of memory";
    case SEGMASK_ERR_ZMQ:
      return "ZeroMQ error";
  }
  return "unknown status";
}
