/* segd-preview — JPEG snapshots of the newest frame with its mask tinted
 * in, made only when someone asks for one.
 *
 * Nobody asking costs the streaming thread one atomic read per frame.
 * A request arms a flag; the next frame with a mask that reaches the sink
 * is kept (one buffer reference, taken on the streaming thread) and
 * handed to the main loop, which scales it to at most PREVIEW_WIDTH
 * pixels, tints the mask in and encodes it. Any number of viewers share
 * one encoded frame per half second.
 */
#ifndef SEGD_PREVIEW_H
#define SEGD_PREVIEW_H

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _SegdPreview SegdPreview;

/* Probes the sink pad of the element called "sink" in `pipeline`.
 * (transfer full): free with segd_preview_free once the pipeline is in
 * NULL state. */
SegdPreview *segd_preview_new (GstElement *pipeline);

/* NULL is a no-op. Pending requests get only their `destroy`. */
void segd_preview_free (SegdPreview *preview);

/* Called on the main loop with the JPEG (transfer none: ref it to keep
 * it), or NULL when no frame has been seen yet. `stale` is TRUE when no
 * new frame came within a second (the camera is waiting, idle or
 * stalled) and `jpeg` is the last one there was. */
typedef void (
    *SegdPreviewFunc) (GBytes *jpeg, gboolean stale, gpointer user_data);

/* Asks for a snapshot: `func` runs once, from this call when a fresh one
 * is at hand, else from the main loop within about a second. Then
 * `destroy` (may be NULL) frees `user_data`. */
void segd_preview_request (SegdPreview *preview, SegdPreviewFunc func,
    gpointer user_data, GDestroyNotify destroy);

G_END_DECLS

#endif /* SEGD_PREVIEW_H */
