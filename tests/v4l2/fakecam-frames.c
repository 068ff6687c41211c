/* fakecam-frames.c — the picture a fake camera sends, and the thread that
 * sends it.
 *
 * The scene is a photo ($FAKECAM_SCENE, PNG, loaded once) or, without
 * one, a dark grey frame with a light square. At STREAMON it is scaled to
 * cover the frame plus a margin, and each frame's view pans 2 px along
 * that margin, so consecutive frames differ as a live camera's do. A frame
 * is converted to YUYV (BT.601, limited range) or encoded as JPEG (libjpeg,
 * quality 80) straight into the client's buffer by the camera's stream
 * thread, which fills the oldest queued buffer once per frame interval and
 * drops `lock` while it renders.
 */
#include "fakecam-private.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- frames ---- */

static struct
{
  int tried;
  uint8_t *rgb;
  unsigned w, h;
} scene;

/* The photo, once; a grey frame with a square if there is none. */
static void
scene_load (void)
{
  const char *path = getenv ("FAKECAM_SCENE");
  png_image img;

  if (scene.tried)
    return;
  scene.tried = 1;
  memset (&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (path && png_image_begin_read_from_file (&img, path)) {
    img.format = PNG_FORMAT_RGB;
    scene.rgb = malloc (PNG_IMAGE_SIZE (img));
    if (scene.rgb && png_image_finish_read (&img, NULL, scene.rgb, 0, NULL)) {
      scene.w = img.width;
      scene.h = img.height;
      return;
    }
    free (scene.rgb);
    png_image_free (&img);
  }
  scene.w = scene.h = 64;
  scene.rgb = malloc (64 * 64 * 3);
  for (unsigned i = 0; i < 64 * 64; i++)
    memset (scene.rgb + i * 3,
        (i / 64 > 20 && i / 64 < 44 && i % 64 > 20 && i % 64 < 44) ? 220 : 90,
        3);
}

/* Scales the scene (nearest neighbour) to cover w + 2 * margin by h. */
void
canvas_make (Cam *c)
{
  double s;

  scene_load ();
  c->margin = c->w / 16;
  s = (double) (c->w + 2 * c->margin) / scene.w;
  if ((double) c->h / scene.h > s)
    s = (double) c->h / scene.h;
  c->cw = (unsigned) (scene.w * s + 0.5);
  c->ch = (unsigned) (scene.h * s + 0.5);
  if (c->cw < c->w + 2 * c->margin)
    c->cw = c->w + 2 * c->margin;
  if (c->ch < c->h)
    c->ch = c->h;
  c->canvas = malloc ((size_t) c->cw * c->ch * 3);
  for (unsigned y = 0; y < c->ch; y++) {
    unsigned sy = (unsigned) (y / s);

    if (sy >= scene.h)
      sy = scene.h - 1;
    for (unsigned x = 0; x < c->cw; x++) {
      unsigned sx = (unsigned) (x / s);

      if (sx >= scene.w)
        sx = scene.w - 1;
      memcpy (c->canvas + ((size_t) y * c->cw + x) * 3,
          scene.rgb + ((size_t) sy * scene.w + sx) * 3, 3);
    }
  }
}

/* The top-left row of frame `seq`: the view pans 2 px a frame back and
 * forth over the margin. */
static const uint8_t *
frame_row (Cam *c, uint32_t seq, unsigned y)
{
  unsigned span = c->margin > 0 ? 2 * c->margin : 1;
  unsigned t = (seq * 2) % (2 * span);
  unsigned x0 = t < span ? t : 2 * span - t;
  unsigned y0 = (c->ch - c->h) / 2;

  return c->canvas + ((size_t) (y0 + y) * c->cw + x0) * 3;
}

static uint8_t
clamp8 (int v)
{
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) v;
}

