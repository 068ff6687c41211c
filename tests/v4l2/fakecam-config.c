/* fakecam-config.c — the control directory: how a test describes its
 * cameras to fakecam, and where fakecam writes what they were asked to do.
 *
 * $FAKECAM_DIR/videoN (key=value lines, listed at the top of fakecam.c)
 * becomes a Device, and is parsed again whenever its inode, size or mtime
 * changes, so a test can plug, unplug or reconfigure a camera while segd
 * runs. STREAMON and STREAMOFF are appended to $FAKECAM_DIR/videoN.log.
 * device_get and log_line are called with `lock` held.
 */
#include "fakecam-private.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Device devices[MAX_DEVICES];

const char *
control_dir (void)
{
  return getenv ("FAKECAM_DIR");
}

void
debug (const char *fmt, ...)
{
  va_list ap;

  if (!getenv ("FAKECAM_DEBUG"))
    return;
  va_start (ap, fmt);
  fputs ("fakecam: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

static uint32_t
fourcc_of (const char *s)
{
  return strlen (s) == 4 ? v4l2_fourcc (s[0], s[1], s[2], s[3]) : 0;
}

Format *
format_of (Device *dev, uint32_t fourcc, int add)
{
  for (unsigned i = 0; i < dev->n_formats; i++)
    if (dev->fmt[i].fourcc == fourcc)
      return &dev->fmt[i];
  if (!add || dev->n_formats == MAX_FORMATS)
    return NULL;
  dev->fmt[dev->n_formats].fourcc = fourcc;
  dev->fmt[dev->n_formats].n_sizes = 0;
  return &dev->fmt[dev->n_formats++];
}

/* "YUYV 640x480 30 15 7.5" */
static void
parse_mode (Device *dev, const char *line)
{
  char fcc[8];
  unsigned w, h;
  int used = 0;
  Format *f;
  const char *p;

  if (sscanf (line, "%7s %ux%u%n", fcc, &w, &h, &used) != 3)
    return;
  f = format_of (dev, fourcc_of (fcc), 1);
  if (!f || f->n_sizes == MAX_SIZES)
    return;
  f->size[f->n_sizes].w = w;
  f->size[f->n_sizes].h = h;
  f->size[f->n_sizes].n_rates = 0;
  for (p = line + used; *p;) {
    char *end;
    double fps = strtod (p, &end);
    unsigned n = f->size[f->n_sizes].n_rates;

    if (end == p)
      break;
    p = end;
    if (fps <= 0 || n == MAX_RATES)
      continue;
    /* 7.5 fps is 2/15 s; whole rates are 1/fps. */
    if (fps != (unsigned) fps)
      f->size[f->n_sizes].iv[n] = (struct v4l2_fract){2, (unsigned) (fps * 2)};
    else
      f->size[f->n_sizes].iv[n] = (struct v4l2_fract){1, (unsigned) fps};
    f->size[f->n_sizes].n_rates++;
  }
  if (f->size[f->n_sizes].n_rates)
    f->n_sizes++;
}

static const char *const default_modes[] = {
    "YUYV 640x480 30 24 20 15 10 7.5 5",
    "YUYV 160x120 30 15 5",
    "YUYV 320x240 30 15 5",
    "YUYV 800x600 24 20 15 10 5",
    "YUYV 1280x720 10 7.5 5",
    "YUYV 1920x1080 5",
    "MJPG 640x480 30 24 20 15 10 5",
    "MJPG 800x600 30 15",
    "MJPG 1280x720 30 24 15",
    "MJPG 1920x1080 30 15",
    NULL,
};

/* Reads $FAKECAM_DIR/videoN again if it changed. Lock held. */
Device *
device_get (int n)
{
  char path[PATH_MAX], line[512];
  Device *dev;
  struct stat st;
  FILE *f;

  if (n < 0 || n >= MAX_DEVICES || !control_dir ())
    return NULL;
  REAL ();
  dev = &devices[n];
  snprintf (path, sizeof path, "%s/video%d", control_dir (), n);
  if (real_stat (path, &st) < 0) {
    dev->present = 0;
    return dev;
  }
  if (dev->present && st.st_ino == dev->ino && st.st_size == dev->fsize
      && st.st_mtim.tv_sec == dev->mtime.tv_sec
      && st.st_mtim.tv_nsec == dev->mtime.tv_nsec)
    return dev;
  if (!(f = fopen (path, "re"))) {
    dev->present = 0;
    return dev;
  }
  memset (dev, 0, sizeof *dev);
  dev->ino = st.st_ino;
  dev->mtime = st.st_mtim;
  dev->fsize = st.st_size;
  dev->expbuf = 1;
  snprintf (dev->card, sizeof dev->card, "Fake Webcam C920");
  snprintf (dev->by_path, sizeof dev->by_path,
      "pci-0000:00:14.0-usb-0:%d:1.0-video-index0", n + 1);
  while (fgets (line, sizeof line, f)) {
    char *v = strchr (line, '=');

    line[strcspn (line, "\n")] = '\0';
    if (!v)
      continue;
    *v++ = '\0';
    if (!strcmp (line, "card"))
      snprintf (dev->card, sizeof dev->card, "%s", v);
    else if (!strcmp (line, "by-id"))
      snprintf (dev->by_id, sizeof dev->by_id, "%s", v);
    else if (!strcmp (line, "by-path"))
      snprintf (dev->by_path, sizeof dev->by_path, "%s", v);
    else if (!strcmp (line, "kind"))
      dev->meta = !strcmp (v, "meta");
    else if (!strcmp (line, "plug"))
      dev->plug = strtol (v, NULL, 10);
    else if (!strcmp (line, "fault"))
      dev->stall = !strcmp (v, "stall");
    else if (!strcmp (line, "expbuf"))
      dev->expbuf = strcmp (v, "no") != 0;
    else if (!strcmp (line, "mode"))
      parse_mode (dev, v);
    else if (!strcmp (line, "refuse")) {
      char fcc[8];

      if (!strcmp (v, "any"))
        dev->refuse_any = 1;
      else if (sscanf (v, "%7s %ux%u", fcc, &dev->refuse_w, &dev->refuse_h)
          >= 1)
        dev->refuse_fourcc = fourcc_of (fcc);
    }
  }
  fclose (f);
  if (!dev->n_formats && !dev->meta)
    for (unsigned i = 0; default_modes[i]; i++)
      parse_mode (dev, default_modes[i]);
  dev->present = 1;
  return dev;
}

void
log_line (int n, const char *fmt, ...)
{
  char path[PATH_MAX];
  va_list ap;
  FILE *f;

  snprintf (path, sizeof path, "%s/video%d.log", control_dir (), n);
  if (!(f = fopen (path, "ae")))
    return;
  va_start (ap, fmt);
  vfprintf (f, fmt, ap);
  va_end (ap);
  fputc ('\n', f);
  fclose (f);
}
