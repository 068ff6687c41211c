/* segd-v4l2 — device discovery and mode selection. Probing goes through
 * libv4l2 so devices that need its quirks still answer; formats libv4l2
 * merely emulates are skipped because v4l2src opens the raw device.
 */
#include "segd-v4l2.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  guint32 fourcc;
  const gchar *caps; /* media type and format */
  gboolean compressed;
} FormatMap;

static const FormatMap formats[] = {
    {V4L2_PIX_FMT_YUYV, "video/x-raw,format=YUY2", FALSE},
    {V4L2_PIX_FMT_NV12, "video/x-raw,format=NV12", FALSE},
    {V4L2_PIX_FMT_YUV420, "video/x-raw,format=I420", FALSE},
    {V4L2_PIX_FMT_UYVY, "video/x-raw,format=UYVY", FALSE},
    {V4L2_PIX_FMT_RGB24, "video/x-raw,format=RGB", FALSE},
    {V4L2_PIX_FMT_BGR24, "video/x-raw,format=BGR", FALSE},
    {V4L2_PIX_FMT_GREY, "video/x-raw,format=GRAY8", FALSE},
    {V4L2_PIX_FMT_MJPEG, "image/jpeg", TRUE},
    {V4L2_PIX_FMT_JPEG, "image/jpeg", TRUE},
};

static const FormatMap *
find_format (guint32 fourcc)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i].fourcc == fourcc)
      return &formats[i];
  return NULL;
}

const gchar *
segd_v4l2_fourcc_to_string (guint32 fourcc, gchar *buf)
{
  for (guint i = 0; i < 4; i++) {
    gchar c = (gchar) ((fourcc >> (8 * i)) & 0xff);

    buf[i] = g_ascii_isprint (c) ? c : '?';
  }
  buf[4] = '\0';
  return buf;
}

guint32
segd_v4l2_fourcc_from_string (const gchar *s)
{
  if (!s || strlen (s) != 4)
    return 0;
  return v4l2_fourcc (s[0], s[1], s[2], s[3]);
}

static int
xioctl (int fd, unsigned long request, void *arg)
{
  int r;

  do
    r = v4l2_ioctl (fd, request, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

static void
add_mode (SegdV4l2Device *dev, guint32 fourcc, guint w, guint h, guint fps_n,
    guint fps_d)
{
  SegdV4l2Mode m = {fourcc, w, h, fps_n, fps_d};

  g_array_append_val (dev->modes, m);
}

static void
probe_rates (int fd, SegdV4l2Device *dev, guint32 fourcc, guint w, guint h)
{
  struct v4l2_frmivalenum iv;
  gboolean any = FALSE;

  memset (&iv, 0, sizeof iv);
  iv.pixel_format = fourcc;
  iv.width = w;
  iv.height = h;
  for (iv.index = 0; xioctl (fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv) == 0;
       iv.index++) {
    if (iv.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
      if (iv.discrete.numerator)
        add_mode (dev, fourcc, w, h, iv.discrete.denominator,
            iv.discrete.numerator);
    } else {
      /* Stepwise or continuous: the fastest rate stands for the range. */
      if (iv.stepwise.min.numerator)
        add_mode (dev, fourcc, w, h, iv.stepwise.min.denominator,
            iv.stepwise.min.numerator);
      any = TRUE;
      break;
    }
    any = TRUE;
  }
  if (!any)
    add_mode (dev, fourcc, w, h, 0, 1);
}

static void
probe_sizes (int fd, SegdV4l2Device *dev, guint32 fourcc)
{
  struct v4l2_frmsizeenum fs;

  memset (&fs, 0, sizeof fs);
  fs.pixel_format = fourcc;
  for (fs.index = 0; xioctl (fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0;
       fs.index++) {
    if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
      probe_rates (fd, dev, fourcc, fs.discrete.width, fs.discrete.height);
    } else {
      /* A range: offer its corners and 640x480 when it fits. */
      probe_rates (fd, dev, fourcc, fs.stepwise.max_width,
          fs.stepwise.max_height);
      probe_rates (fd, dev, fourcc, fs.stepwise.min_width,
          fs.stepwise.min_height);
      if (fs.stepwise.min_width <= 640 && fs.stepwise.max_width >= 640
          && fs.stepwise.min_height <= 480 && fs.stepwise.max_height >= 480)
        probe_rates (fd, dev, fourcc, 640, 480);
      break;
    }
  }
}

SegdV4l2Device *
segd_v4l2_probe (const gchar *path, GError **error)
{
  g_autoptr (SegdV4l2Device) dev = NULL;
  struct v4l2_capability cap;
  struct v4l2_fmtdesc fd_desc;
  guint32 caps;
  int fd, err;

  fd = v4l2_open (path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", path,
        g_strerror (err));
    return NULL;
  }

  memset (&cap, 0, sizeof cap);
  if (xioctl (fd, VIDIOC_QUERYCAP, &cap) < 0) {
    err = errno;
    v4l2_close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "%s: not a V4L2 device (%s)", path, g_strerror (err));
    return NULL;
  }
  caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps
                                                 : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
    v4l2_close (fd);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "%s: not a streaming video capture device", path);
    return NULL;
  }

  dev = g_new0 (SegdV4l2Device, 1);
  dev->path = g_strdup (path);
  dev->card = g_strndup ((const gchar *) cap.card, sizeof cap.card);
  dev->driver = g_strndup ((const gchar *) cap.driver, sizeof cap.driver);
  dev->bus_info = g_strndup ((const gchar *) cap.bus_info, sizeof cap.bus_info);
  dev->modes = g_array_new (FALSE, FALSE, sizeof (SegdV4l2Mode));

  memset (&fd_desc, 0, sizeof fd_desc);
  fd_desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  for (fd_desc.index = 0; xioctl (fd, VIDIOC_ENUM_FMT, &fd_desc) == 0;
       fd_desc.index++) {
    if (fd_desc.flags & V4L2_FMT_FLAG_EMULATED)
      continue;
    if (!find_format (fd_desc.pixelformat))
      continue;
    probe_sizes (fd, dev, fd_desc.pixelformat);
  }
  v4l2_close (fd);
  return g_steal_pointer (&dev);
}

