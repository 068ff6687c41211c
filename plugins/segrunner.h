/* segrunner — a segmentation model loaded with one session planned and
 * warmed for it: what a `segmenter` without `engine=NAME` runs its frames
 * on (the shared engine of segengine.h has its own).
 *
 * Reference-counted, and never changed after the load: the thread that
 * runs inference holds a reference for the duration of one run, so a new
 * model loaded off the streaming thread is swapped in by replacing one
 * pointer under the element's lock, and the old one goes when its last
 * run ends. Named after what it does rather than "session" because
 * seg_session_* is the library's own namespace.
 */
#ifndef SEG_RUNNER_H
#define SEG_RUNNER_H

#include <gst/gst.h>
#include <segmenter/seg.h>

G_BEGIN_DECLS

typedef struct _SegRunner SegRunner;

/* Loads the model at `path`, plans a session on `threads` threads (0: the
 * count, up to 4 and the CPUs, that runs this model fastest, timed now;
 * segthreads.h) and runs it once on a blank frame, so the first real frame
 * does not pay for cold caches and the latency query has a number before
 * any frame arrives. `generation` is the caller's tag for this load,
 * returned by seg_runner_get_generation. Returns a runner (transfer full:
 * seg_runner_unref), or NULL with *error set (transfer full, g_free) to a
 * sentence without the path when there is no path or the model does not
 * load or run. */
SegRunner *seg_runner_load (const gchar *path, gint threads, guint generation,
    gchar **error);

/* (transfer full) Thread-safe. */
SegRunner *seg_runner_ref (SegRunner *runner);

/* Thread-safe; NULL is a no-op. The last reference frees the model and
 * its session. */
void seg_runner_unref (SegRunner *runner);

/* The getters return what the load fixed; (transfer none), valid while the
 * caller holds a reference. */
const gchar *seg_runner_get_path (SegRunner *runner);
const seg_model_info *seg_runner_get_info (SegRunner *runner);
guint seg_runner_get_generation (SegRunner *runner);

/* The count threads=0 chose, or `threads`. */
gint seg_runner_get_threads (SegRunner *runner);

/* How long the warm-up run took. */
GstClockTime seg_runner_get_warm_latency (SegRunner *runner);

/* The session runs one frame at a time: the caller keeps it to one thread
 * (the element's inference thread). */
seg_session *seg_runner_get_session (SegRunner *runner);

G_END_DECLS

#endif /* SEG_RUNNER_H */
