/* JPEG frames decoded at the size the model needs: libjpeg-turbo's DCT
 * scaling (1/2, 1/4, 1/8) skips most of the inverse DCT and all of the
 * full-size colour conversion when the network's input is a fraction of
 * the camera's frame, which is the common case for a USB webcam's MJPEG
 * modes (1280x720 or 1920x1080 into a 256x256 network). */
#ifndef SEG_JPEG_H
#define SEG_JPEG_H

#include <glib.h>
#include <segmenter/seg.h>

typedef struct _SegJpeg SegJpeg;

/* (transfer full) */
SegJpeg *seg_jpeg_new (void);

/* NULL is a no-op. */
void seg_jpeg_free (SegJpeg *dec);

/* The largest libjpeg scale denominator (8, 4, 2 or 1) that keeps a
 * width x height image at least min_w x min_h. */
guint seg_jpeg_scale_denom (gint width, gint height, gint min_w, gint min_h);

/* Decodes one JPEG image to RGBx at the smallest DCT scale not below
 * min_w x min_h (min 0: full size) into memory the decoder owns, reused
 * from frame to frame while the output size stays the same; *frame
 * describes it until the next call or seg_jpeg_free. Returns FALSE with
 * *error set (transfer full) on a corrupt or unsupported image. */
gboolean seg_jpeg_decode (SegJpeg *dec, const guint8 *data, gsize size,
    gint min_w, gint min_h, seg_frame *frame, gchar **error);

#endif
