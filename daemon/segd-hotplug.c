/* segd-hotplug — a GUdevClient on the video4linux subsystem. udev's own
 * events (not the kernel's) are used: they come after the rules ran, so
 * the node already has its group and ACL and the by-id/by-path links
 * exist — opening on the kernel event races with both. The filtering is
 * kept in two pure functions so it is tested without udev.
 */
#include "segd-hotplug.h"

#include <string.h>

#ifdef HAVE_GUDEV
#include <gudev/gudev.h>
#endif

struct _SegdHotplug
{
#ifdef HAVE_GUDEV
  GUdevClient *client;
#endif
  SegdHotplugFunc func;
  gpointer user_data;
};

gboolean
segd_hotplug_is_capture_add (const gchar *action, const gchar *subsystem,
    const gchar *devnode, const gchar *capabilities)
{
  return !g_strcmp0 (action, "add") && !g_strcmp0 (subsystem, "video4linux")
      && devnode && g_str_has_prefix (devnode, "/dev/") && capabilities
      && strstr (capabilities, ":capture:");
}

gboolean
segd_hotplug_matches (const gchar *wanted, const gchar *devnode,
    const gchar *devlinks)
{
  g_auto (GStrv) links = NULL;

  if (!wanted)
    return TRUE;
  if (!g_strcmp0 (wanted, devnode))
    return TRUE;
  if (!devlinks)
    return FALSE;
  links = g_strsplit (devlinks, " ", -1);
  for (guint i = 0; links[i]; i++)
    if (links[i][0] && !strcmp (links[i], wanted))
      return TRUE;
  return FALSE;
}

#ifdef HAVE_GUDEV
static void
on_uevent (GUdevClient *client, const gchar *action, GUdevDevice *device,
    gpointer data)
{
  SegdHotplug *h = data;
  const gchar *devnode = g_udev_device_get_device_file (device);

  if (!segd_hotplug_is_capture_add (action,
          g_udev_device_get_subsystem (device), devnode,
          g_udev_device_get_property (device, "ID_V4L_CAPABILITIES")))
    return;
  g_debug ("udev: %s %s", action, devnode);
  h->func (devnode, g_udev_device_get_property (device, "DEVLINKS"),
      h->user_data);
}
#endif

SegdHotplug *
segd_hotplug_new (SegdHotplugFunc func, gpointer user_data)
{
#ifdef HAVE_GUDEV
  static const gchar *const subsystems[] = {"video4linux", NULL};
  SegdHotplug *h = g_new0 (SegdHotplug, 1);

  h->func = func;
  h->user_data = user_data;
  h->client = g_udev_client_new (subsystems);
  g_signal_connect (h->client, "uevent", G_CALLBACK (on_uevent), h);
  return h;
#else
  return NULL;
#endif
}

void
segd_hotplug_free (SegdHotplug *h)
{
  if (!h)
    return;
#ifdef HAVE_GUDEV
  g_signal_handlers_disconnect_by_data (h->client, h);
  g_object_unref (h->client);
#endif
  g_free (h);
}
