/* Image files for the `seg` tool: PNG and JPEG in (libpng, libjpeg), PNG
 * out (grayscale, palette or RGB). The format of an input is taken from its
 * first bytes, not its name. Input files are untrusted: decoder errors and
 * warnings, and images above a size limit, are refused with one line naming
 * the file. */
#ifndef SEG_TOOLS_IMAGE_H
#define SEG_TOOLS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Bounds on decoded images: ample for photos and video frames, and they keep
 * width * height * 3 far from overflowing. */
#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS ((size_t) 1 << 27)

typedef struct
{
  int width, height;
  int channels;    /* 1 (gray or palette indices) or 3 (RGB) */
  uint8_t *pixels; /* rows of width * channels bytes, no padding; owned */
} image;

/* Decodes a PNG or JPEG file to 8-bit RGB (channels 3) or gray (channels 1).
 * Alpha is composited onto black; 16-bit samples are reduced to 8 bits. On
 * success fills *out (free with image_clear) and returns 0; on failure
 * returns -1 with one line in err. */
int image_load (const char *path, int channels, image *out, char *err,
    size_t err_len);

/* Writes img as an 8-bit PNG: RGB when channels is 3; for channels 1, a
 * palette PNG when palette (256 RGB triplets) is given, so that each pixel
 * value is a palette index, else grayscale. Returns 0, or -1 with a message
 * in err. */
int image_write_png (const char *path, const image *img, const uint8_t *palette,
    char *err, size_t err_len);

/* Fills palette (256 * 3 bytes) with the PASCAL VOC colour map: class 0
 * black, 1 dark red, 2 dark green, ... */
void image_voc_palette (uint8_t *palette);

/* Allocates zeroed pixels for a width x height x channels image; returns 0 or
 * -1 if out of memory or the size exceeds the limits. */
int image_alloc (image *img, int width, int height, int channels);

/* Frees the pixels and resets *img; safe on a cleared image. */
void image_clear (image *img);

#endif
