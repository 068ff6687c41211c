/* segd-source — builds the frame source as one GstBin with a ghost `src`
 * pad giving raw video: v4l2 (probed mode), test (videotestsrc), file (a
 * looping video, or a still image), uri, and demo (a photo of a person
 * panned and zoomed over time).
 */
#ifndef SEGD_SOURCE_H
#define SEGD_SOURCE_H

#include "segd-config.h"
#include "segd-v4l2.h"

#include <gst/gst.h>

G_BEGIN_DECLS

/* The photos the demo source looks for, in order, when source.demo-image
 * is empty: Debian's python3-skimage astronaut first. */
extern const gchar *const segd_demo_images[];

/* Builds the source bin for `type` (not AUTO). `device` is the probed V4L2
 * device for SEGD_SOURCE_V4L2 and ignored otherwise. A missing demo photo
 * falls back to videotestsrc with a warning. Returns a floating bin, or
 * NULL with `error` set (G_IO_ERROR) when an element is missing or the
 * device offers no usable mode. `description` (transfer full, may be NULL)
 * gets one line for the log. */
GstElement *segd_source_make (const SegdConfig *config, SegdSourceType type,
    const SegdV4l2Device *device, gchar **description, GError **error);

/* `uri` as it may be shown: in logs, STATUS (which `systemctl status`
 * shows to every user) and camera_state (sent to every subscriber). A
 * password in it (rtsp://user:password@camera/) becomes "***"; anything
 * that does not parse is returned as is. (transfer full) */
gchar *segd_uri_for_display (const gchar *uri);

/* The v4l2 `source` failed before its first frame while its camera stayed
 * present: the camera refused the mode. Later segd_source_make calls for
 * that device pick the next best mode, until every mode was refused. */
void segd_source_refused (GstElement *source);

G_END_DECLS

#endif /* SEGD_SOURCE_H */
