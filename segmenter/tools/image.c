/* PNG/JPEG decoding and PNG encoding for the `seg` tool. The whole file is
 * read into memory first so that the format can be sniffed from its magic
 * bytes and both decoders work from one buffer. libpng's simplified API
 * keeps its error handling internal; libjpeg reports errors through a
 * longjmp out of our error manager, and its "corrupt data" warnings are
 * turned into errors too, so a truncated JPEG is refused instead of decoded
 * into grey. */
#include "image.h"
#include "errbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

/* Compressed input above this is refused before decoding. */
#define IMAGE_MAX_FILE ((size_t) 256 << 20)

int
image_alloc (image *img, int width, int height, int channels)
{
  memset (img, 0, sizeof *img);
  if (width <= 0 || height <= 0 || width > IMAGE_MAX_SIDE
      || height > IMAGE_MAX_SIDE
      || (size_t) width * (size_t) height > IMAGE_MAX_PIXELS
      || (channels != 1 && channels != 3))
    return -1;
  img->pixels = calloc ((size_t) width * (size_t) height, (size_t) channels);
  if (!img->pixels)
    return -1;
  img->width = width;
  img->height = height;
  img->channels = channels;
  return 0;
}

void
image_clear (image *img)
{
  free (img->pixels);
  memset (img, 0, sizeof *img);
}

static int
check_size (const char *path, unsigned long width, unsigned long height,
    char *err, size_t err_len)
{
  if (width == 0 || height == 0)
    return seg_tool_fail (err, err_len, "%s: image has no pixels", path);
  if (width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE
      || (size_t) width * (size_t) height > IMAGE_MAX_PIXELS)
    return seg_tool_fail (err, err_len,
        "%s: image of %lux%lu exceeds the limit of "
        "%d pixels a side and %zu in all",
        path, width, height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
  return 0;
}

static int
load_png (const char *path, const uint8_t *buf, size_t len, int channels,
    image *out, char *err, size_t err_len)
{
  png_image png;
  png_color black = {0, 0, 0};

  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory (&png, buf, len))
    return seg_tool_fail (err, err_len, "%s: bad PNG: %s", path, png.message);
  if (check_size (path, png.width, png.height, err, err_len) < 0) {
    png_image_free (&png);
    return -1;
  }
  png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (image_alloc (out, (int) png.width, (int) png.height, channels) < 0) {
    png_image_free (&png);
    return seg_tool_fail (err, err_len, "%s: out of memory for %ux%u image",
        path, png.width, png.height);
  }
  if (!png_image_finish_read (&png, &black, out->pixels,
          (png_int_32) (png.width * (unsigned) channels), NULL)) {
    image_clear (out);
    return seg_tool_fail (err, err_len, "%s: bad PNG: %s", path, png.message);
  }
  return 0;
}

typedef struct
{
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} jpeg_error;

static void
jpeg_error_exit (j_common_ptr cinfo)
{
  jpeg_error *e = (jpeg_error *) cinfo->err;

  e->pub.format_message (cinfo, e->message);
  longjmp (e->jump, 1);
}

/* Level -1 is a warning about corrupt or truncated data: refuse the file.
 * Higher levels are trace messages, which we drop. */
static void
jpeg_emit_message (j_common_ptr cinfo, int msg_level)
{
  if (msg_level < 0)
    jpeg_error_exit (cinfo);
}

