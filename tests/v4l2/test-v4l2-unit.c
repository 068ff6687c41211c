/* Unit tests of segd's camera code that need no camera: the udev event
 * filter and device matching of segd-hotplug (the fake camera cannot send
 * udev events), and the mode choices the fake camera found wrong. */
#include "segd-hotplug.h"
#include "segd-v4l2.h"

#include <linux/videodev2.h>
#include <string.h>

#include "../check.h"

#define BY_ID "/dev/v4l/by-id/usb-Acme_Cam_123-video-index0"
#define BY_PATH "/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0"

static void
test_filter (void)
{
  /* udev's v4l_id writes ID_V4L_CAPABILITIES=:capture: for a camera. */
  CHECK (segd_hotplug_is_capture_add ("add", "video4linux", "/dev/video0",
             ":capture:"),
      "a camera");
  CHECK (!segd_hotplug_is_capture_add ("remove", "video4linux", "/dev/video0",
             ":capture:"),
      "removal");
  CHECK (!segd_hotplug_is_capture_add ("change", "video4linux", "/dev/video0",
             ":capture:"),
      "change");
  CHECK (!segd_hotplug_is_capture_add ("add", "video4linux", "/dev/video1",
             ":"),
      "a UVC metadata node");
  CHECK (!segd_hotplug_is_capture_add ("add", "video4linux", "/dev/video1",
             NULL),
      "no v4l_id result");
  CHECK (!segd_hotplug_is_capture_add ("add", "video4linux", "/dev/video2",
             ":video_output:"),
      "an output device");
  CHECK (!segd_hotplug_is_capture_add ("add", "video4linux", NULL, ":capture:"),
      "no node");
  CHECK (!segd_hotplug_is_capture_add ("add", "usb", "/dev/bus/usb/001/002",
             ":capture:"),
      "another subsystem");
}

static void
test_matches (void)
{
  const gchar *links = BY_PATH " " BY_ID;

  CHECK (segd_hotplug_matches (NULL, "/dev/video4", NULL), "any");
  CHECK (segd_hotplug_matches ("/dev/video0", "/dev/video0", links), "node");
  CHECK (!segd_hotplug_matches ("/dev/video1", "/dev/video0", links),
      "another node");
  CHECK (segd_hotplug_matches (BY_ID, "/dev/video2", links), "by-id");
  CHECK (segd_hotplug_matches (BY_PATH, "/dev/video2", links), "by-path");
  CHECK (!segd_hotplug_matches ("/dev/v4l/by-id/usb-Acme_Cam_123",
             "/dev/video2", links),
      "a prefix of a link");
  CHECK (!segd_hotplug_matches (BY_ID, "/dev/video2", NULL), "no links");
  CHECK (!segd_hotplug_matches (BY_ID, "/dev/video2", ""), "empty links");
}

static void
noop (const gchar *devnode, const gchar *devlinks, gpointer data)
{
}

static void
test_client (void)
{
  /* With or without udev running: no crash, no leak. */
  SegdHotplug *h = segd_hotplug_new (noop, NULL);

  segd_hotplug_free (h);
  segd_hotplug_free (NULL);
}

static void
test_modes (void)
{
  const guint32 yuyv = V4L2_PIX_FMT_YUYV, mjpg = V4L2_PIX_FMT_MJPEG;
  const SegdV4l2Mode modes[] = {
      {yuyv, 640, 480, 30, 1},
      {mjpg, 1280, 720, 30, 1},
      {mjpg, 1920, 1080, 30, 1},
      {yuyv, 1280, 736, 30, 1},
      {yuyv, 160, 120, 30, 1},
      {mjpg, 1920, 1080, 25, 1},
  };
  const SegdV4l2Mode *m;

  m = segd_v4l2_best_mode (modes, 3, 1024, 768, 30, 0);
  CHECK (m == &modes[2], "bigger over smaller: got %ux%u", m->width, m->height);
  m = segd_v4l2_best_mode (modes, 4, 1280, 720, 30, 0);
  CHECK (m == &modes[1],
      "an exact match over a raw mode a little bigger: "
      "got %ux%u",
      m->width, m->height);
  m = segd_v4l2_best_mode (modes + 4, 2, 1920, 1080, 30, 0);
  CHECK (m == &modes[5], "a little less rate over a tiny frame: got %ux%u",
      m->width, m->height);
}

int
main (void)
{
  test_filter ();
  test_matches ();
  test_client ();
  test_modes ();
  printf ("PASS\n");
  return 0;
}
