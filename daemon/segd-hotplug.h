/* segd-hotplug — follows V4L2 capture devices appearing through udev, so
 * a camera that comes back is opened at once rather than at the next step
 * of the retry backoff (which stays as the fallback: without udev, in a
 * container, or in a sandbox without AF_NETLINK, no event ever comes).
 */
#ifndef SEGD_HOTPLUG_H
#define SEGD_HOTPLUG_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SegdHotplug SegdHotplug;

/* `devnode` is the device node ("/dev/video0"), `devlinks` udev's
 * space-separated links to it (may be NULL). */
typedef void (*SegdHotplugFunc) (const gchar *devnode, const gchar *devlinks,
    gpointer user_data);

/* Calls `func` on the thread-default main context for every V4L2 capture
 * device udev announces, once udev has created its node and links.
 * Returns NULL when segd was built without libgudev. (transfer full) */
SegdHotplug *segd_hotplug_new (SegdHotplugFunc func, gpointer user_data);

/* NULL is a no-op. */
void segd_hotplug_free (SegdHotplug *hotplug);

/* Whether a udev event is a capture device appearing: action "add" on a
 * video4linux node whose ID_V4L_CAPABILITIES (from udev's v4l_id)
 * includes ":capture:" — not the metadata node of a UVC camera, not an
 * output or codec device. */
gboolean segd_hotplug_is_capture_add (const gchar *action,
    const gchar *subsystem, const gchar *devnode, const gchar *capabilities);

/* Whether the device `devnode` with `devlinks` is the configured
 * `wanted` (a node or one of its links, e.g. /dev/v4l/by-id/...); NULL
 * `wanted` matches any device. */
gboolean segd_hotplug_matches (const gchar *wanted, const gchar *devnode,
    const gchar *devlinks);

G_END_DECLS

#endif /* SEGD_HOTPLUG_H */