static size_t
render_yuyv (Cam *c, uint32_t seq, uint8_t *out)
{
  for (unsigned y = 0; y < c->h; y++) {
    const uint8_t *p = frame_row (c, seq, y);
    uint8_t *o = out + (size_t) y * c->w * 2;

    for (unsigned x = 0; x + 1 < c->w; x += 2, p += 6, o += 4) {
      int r = (p[0] + p[3]) / 2, g = (p[1] + p[4]) / 2, b = (p[2] + p[5]) / 2;

      /* BT.601, limited range. */
      o[0] = clamp8 (16 + ((66 * p[0] + 129 * p[1] + 25 * p[2] + 128) >> 8));
      o[2] = clamp8 (16 + ((66 * p[3] + 129 * p[4] + 25 * p[5] + 128) >> 8));
      o[1] = clamp8 (128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8));
      o[3] = clamp8 (128 + ((112 * r - 94 * g - 18 * b + 128) >> 8));
    }
  }
  return (size_t) c->w * c->h * 2;
}

static size_t
render_jpeg (Cam *c, uint32_t seq, uint8_t *out, size_t size)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  unsigned char *mem = out;
  unsigned long len = (unsigned long) size;

  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &mem, &len);
  cinfo.image_width = c->w;
  cinfo.image_height = c->h;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 80, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  for (unsigned y = 0; y < c->h; y++) {
    JSAMPROW row = (JSAMPROW) frame_row (c, seq, y);

    jpeg_write_scanlines (&cinfo, &row, 1);
  }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  if (mem != out) {
    /* Did not fit: libjpeg grew its own buffer. Truncated, as a camera
     * would send a broken frame. */
    memcpy (out, mem, size);
    free (mem);
    return size;
  }
  return len;
}

static void
timespec_add_ns (struct timespec *t, uint64_t ns)
{
  t->tv_nsec += (long) (ns % 1000000000u);
  t->tv_sec += (time_t) (ns / 1000000000u) + t->tv_nsec / 1000000000;
  t->tv_nsec %= 1000000000;
}

static void
wake (Cam *c)
{
  uint64_t one = 1;

  if (write (c->efd, &one, sizeof one) < 0)
    debug ("fd %d: cannot signal: %s", c->fd, strerror (errno));
}

/* The camera: one frame per interval into the oldest queued buffer. */
void *
stream_thread (void *data)
{
  Cam *c = data;
  uint64_t period =
      (uint64_t) c->iv.numerator * 1000000000u / c->iv.denominator;
  struct timespec next;

  clock_gettime (CLOCK_MONOTONIC, &next);
  pthread_mutex_lock (&lock);
  while (!c->stop) {
    Device *dev;
    Buffer *b;
    unsigned idx;
    size_t used;
    struct timespec now;

    timespec_add_ns (&next, period);
    while (!c->stop && pthread_cond_timedwait (&cond, &lock, &next) == 0) {
    }
    if (c->stop)
      break;
    if (cam_dead (c)) {
      wake (c);
      break;
    }
    dev = device_get (c->n);
    if (dev->stall)
      continue;
    if (!c->n_in) {
      c->sequence++; /* a frame the client had no buffer for */
      continue;
    }
    idx = c->inq[0];
    memmove (c->inq, c->inq + 1, --c->n_in * sizeof c->inq[0]);
    b = &c->buf[idx];
    pthread_mutex_unlock (&lock);
    if (c->fourcc == V4L2_PIX_FMT_YUYV)
      used = render_yuyv (c, c->sequence, b->data);
    else
      used = render_jpeg (c, c->sequence, b->data, b->vb.length);
    clock_gettime (CLOCK_MONOTONIC, &now);
    pthread_mutex_lock (&lock);
    b->queued = 0;
    b->done = 1;
    b->vb.bytesused = (uint32_t) used;
    b->vb.sequence = c->sequence++;
    b->vb.timestamp.tv_sec = now.tv_sec;
    b->vb.timestamp.tv_usec = now.tv_nsec / 1000;
    c->doneq[c->n_done++] = idx;
    wake (c);
    pthread_cond_broadcast (&cond);
  }
  pthread_mutex_unlock (&lock);
  return NULL;
}