static int
load_jpeg (const char *path, const uint8_t *buf, size_t len, int channels,
    image *out, char *err, size_t err_len)
{
  struct jpeg_decompress_struct cinfo;
  jpeg_error jerr;
  /* Written between setjmp and longjmp, so volatile. */
  uint8_t *volatile pixels = NULL;

  memset (out, 0, sizeof *out);
  cinfo.err = jpeg_std_error (&jerr.pub);
  jerr.pub.error_exit = jpeg_error_exit;
  jerr.pub.emit_message = jpeg_emit_message;
  if (setjmp (jerr.jump)) {
    free (pixels);
    jpeg_destroy_decompress (&cinfo);
    return seg_tool_fail (err, err_len, "%s: bad JPEG: %s", path, jerr.message);
  }
  jpeg_create_decompress (&cinfo);
  jpeg_mem_src (&cinfo, buf, (unsigned long) len);
  jpeg_read_header (&cinfo, TRUE);
  if (check_size (path, cinfo.image_width, cinfo.image_height, err, err_len)
      < 0) {
    jpeg_destroy_decompress (&cinfo);
    return -1;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK
      || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress (&cinfo);
    return seg_tool_fail (err, err_len,
        "%s: CMYK JPEG images are not supported", path);
  }
  cinfo.out_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_start_decompress (&cinfo);
  pixels = malloc (
      (size_t) cinfo.output_width * cinfo.output_height * (size_t) channels);
  if (!pixels) {
    jpeg_destroy_decompress (&cinfo);
    return seg_tool_fail (err, err_len, "%s: out of memory for %ux%u image",
        path, cinfo.output_width, cinfo.output_height);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels
        + (size_t) cinfo.output_scanline * cinfo.output_width
            * (size_t) channels;
    jpeg_read_scanlines (&cinfo, &row, 1);
  }
  jpeg_finish_decompress (&cinfo);
  out->width = (int) cinfo.output_width;
  out->height = (int) cinfo.output_height;
  out->channels = channels;
  out->pixels = pixels;
  jpeg_destroy_decompress (&cinfo);
  return 0;
}

int
image_load (const char *path, int channels, image *out, char *err,
    size_t err_len)
{
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
      '\n'};
  uint8_t *buf = NULL;
  size_t len;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (channels != 1 && channels != 3)
    return seg_tool_fail (err, err_len, "%s: cannot decode to %d channels",
        path, channels);
  if (seg_tool_read_file (path, IMAGE_MAX_FILE, &buf, &len, err, err_len) < 0)
    return -1;
  if (len >= sizeof png_sig && memcmp (buf, png_sig, sizeof png_sig) == 0)
    ret = load_png (path, buf, len, channels, out, err, err_len);
  else if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
    ret = load_jpeg (path, buf, len, channels, out, err, err_len);
  else
    seg_tool_fail (err, err_len, "%s: not a PNG or JPEG image", path);
  free (buf);
  return ret;
}

int
image_write_png (const char *path, const image *img, const uint8_t *palette,
    char *err, size_t err_len)
{
  png_image png;

  if (img->channels != 1 && img->channels != 3)
    return seg_tool_fail (err, err_len, "%s: cannot write %d channels", path,
        img->channels);
  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32) img->width;
  png.height = (png_uint_32) img->height;
  if (img->channels == 3) {
    png.format = PNG_FORMAT_RGB;
  } else if (palette) {
    /* 256 entries make libpng write 8-bit indices, one byte per pixel. */
    png.format = PNG_FORMAT_RGB_COLORMAP;
    png.colormap_entries = 256;
  } else {
    png.format = PNG_FORMAT_GRAY;
  }
  if (!png_image_write_to_file (&png, path, 0, img->pixels,
          (png_int_32) (img->width * img->channels),
          img->channels == 1 ? palette : NULL)) {
    unlink (path);
    return seg_tool_fail (err, err_len, "%s: cannot write PNG: %s", path,
        png.message);
  }
  return 0;
}

void
image_voc_palette (uint8_t *palette)
{
  /* Each class index's bits are dealt out in turn to R, G and B, most
   * significant bit first, so neighbouring classes get distinct colours. */
  for (int i = 0; i < 256; i++) {
    int c = i, r = 0, g = 0, b = 0;

    for (int bit = 7; bit >= 0; bit--) {
      r |= (c & 1) << bit;
      g |= ((c >> 1) & 1) << bit;
      b |= ((c >> 2) & 1) << bit;
      c >>= 3;
    }
    palette[3 * i + 0] = (uint8_t) r;
    palette[3 * i + 1] = (uint8_t) g;
    palette[3 * i + 2] = (uint8_t) b;
  }
}
