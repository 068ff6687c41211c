/* libFuzzer target for the segmask decoder. The input is split into a
 * header frame and a payload frame (first two bytes: header length); the
 * topic is taken from the parsed header so topic checks pass and the
 * fuzzer reaches the payload decoders. Whatever the bytes, parse + decode
 * must either reject with a reason or fill exactly raw_len bytes; never
 * crash or read past the input. */
#include "segmask.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static segmask_codec *codec;
  segmask_header h;
  const char *why = NULL;
  char topic[16 + SEGMASK_MAX_STRING];
  size_t hlen, tlen;
  uint8_t *out;

  if (size < 2)
    return 0;
  if (!codec && !(codec = segmask_codec_new ()))
    __builtin_trap ();
  hlen = (size_t) (data[0] | (data[1] << 8));
  data += 2;
  size -= 2;
  if (hlen > size)
    hlen = size;
  if (segmask_header_decode (data, hlen, &h, &why) != SEGMASK_OK) {
    if (!why)
      __builtin_trap ();
    return 0;
  }
  tlen = segmask_topic (h.type, h.stream, topic, sizeof (topic));
  if (segmask_message_parse ((const uint8_t *) topic, tlen, data, hlen,
          size - hlen, 1u << 22, &h, &why)
      != SEGMASK_OK) {
    if (!why)
      __builtin_trap ();
    return 0;
  }
  if (h.type != SEGMASK_MSG_MASK)
    return 0;
  out = malloc (h.raw_len);
  if (!out)
    return 0;
  if (segmask_payload_decode (codec, &h, data + hlen, size - hlen, out, &why)
          != SEGMASK_OK
      && !why)
    __builtin_trap ();
  free (out);
  return 0;
}