void
segd_v4l2_device_free (SegdV4l2Device *device)
{
  if (!device)
    return;
  g_free (device->path);
  g_free (device->card);
  g_free (device->driver);
  g_free (device->bus_info);
  if (device->modes)
    g_array_unref (device->modes);
  g_free (device);
}

static gint
compare_video_names (gconstpointer a, gconstpointer b)
{
  const gchar *x = *(const gchar *const *) a, *y = *(const gchar *const *) b;
  gint64 nx = g_ascii_strtoll (x + 5, NULL, 10);
  gint64 ny = g_ascii_strtoll (y + 5, NULL, 10);

  return nx < ny ? -1 : nx > ny;
}

static GPtrArray *
video_nodes (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open ("/dev", 0, NULL);
  const gchar *name;

  if (!dir)
    return names;
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "video") && g_ascii_isdigit (name[5]))
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_video_names);
  return names;
}

GPtrArray *
segd_v4l2_list (void)
{
  g_autoptr (GPtrArray) names = video_nodes ();
  GPtrArray *devices =
      g_ptr_array_new_with_free_func ((GDestroyNotify) segd_v4l2_device_free);

  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *path =
        g_build_filename ("/dev", (const gchar *) names->pdata[i], NULL);
    SegdV4l2Device *dev = segd_v4l2_probe (path, NULL);

    if (dev)
      g_ptr_array_add (devices, dev);
  }
  return devices;
}

gchar *
segd_v4l2_resolve (const gchar *name)
{
  static const gchar *const dirs[] = {"/dev/v4l/by-id", "/dev/v4l/by-path"};

  if (!name || !name[0]) {
    g_autoptr (GPtrArray) devices = segd_v4l2_list ();

    if (!devices->len)
      return NULL;
    return g_strdup (((SegdV4l2Device *) devices->pdata[0])->path);
  }
  if (name[0] == '/')
    return g_strdup (name);
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree gchar *path = g_build_filename (dirs[i], name, NULL);

    if (g_file_test (path, G_FILE_TEST_EXISTS))
      return g_steal_pointer (&path);
  }
  return g_build_filename (dirs[0], name, NULL);
}

/* Cost of delivering `m` when w x h at fps was asked for; lower is
 * better, in the order docs/daemon.md promises. An exact match costs
 * (almost) nothing and anything else at least 0.5. Missing frame rate
 * costs most (up to 100), then missing pixels (5 to 55, by the share of
 * the request not covered), then extra pixels (2 per doubling: they are
 * scaled down later, and a mode bigger in both directions must beat one
 * short in either), then decoding (1). */
static gdouble
mode_cost (const SegdV4l2Mode *m, guint w, guint h, guint fps)
{
  gdouble want_area = (gdouble) w * h, area = (gdouble) m->width * m->height;
  gdouble rate = m->fps_d ? (gdouble) m->fps_n / m->fps_d : 0;
  const FormatMap *f = find_format (m->fourcc);
  gboolean compressed = f && f->compressed;
  gdouble cost = 0.5;

  if (m->width == w && m->height == h && fabs (rate - fps) < 0.01)
    return compressed ? 0.01 : 0;
  if (rate + 0.01 < fps)
    cost += 100.0 * (fps - rate) / fps;
  else
    cost += 0.5 * (rate - fps) / fps;
  if (m->width < w || m->height < h)
    cost += 5.0
        + 50.0
            * (1.0
                - MIN ((gdouble) m->width / w, 1.0)
                    * MIN ((gdouble) m->height / h, 1.0));
  else
    cost += 2.0 * log2 (area / want_area);
  if (compressed)
    cost += 1.0;
  return cost;
}

const SegdV4l2Mode *
segd_v4l2_best_mode (const SegdV4l2Mode *modes, guint n, guint width,
    guint height, guint fps, guint32 fourcc)
{
  const SegdV4l2Mode *best = NULL;
  gdouble best_cost = INFINITY;

  for (guint i = 0; i < n; i++) {
    gdouble cost;

    if (fourcc && modes[i].fourcc != fourcc)
      continue;
    if (!find_format (modes[i].fourcc))
      continue;
    cost = mode_cost (&modes[i], width, height, fps);
    if (cost < best_cost) {
      best_cost = cost;
      best = &modes[i];
    }
  }
  return best;
}

gchar *
segd_v4l2_mode_to_caps (const SegdV4l2Mode *mode)
{
  const FormatMap *f = find_format (mode->fourcc);

  if (!f)
    return NULL;
  if (!mode->fps_n)
    return g_strdup_printf ("%s,width=%u,height=%u", f->caps, mode->width,
        mode->height);
  return g_strdup_printf ("%s,width=%u,height=%u,framerate=%u/%u", f->caps,
      mode->width, mode->height, mode->fps_n, mode->fps_d);
}
