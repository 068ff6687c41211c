/* MJPEG decoding for the segmenter element, at the scale the model needs
 * (see segjpeg.h). One decompressor is kept for the stream, and the output
 * image is reallocated only when its size changes, so a frame costs no
 * allocation. libjpeg reports errors by calling error_exit, which here
 * longjmps back to seg_jpeg_decode with the message kept. */
#include "segjpeg.h"

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

typedef struct
{
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} ErrorMgr;

struct _SegJpeg
{
  struct jpeg_decompress_struct cinfo;
  ErrorMgr err;
  guint8 *pixels;
  gsize pixels_size;
  guint8 **rows;
  guint rows_len;
};

/* Grows dec->pixels and dec->rows; they never shrink, so a steady stream
 * allocates on its first frame only. */
static void
reserve (SegJpeg *dec, gsize bytes, guint rows)
{
  if (bytes > dec->pixels_size) {
    g_free (dec->pixels);
    dec->pixels = g_malloc (bytes);
    dec->pixels_size = bytes;
  }
  if (rows > dec->rows_len) {
    g_free (dec->rows);
    dec->rows = g_new (guint8 *, rows);
    dec->rows_len = rows;
  }
}

static void
error_exit (j_common_ptr cinfo)
{
  ErrorMgr *err = (ErrorMgr *) cinfo->err;

  err->mgr.format_message (cinfo, err->message);
  longjmp (err->jump, 1);
}

/* Corrupt-data warnings: the frame decodes anyway, as jpegdec lets it. */
static void
emit_message (j_common_ptr cinfo, int level)
{
  (void) cinfo;
  (void) level;
}

SegJpeg *
seg_jpeg_new (void)
{
  SegJpeg *dec = g_new0 (SegJpeg, 1);

  dec->cinfo.err = jpeg_std_error (&dec->err.mgr);
  dec->err.mgr.error_exit = error_exit;
  dec->err.mgr.emit_message = emit_message;
  jpeg_create_decompress (&dec->cinfo);
  return dec;
}

void
seg_jpeg_free (SegJpeg *dec)
{
  if (!dec)
    return;
  jpeg_destroy_decompress (&dec->cinfo);
  g_free (dec->pixels);
  g_free (dec->rows);
  g_free (dec);
}

guint
seg_jpeg_scale_denom (gint width, gint height, gint min_w, gint min_h)
{
  if (min_w <= 0 || min_h <= 0)
    return 1;
  for (guint denom = 8; denom > 1; denom /= 2)
    /* libjpeg rounds scaled sizes up */
    if ((width + (gint) denom - 1) / (gint) denom >= min_w
        && (height + (gint) denom - 1) / (gint) denom >= min_h)
      return denom;
  return 1;
}

gboolean
seg_jpeg_decode (SegJpeg *dec, const guint8 *data, gsize size, gint min_w,
    gint min_h, seg_frame *frame, gchar **error)
{
  struct jpeg_decompress_struct *cinfo = &dec->cinfo;
  gsize stride;

  if (setjmp (dec->err.jump)) {
    *error = g_strdup_printf ("cannot decode JPEG frame: %s", dec->err.message);
    jpeg_abort_decompress (cinfo);
    return FALSE;
  }
  if (size > G_MAXULONG || size < 4) {
    *error = g_strdup ("cannot decode JPEG frame: too short");
    return FALSE;
  }
  jpeg_mem_src (cinfo, data, (unsigned long) size);
  jpeg_read_header (cinfo, TRUE);
  if (cinfo->image_width > 16384 || cinfo->image_height > 16384) {
    *error = g_strdup_printf ("JPEG frame of %ux%u is larger than 16384",
        cinfo->image_width, cinfo->image_height);
    jpeg_abort_decompress (cinfo);
    return FALSE;
  }
  cinfo->scale_num = 1;
  cinfo->scale_denom = seg_jpeg_scale_denom ((gint) cinfo->image_width,
      (gint) cinfo->image_height, min_w, min_h);
  /* RGBx, not raw YCbCr planes: scaled down, libjpeg-turbo brings the
   * chroma to luma resolution inside the IDCT, a 4:4:4 layout the engine
   * does not take; converting the few scaled pixels is cheap (the time
   * goes to entropy decoding, which no scale avoids). */
  cinfo->out_color_space = JCS_EXT_RGBX;
  jpeg_start_decompress (cinfo);
  stride = (gsize) cinfo->output_width * 4;
  reserve (dec, stride * cinfo->output_height, cinfo->output_height);
  for (guint y = 0; y < cinfo->output_height; y++)
    dec->rows[y] = dec->pixels + y * stride;
  while (cinfo->output_scanline < cinfo->output_height)
    jpeg_read_scanlines (cinfo, dec->rows + cinfo->output_scanline,
        cinfo->output_height - cinfo->output_scanline);
  frame->format = SEG_PIXEL_RGBX;
  frame->planes[0] = dec->pixels;
  frame->strides[0] = (int) stride;
  frame->planes[1] = frame->planes[2] = NULL;
  frame->strides[1] = frame->strides[2] = 0;
  frame->width = (int) cinfo->output_width;
  frame->height = (int) cinfo->output_height;
  jpeg_finish_decompress (cinfo);
  return TRUE;
}
