/* Test fixture for the Python subscriber: publishes 50x30 class-map masks
 * (stride 52) with value (x / 8 + y / 8 + seq) % 3 every 10 ms, cycling
 * raw, rle and zstd, until killed or 30 s pass. Uses the same codec as
 * zmqmasksink. Usage: pub-fixture ENDPOINT */
#include <segmask.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

int
main (int argc, char **argv)
{
  static const char *const labels[] = {"background", "person", "cat"};
  uint8_t raw[52 * 30], pay[52 * 30 * 2 + 64], hdr[1024];
  segmask_codec *codec = segmask_codec_new ();
  void *ctx = zmq_ctx_new (), *pub;
  struct timespec ts = {0, 10 * 1000 * 1000};

  if (argc != 2 || !codec || !ctx || !(pub = zmq_socket (ctx, ZMQ_PUB))
      || zmq_bind (pub, argv[1]) != 0) {
    fprintf (stderr, "pub-fixture: cannot publish on %s\n",
        argc > 1 ? argv[1] : "?");
    return 1;
  }
  for (uint64_t seq = 1; seq <= 3000; seq++) {
    segmask_header h;
    size_t plen, hlen;

    memset (&h, 0, sizeof (h));
    h.type = SEGMASK_MSG_MASK;
    h.kind = SEGMASK_KIND_CLASSES;
    h.encoding = (segmask_encoding) (seq % 3);
    h.session = 1;
    h.seq = seq;
    h.width = 50;
    h.height = 30;
    h.stride = 52;
    h.raw_len = sizeof (raw);
    h.inference_ns = 4000000;
    h.num_classes = 3;
    for (int i = 0; i < 3; i++)
      h.labels[i] = labels[i];
    h.stream = "py";
    h.model_name = "fixture";
    h.model_sha256 = "ab";
    for (int y = 0; y < 30; y++)
      for (int x = 0; x < 52; x++)
        raw[y * 52 + x] = x < 50 ? (uint8_t) ((x / 8 + y / 8 + seq) % 3) : 0;
    if (segmask_payload_encode (codec, h.encoding, 1, raw, sizeof (raw), pay,
            sizeof (pay), &plen)
        != SEGMASK_OK)
      return 1;
    h.payload_len = (uint32_t) plen;
    if (segmask_header_encode (&h, hdr, sizeof (hdr), &hlen) != SEGMASK_OK)
      return 1;
    if (zmq_send (pub, "mask/py", 7, ZMQ_SNDMORE) < 0
        || zmq_send (pub, hdr, hlen, ZMQ_SNDMORE) < 0
        || zmq_send (pub, pay, plen, 0) < 0)
      return 1;
    nanosleep (&ts, NULL);
  }
  zmq_close (pub);
  zmq_ctx_term (ctx);
  segmask_codec_free (&codec);
  return 0;
}
