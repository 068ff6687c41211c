/* segd-v4l2 — finds and probes V4L2 capture devices with libv4l2
 * (capabilities, formats, frame sizes and rates) and picks the mode that
 * best matches what the configuration asks for.
 */
#ifndef SEGD_V4L2_H
#define SEGD_V4L2_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 fourcc;
  guint width, height;
  guint fps_n, fps_d;
} SegdV4l2Mode;

typedef struct
{
  gchar *path;
  gchar *card;
  gchar *driver;
  gchar *bus_info;
  GArray *modes; /* SegdV4l2Mode, only formats segd can consume */
} SegdV4l2Device;

/* Opens `path` and reads its capabilities and modes. Fails (G_IO_ERROR)
 * when the device is missing, busy or not a video capture device.
 * (transfer full): free with segd_v4l2_device_free. */
SegdV4l2Device *segd_v4l2_probe (const gchar *path, GError **error);

/* NULL is a no-op. */
void segd_v4l2_device_free (SegdV4l2Device *device);

/* The device path for a configured name: an absolute path as is, else
 * /dev/v4l/by-id/NAME or /dev/v4l/by-path/NAME (the first that exists; the
 * by-id one if neither does). An empty name gives the first capture device
 * or NULL when there is none. (transfer full) */
gchar *segd_v4l2_resolve (const gchar *name);

/* Every capture device under /dev, probed, in name order
 * (transfer full; element free function set). */
GPtrArray *segd_v4l2_list (void);

/* The mode that best fits width x height at fps, `fourcc` 0 for any
 * format: an exact match first, then bigger sizes over smaller, enough
 * frame rate over size, raw over compressed. NULL if `n` is 0 or no mode
 * has the forced fourcc. (transfer none): points into `modes`. */
const SegdV4l2Mode *segd_v4l2_best_mode (const SegdV4l2Mode *modes, guint n,
    guint width, guint height, guint fps, guint32 fourcc);

/* GStreamer caps for a mode, e.g. "video/x-raw,format=YUY2,width=640,
 * height=480,framerate=30/1" (transfer full). NULL for a format we cannot
 * consume. */
gchar *segd_v4l2_mode_to_caps (const SegdV4l2Mode *mode);

/* "YUYV" for its code; buf must hold 5 bytes. */
const gchar *segd_v4l2_fourcc_to_string (guint32 fourcc, gchar *buf);

/* The code of a four-character string, 0 if it is not four characters. */
guint32 segd_v4l2_fourcc_from_string (const gchar *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SegdV4l2Device, segd_v4l2_device_free)

G_END_DECLS

#endif /* SEGD_V4L2_H */
