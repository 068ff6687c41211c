/* fakecam — an LD_PRELOAD library that plays a USB webcam for the tests,
 * so the real, unmodified v4l2src, libv4l2 and segd open and stream from
 * it on machines without /dev/video* or the right to load vivid.
 *
 * It interposes the libc entry points those libraries were seen to use
 * (nm -D, strace): open/openat (also through syscall(), which libv4l2
 * uses for everything), the stat family, access, readlink, opendir/readdir,
 * ioctl, mmap, poll/ppoll, read, close, and dup/dup2/dup3/fcntl (v4l2src's
 * buffer pool works on a dup of the device fd). A path /dev/videoN, or a
 * /dev/v4l/by-{id,path} link, is the fake camera N while the control file
 * $FAKECAM_DIR/videoN exists; every other path and fd goes to libc.
 *
 * An open camera is an eventfd: it is readable exactly while a filled
 * buffer waits to be dequeued, so poll works without further help. A
 * thread per streaming fd fills queued buffers at the mode's frame rate
 * with a photo ($FAKECAM_SCENE, PNG) panning a few pixels a frame, as YUYV
 * or as JPEG. Buffers are memfds, so mmap of the device maps them and
 * EXPBUF hands out a dup (uvcvideo exports dmabufs, and v4l2src's auto
 * io-mode picks DMABUF when EXPBUF exists).
 *
 * The control file (key=value lines) is read again whenever it changes:
 *   card=, by-id=, by-path=      names; kind=meta for the metadata node
 *   mode=FOURCC WxH FPS...       one line per size (default: a C920-like
 *                                YUYV + MJPG list); FPS may be 7.5
 *   plug=N                       a new value means a new device: fds of
 *                                an earlier plug are dead
 *   fault=stall                  streaming, but no frames
 *   refuse=FOURCC WxH | any      STREAMON fails with ENOSPC for that mode,
 *                                as uvcvideo does without USB bandwidth
 *   expbuf=no                    EXPBUF answers ENOTTY (MMAP io-mode)
 * Removing the file unplugs the camera: the node is gone, open fds answer
 * ENODEV to every ioctl and POLLERR|POLLHUP|POLLPRI to poll, as V4L2 does
 * for an unregistered device. STREAMON and STREAMOFF are appended to
 * $FAKECAM_DIR/videoN.log ("streamon YUYV 640x480 1/30").
 *
 * What a real uvcvideo does and this does not: USERPTR and DMABUF import,
 * CREATE_BUFS (answered ENOTTY), read(), controls other than brightness
 * and contrast. Only poll and ppoll see a camera's state: select and
 * epoll would see a plain eventfd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* The fortified open() is an inline wrapper we could not define, and
 * with 64-bit file offsets the headers rename open to open64: we define
 * both names ourselves. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/videodev2.h>
#include <png.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define FC_API __attribute__ ((visibility ("default")))

/* Entry points the headers declare only under _FORTIFY_SOURCE. */
int __open_2 (const char *path, int flags);
int __open64_2 (const char *path, int flags);
int __openat_2 (int dirfd, const char *path, int flags);
int __openat64_2 (int dirfd, const char *path, int flags);
#define MAX_DEVICES 16
#define MAX_FORMATS 4
#define MAX_SIZES 16
#define MAX_RATES 12
#define MAX_BUFFERS 32
#define MAX_FDS 4096
#define OFFSET_SHIFT 24         /* mmap cookie: buffer index << 24 */

/* ---- the real functions ---- */

static int (*real_open) (const char *, int, ...);
static int (*real_openat) (int, const char *, int, ...);
static int (*real_close) (int);
static int (*real_ioctl) (int, unsigned long, ...);
static void *(*real_mmap) (void *, size_t, int, int, int, off_t);
static int (*real_poll) (struct pollfd *, nfds_t, int);
static int (*real_ppoll) (struct pollfd *, nfds_t, const struct timespec *,
    const sigset_t *);
static ssize_t (*real_read) (int, void *, size_t);
static int (*real_stat) (const char *, struct stat *);
static int (*real_lstat) (const char *, struct stat *);
static int (*real_fstat) (int, struct stat *);
static int (*real_fstatat) (int, const char *, struct stat *, int);
static int (*real_statx) (int, const char *, int, unsigned, struct statx *);
static int (*real_access) (const char *, int);
static int (*real_faccessat) (int, const char *, int, int);
static ssize_t (*real_readlink) (const char *, char *, size_t);
static ssize_t (*real_readlinkat) (int, const char *, char *, size_t);
static DIR *(*real_opendir) (const char *);
static struct dirent *(*real_readdir) (DIR *);
static int (*real_closedir) (DIR *);
static long (*real_syscall) (long, ...);
static int (*real_dup) (int);
static int (*real_dup2) (int, int);
static int (*real_dup3) (int, int, int);
static int (*real_fcntl) (int, int, ...);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void *
next_symbol (const char *name)
{
  void *p = dlsym (RTLD_NEXT, name);

  if (!p) {
    fprintf (stderr, "fakecam: no next %s\n", name);
    abort ();
  }
  return p;
}

static void
init_real (void)
{
  real_open = next_symbol ("open");
  real_openat = next_symbol ("openat");
  real_close = next_symbol ("close");
  real_ioctl = next_symbol ("ioctl");
  real_mmap = next_symbol ("mmap");
  real_poll = next_symbol ("poll");
  real_ppoll = next_symbol ("ppoll");
  real_read = next_symbol ("read");
  real_stat = next_symbol ("stat");
  real_lstat = next_symbol ("lstat");
  real_fstat = next_symbol ("fstat");
  real_fstatat = next_symbol ("fstatat");
  real_statx = next_symbol ("statx");
  real_access = next_symbol ("access");
  real_faccessat = next_symbol ("faccessat");
  real_readlink = next_symbol ("readlink");
  real_readlinkat = next_symbol ("readlinkat");
  real_opendir = next_symbol ("opendir");
  real_readdir = next_symbol ("readdir");
  real_closedir = next_symbol ("closedir");
  real_syscall = next_symbol ("syscall");
  real_dup = next_symbol ("dup");
  real_dup2 = next_symbol ("dup2");
  real_dup3 = next_symbol ("dup3");
  real_fcntl = next_symbol ("fcntl64");
}

#define REAL() pthread_once (&init_once, init_real)

/* ---- the cameras' descriptions ---- */

typedef struct
{
  uint32_t fourcc;
  unsigned n_sizes;
  struct
  {
    unsigned w, h, n_rates;
    struct v4l2_fract iv[MAX_RATES]; /* frame intervals, fastest first */
  } size[MAX_SIZES];
} Format;

typedef struct
{
  int present;
  ino_t ino;
  struct timespec mtime;
  off_t fsize;
  char card[32], by_id[128], by_path[128];
  int meta, stall, expbuf;
  long plug;
  uint32_t refuse_fourcc;       /* 0: none */
  unsigned refuse_w, refuse_h;  /* 0 x 0: every size */
  int refuse_any;
  unsigned n_formats;
  Format fmt[MAX_FORMATS];
} Device;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static Device devices[MAX_DEVICES];

static const char *
control_dir (void)
{
  return getenv ("FAKECAM_DIR");
}

static void
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

static Format *
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
      f->size[f->n_sizes].iv[n] = (struct v4l2_fract) { 2,
        (unsigned) (fps * 2) };
    else
      f->size[f->n_sizes].iv[n] = (struct v4l2_fract) { 1, (unsigned) fps };
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
static Device *
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
      else if (sscanf (v, "%7s %ux%u", fcc, &dev->refuse_w,
              &dev->refuse_h) >= 1)
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

/* ---- paths ---- */

enum { PATH_NONE, PATH_NODE, PATH_LINK, PATH_DIR };

/* What `path` is to us: a camera node, a by-id/by-path link to camera
 * *n, one of the /dev/v4l directories, or none of ours. Lock held. */
static int
classify (const char *path, int *n)
{
  static const char *const dirs[] = { "/dev/v4l", "/dev/v4l/by-id",
    "/dev/v4l/by-path"
  };
  char buf[PATH_MAX];
  const char *name;
  char *end;
  size_t len;

  *n = -1;
  if (!path || !control_dir () || strncmp (path, "/dev/", 5))
    return PATH_NONE;
  /* "/dev/v4l/by-id/" is the directory. */
  len = strlen (path);
  if (len >= sizeof buf)
    return PATH_NONE;
  memcpy (buf, path, len + 1);
  while (len > 1 && buf[len - 1] == '/')
    buf[--len] = '\0';
  path = buf;
  if (!strncmp (path, "/dev/video", 10) && path[10] >= '0'
      && path[10] <= '9') {
    long v = strtol (path + 10, &end, 10);

    if (*end || v >= MAX_DEVICES)
      return PATH_NONE;
    *n = (int) v;
    return PATH_NODE;
  }
  for (unsigned i = 0; i < 3; i++)
    if (!strcmp (path, dirs[i]))
      return PATH_DIR;
  if (!strncmp (path, "/dev/v4l/by-id/", 15))
    name = path + 15;
  else if (!strncmp (path, "/dev/v4l/by-path/", 17))
    name = path + 17;
  else
    return PATH_NONE;
  for (int i = 0; i < MAX_DEVICES; i++) {
    Device *dev = device_get (i);

    if (dev->present && ((name == path + 15 && dev->by_id[0]
                && !strcmp (dev->by_id, name)) || (name == path + 17
                && dev->by_path[0] && !strcmp (dev->by_path, name)))) {
      *n = i;
      return PATH_LINK;
    }
  }
  return PATH_LINK;             /* ours, but no such link (n = -1) */
}

static int
any_present (void)
{
  for (int i = 0; i < MAX_DEVICES; i++)
    if (device_get (i)->present)
      return 1;
  return 0;
}

/* stat of a path of ours: 1 and *st filled, 0 not ours, -1 errno set. */
static int
fake_stat (const char *path, struct stat *st, int follow)
{
  int n, kind;
  Device *dev;

  pthread_mutex_lock (&lock);
  kind = classify (path, &n);
  dev = n >= 0 ? device_get (n) : NULL;
  pthread_mutex_unlock (&lock);
  if (kind == PATH_NONE)
    return 0;
  if (kind == PATH_DIR) {
    struct stat real;

    REAL ();
    if (real_stat (path, &real) == 0)
      return 0;
    pthread_mutex_lock (&lock);
    n = any_present ();
    pthread_mutex_unlock (&lock);
    if (!n) {
      errno = ENOENT;
      return -1;
    }
    memset (st, 0, sizeof *st);
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    st->st_ino = 0x7fa0;
    return 1;
  }
  if (!dev || !dev->present) {
    errno = ENOENT;
    return -1;
  }
  memset (st, 0, sizeof *st);
  st->st_nlink = 1;
  st->st_gid = 44;              /* video */
  st->st_blksize = 4096;
  if (kind == PATH_LINK && !follow) {
    st->st_mode = S_IFLNK | 0777;
    st->st_size = 12;           /* "../../videoN" */
    st->st_ino = 0x7fb0 + n;
  } else {
    st->st_mode = S_IFCHR | 0660;
    st->st_rdev = makedev (81, n);
    st->st_ino = 0x7fc0 + n;
  }
  st->st_dev = makedev (0, 5);
  return 1;
}

/* ---- open cameras ---- */

typedef struct
{
  int memfd;
  uint8_t *data;
  size_t size;
  int queued, done;
  struct v4l2_buffer vb;        /* what QUERYBUF/DQBUF report */
} Buffer;

typedef struct Cam
{
  int fd;                       /* the first fd, for messages */
  int efd;                      /* our own dup of the eventfd */
  int refs;                     /* fds (dups included) open on it */
  int n;
  long plug;
  int nonblock, dead;
  uint32_t fourcc;
  unsigned w, h;
  struct v4l2_fract iv;
  unsigned n_buffers;
  Buffer buf[MAX_BUFFERS];
  unsigned inq[MAX_BUFFERS], n_in;      /* FIFO of queued indices */
  unsigned doneq[MAX_BUFFERS], n_done;
  int streaming, stop;
  uint32_t sequence;
  pthread_t thread;
  int brightness, contrast;
  /* The scene scaled to cover the frame plus the panning margin. */
  uint8_t *canvas;
  unsigned cw, ch, margin;
} Cam;

static Cam *cams[MAX_FDS];
static _Atomic int n_cams;

static Cam *
cam_of (int fd)
{
  if (fd < 0 || fd >= MAX_FDS || !atomic_load (&n_cams))
    return NULL;
  return __atomic_load_n (&cams[fd], __ATOMIC_ACQUIRE);
}

/* Dead: unplugged, or plugged again since this fd was opened. */
static int
cam_dead (Cam *c)
{
  Device *dev;

  if (c->dead)
    return 1;
  dev = device_get (c->n);
  if (!dev->present || dev->plug != c->plug) {
    debug ("video%d: fd %d is gone", c->n, c->fd);
    c->dead = 1;
    pthread_cond_broadcast (&cond);
  }
  return c->dead;
}

static int
open_camera (int n, int flags)
{
  Device *dev;
  Cam *c;
  int fd;

  REAL ();
  pthread_mutex_lock (&lock);
  dev = device_get (n);
  if (!dev || !dev->present) {
    pthread_mutex_unlock (&lock);
    errno = ENOENT;
    return -1;
  }
  fd = eventfd (0, EFD_NONBLOCK | EFD_SEMAPHORE
      | (flags & O_CLOEXEC ? EFD_CLOEXEC : 0));
  if (fd < 0 || fd >= MAX_FDS) {
    if (fd >= 0)
      real_close (fd);
    pthread_mutex_unlock (&lock);
    errno = EMFILE;
    return -1;
  }
  c = calloc (1, sizeof *c);
  c->fd = fd;
  c->refs = 1;
  c->efd = real_fcntl (fd, F_DUPFD_CLOEXEC, MAX_FDS);
  if (c->efd < 0)
    c->efd = real_fcntl (fd, F_DUPFD_CLOEXEC, 0);
  c->n = n;
  c->plug = dev->plug;
  c->nonblock = !!(flags & O_NONBLOCK);
  if (!dev->meta) {
    /* The driver's default: the first format at its first size. */
    c->fourcc = dev->fmt[0].fourcc;
    c->w = dev->fmt[0].size[0].w;
    c->h = dev->fmt[0].size[0].h;
    c->iv = dev->fmt[0].size[0].iv[0];
  }
  __atomic_store_n (&cams[fd], c, __ATOMIC_RELEASE);
  atomic_fetch_add (&n_cams, 1);
  pthread_mutex_unlock (&lock);
  debug ("open video%d as fd %d", n, fd);
  return fd;
}

/* ---- frames ---- */

static struct
{
  int tried;
  uint8_t *rgb;
  unsigned w, h;
} scene;

/* The photo, once; a grey frame with a square if there is none. */
static void
scene_load (void)
{
  const char *path = getenv ("FAKECAM_SCENE");
  png_image img;

  if (scene.tried)
    return;
  scene.tried = 1;
  memset (&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (path && png_image_begin_read_from_file (&img, path)) {
    img.format = PNG_FORMAT_RGB;
    scene.rgb = malloc (PNG_IMAGE_SIZE (img));
    if (scene.rgb && png_image_finish_read (&img, NULL, scene.rgb, 0, NULL)) {
      scene.w = img.width;
      scene.h = img.height;
      return;
    }
    free (scene.rgb);
    png_image_free (&img);
  }
  scene.w = scene.h = 64;
  scene.rgb = malloc (64 * 64 * 3);
  for (unsigned i = 0; i < 64 * 64; i++)
    memset (scene.rgb + i * 3, (i / 64 > 20 && i / 64 < 44 && i % 64 > 20
            && i % 64 < 44) ? 220 : 90, 3);
}

/* Scales the scene (nearest neighbour) to cover w + 2 * margin by h. */
static void
canvas_make (Cam *c)
{
  double s;

  scene_load ();
  c->margin = c->w / 16;
  s = (double) (c->w + 2 * c->margin) / scene.w;
  if ((double) c->h / scene.h > s)
    s = (double) c->h / scene.h;
  c->cw = (unsigned) (scene.w * s + 0.5);
  c->ch = (unsigned) (scene.h * s + 0.5);
  if (c->cw < c->w + 2 * c->margin)
    c->cw = c->w + 2 * c->margin;
  if (c->ch < c->h)
    c->ch = c->h;
  c->canvas = malloc ((size_t) c->cw * c->ch * 3);
  for (unsigned y = 0; y < c->ch; y++) {
    unsigned sy = (unsigned) (y / s);

    if (sy >= scene.h)
      sy = scene.h - 1;
    for (unsigned x = 0; x < c->cw; x++) {
      unsigned sx = (unsigned) (x / s);

      if (sx >= scene.w)
        sx = scene.w - 1;
      memcpy (c->canvas + ((size_t) y * c->cw + x) * 3,
          scene.rgb + ((size_t) sy * scene.w + sx) * 3, 3);
    }
  }
}

/* The top-left row of frame `seq`: the view pans 2 px a frame back and
 * forth over the margin. */
static const uint8_t *
frame_row (Cam *c, uint32_t seq, unsigned y)
{
  unsigned span = c->margin > 0 ? 2 * c->margin : 1;
  unsigned t = (seq * 2) % (2 * span);
  unsigned x0 = t < span ? t : 2 * span - t;
  unsigned y0 = (c->ch - c->h) / 2;

  return c->canvas + ((size_t) (y0 + y) * c->cw + x0) * 3;
}

static uint8_t
clamp8 (int v)
{
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) v;
}

static size_t
render_yuyv (Cam *c, uint32_t seq, uint8_t *out)
{
  for (unsigned y = 0; y < c->h; y++) {
    const uint8_t *p = frame_row (c, seq, y);
    uint8_t *o = out + (size_t) y * c->w * 2;

    for (unsigned x = 0; x + 1 < c->w; x += 2, p += 6, o += 4) {
      int r = (p[0] + p[3]) / 2, g = (p[1] + p[4]) / 2, b = (p[2] + p[5]) / 2;

      /* BT.601, limited range. */
      o[0] = clamp8 (16 + ((66 * p[0] + 129 * p[1] + 25 * p[2] + 128) >> 8));
      o[2] = clamp8 (16 + ((66 * p[3] + 129 * p[4] + 25 * p[5] + 128) >> 8));
      o[1] = clamp8 (128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8));
      o[3] = clamp8 (128 + ((112 * r - 94 * g - 18 * b + 128) >> 8));
    }
  }
  return (size_t) c->w * c->h * 2;
}

static size_t
render_jpeg (Cam *c, uint32_t seq, uint8_t *out, size_t size)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  unsigned char *mem = out;
  unsigned long len = (unsigned long) size;

  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &mem, &len);
  cinfo.image_width = c->w;
  cinfo.image_height = c->h;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 80, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  for (unsigned y = 0; y < c->h; y++) {
    JSAMPROW row = (JSAMPROW) frame_row (c, seq, y);

    jpeg_write_scanlines (&cinfo, &row, 1);
  }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  if (mem != out) {
    /* Did not fit: libjpeg grew its own buffer. Truncated, as a camera
     * would send a broken frame. */
    memcpy (out, mem, size);
    free (mem);
    return size;
  }
  return len;
}

static void
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

static void
timespec_add_ns (struct timespec *t, uint64_t ns)
{
  t->tv_nsec += (long) (ns % 1000000000u);
  t->tv_sec += (time_t) (ns / 1000000000u) + t->tv_nsec / 1000000000;
  t->tv_nsec %= 1000000000;
}

static void
wake (Cam *c)
{
  uint64_t one = 1;

  if (write (c->efd, &one, sizeof one) < 0)
    debug ("fd %d: cannot signal: %s", c->fd, strerror (errno));
}

/* The camera: one frame per interval into the oldest queued buffer. */
static void *
stream_thread (void *data)
{
  Cam *c = data;
  uint64_t period = (uint64_t) c->iv.numerator * 1000000000u
      / c->iv.denominator;
  struct timespec next;

  clock_gettime (CLOCK_MONOTONIC, &next);
  pthread_mutex_lock (&lock);
  while (!c->stop) {
    Device *dev;
    Buffer *b;
    unsigned idx;
    size_t used;
    struct timespec now;

    timespec_add_ns (&next, period);
    while (!c->stop && pthread_cond_timedwait (&cond, &lock, &next) == 0) {
    }
    if (c->stop)
      break;
    if (cam_dead (c)) {
      wake (c);
      break;
    }
    dev = device_get (c->n);
    if (dev->stall)
      continue;
    if (!c->n_in) {
      c->sequence++;            /* a frame the client had no buffer for */
      continue;
    }
    idx = c->inq[0];
    memmove (c->inq, c->inq + 1, --c->n_in * sizeof c->inq[0]);
    b = &c->buf[idx];
    pthread_mutex_unlock (&lock);
    if (c->fourcc == V4L2_PIX_FMT_YUYV)
      used = render_yuyv (c, c->sequence, b->data);
    else
      used = render_jpeg (c, c->sequence, b->data, b->vb.length);
    clock_gettime (CLOCK_MONOTONIC, &now);
    pthread_mutex_lock (&lock);
    b->queued = 0;
    b->done = 1;
    b->vb.bytesused = (uint32_t) used;
    b->vb.sequence = c->sequence++;
    b->vb.timestamp.tv_sec = now.tv_sec;
    b->vb.timestamp.tv_usec = now.tv_nsec / 1000;
    c->doneq[c->n_done++] = idx;
    wake (c);
    pthread_cond_broadcast (&cond);
  }
  pthread_mutex_unlock (&lock);
  return NULL;
}

/* Lock held; drops it while joining. */
static void
stream_stop (Cam *c)
{
  uint64_t v;

  if (!c->streaming)
    return;
  c->stop = 1;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
  pthread_join (c->thread, NULL);
  pthread_mutex_lock (&lock);
  c->streaming = 0;
  c->stop = 0;
  c->n_in = c->n_done = 0;
  for (unsigned i = 0; i < c->n_buffers; i++)
    c->buf[i].queued = c->buf[i].done = 0;
  while (real_read (c->efd, &v, sizeof v) > 0) {
  }
  free (c->canvas);
  c->canvas = NULL;
  log_line (c->n, "streamoff");
  pthread_cond_broadcast (&cond);
}

static void
buffers_free (Cam *c)
{
  for (unsigned i = 0; i < c->n_buffers; i++) {
    munmap (c->buf[i].data, c->buf[i].size);
    real_close (c->buf[i].memfd);
  }
  c->n_buffers = 0;
}

/* `fd` is going away; the camera with it when it was the last one. */
static void
close_camera (Cam *c, int fd)
{
  pthread_mutex_lock (&lock);
  __atomic_store_n (&cams[fd], NULL, __ATOMIC_RELEASE);
  atomic_fetch_sub (&n_cams, 1);
  if (--c->refs > 0) {
    pthread_mutex_unlock (&lock);
    return;
  }
  stream_stop (c);
  buffers_free (c);
  real_close (c->efd);
  pthread_mutex_unlock (&lock);
  debug ("close video%d (fd %d)", c->n, fd);
  free (c);
}

/* A dup of a camera fd is the same open camera, as with a real node. */
static int
dup_camera (Cam *c, int newfd)
{
  if (newfd < 0)
    return newfd;
  if (newfd >= MAX_FDS) {
    real_close (newfd);
    errno = EMFILE;
    return -1;
  }
  pthread_mutex_lock (&lock);
  c->refs++;
  __atomic_store_n (&cams[newfd], c, __ATOMIC_RELEASE);
  atomic_fetch_add (&n_cams, 1);
  pthread_mutex_unlock (&lock);
  debug ("dup video%d as fd %d", c->n, newfd);
  return newfd;
}

/* ---- ioctls ---- */

static size_t
image_size (uint32_t fourcc, unsigned w, unsigned h)
{
  return (size_t) w * h * 2;    /* YUYV, and uvcvideo's MJPEG maximum */
}

/* uvcvideo's nearest size: the largest overlap with the request. */
static void
nearest (Device *dev, uint32_t *fourcc, unsigned *w, unsigned *h,
    Format **fp, unsigned *si)
{
  Format *f = format_of (dev, *fourcc, 0);
  uint64_t best = UINT64_MAX;

  if (!f)
    f = &dev->fmt[0];
  *si = 0;
  for (unsigned i = 0; i < f->n_sizes; i++) {
    uint64_t fw = f->size[i].w, fh = f->size[i].h;
    uint64_t o = (fw < *w ? fw : *w) * (fh < *h ? fh : *h);
    uint64_t d = fw * fh + (uint64_t) *w * *h - 2 * o;

    if (d < best) {
      best = d;
      *si = i;
    }
  }
  *fourcc = f->fourcc;
  *w = f->size[*si].w;
  *h = f->size[*si].h;
  *fp = f;
}

static void
fill_pix (struct v4l2_pix_format *pix, uint32_t fourcc, unsigned w,
    unsigned h)
{
  memset (pix, 0, sizeof *pix);
  pix->width = w;
  pix->height = h;
  pix->pixelformat = fourcc;
  pix->field = V4L2_FIELD_NONE;
  pix->bytesperline = fourcc == V4L2_PIX_FMT_YUYV ? w * 2 : 0;
  pix->sizeimage = (uint32_t) image_size (fourcc, w, h);
  pix->colorspace = V4L2_COLORSPACE_SRGB;
  pix->priv = V4L2_PIX_FMT_PRIV_MAGIC;
  pix->ycbcr_enc = V4L2_YCBCR_ENC_601;
  pix->xfer_func = V4L2_XFER_FUNC_SRGB;
}

static const struct
{
  uint32_t id;
  const char *name;
  int min, max, def;
} controls[] = {
  {V4L2_CID_BRIGHTNESS, "Brightness", 0, 255, 128},
  {V4L2_CID_CONTRAST, "Contrast", 0, 255, 128},
};

static int *
control_value (Cam *c, uint32_t id)
{
  return id == V4L2_CID_BRIGHTNESS ? &c->brightness
      : id == V4L2_CID_CONTRAST ? &c->contrast : NULL;
}

static int
find_control (uint32_t id)
{
  uint32_t base = id & ~(V4L2_CTRL_FLAG_NEXT_CTRL
      | V4L2_CTRL_FLAG_NEXT_COMPOUND);

  for (unsigned i = 0; i < 2; i++)
    if (id & V4L2_CTRL_FLAG_NEXT_CTRL ? controls[i].id > base
        : controls[i].id == base)
      return (int) i;
  return -1;
}

static int
fail (int err)
{
  errno = err;
  return -1;
}

static int
cam_ioctl_locked (Cam *c, Device *dev, unsigned long req, void *arg)
{
  switch (req) {
    case VIDIOC_QUERYCAP:{
      struct v4l2_capability *cap = arg;
      uint32_t caps = (dev->meta ? V4L2_CAP_META_CAPTURE
          : V4L2_CAP_VIDEO_CAPTURE) | V4L2_CAP_STREAMING
          | V4L2_CAP_EXT_PIX_FORMAT;

      memset (cap, 0, sizeof *cap);
      snprintf ((char *) cap->driver, sizeof cap->driver, "uvcvideo");
      snprintf ((char *) cap->card, sizeof cap->card, "%s", dev->card);
      snprintf ((char *) cap->bus_info, sizeof cap->bus_info,
          "usb-0000:00:14.0-%d", c->n / 2 + 1);
      cap->version = 0x060100;
      cap->device_caps = caps;
      cap->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_META_CAPTURE
          | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT
          | V4L2_CAP_DEVICE_CAPS;
      return 0;
    }
    case VIDIOC_G_PRIORITY:
      *(uint32_t *) arg = V4L2_PRIORITY_DEFAULT;
      return 0;
    case VIDIOC_S_PRIORITY:
      return 0;
    default:
      break;
  }

  if (dev->meta)
    return fail (ENOTTY);       /* the metadata node: not for us */

  switch (req) {
    case VIDIOC_ENUM_FMT:{
      struct v4l2_fmtdesc *d = arg;
      uint32_t index = d->index, type = d->type;

      if (type != V4L2_BUF_TYPE_VIDEO_CAPTURE || index >= dev->n_formats)
        return fail (EINVAL);
      memset (d, 0, sizeof *d);
      d->index = index;
      d->type = type;
      d->pixelformat = dev->fmt[index].fourcc;
      if (d->pixelformat == V4L2_PIX_FMT_MJPEG) {
        d->flags = V4L2_FMT_FLAG_COMPRESSED;
        snprintf ((char *) d->description, sizeof d->description,
            "Motion-JPEG");
      } else {
        snprintf ((char *) d->description, sizeof d->description,
            "YUYV 4:2:2");
      }
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES:{
      struct v4l2_frmsizeenum *fs = arg;
      Format *f = format_of (dev, fs->pixel_format, 0);

      if (!f || fs->index >= f->n_sizes)
        return fail (EINVAL);
      fs->type = V4L2_FRMSIZE_TYPE_DISCRETE;
      fs->discrete.width = f->size[fs->index].w;
      fs->discrete.height = f->size[fs->index].h;
      return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS:{
      struct v4l2_frmivalenum *iv = arg;
      Format *f = format_of (dev, iv->pixel_format, 0);

      for (unsigned i = 0; f && i < f->n_sizes; i++) {
        if (f->size[i].w != iv->width || f->size[i].h != iv->height)
          continue;
        if (iv->index >= f->size[i].n_rates)
          return fail (EINVAL);
        iv->type = V4L2_FRMIVAL_TYPE_DISCRETE;
        iv->discrete = f->size[i].iv[iv->index];
        return 0;
      }
      return fail (EINVAL);
    }
    case VIDIOC_G_FMT:{
      struct v4l2_format *fmt = arg;

      if (fmt->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      fill_pix (&fmt->fmt.pix, c->fourcc, c->w, c->h);
      return 0;
    }
    case VIDIOC_TRY_FMT:
    case VIDIOC_S_FMT:{
      struct v4l2_format *fmt = arg;
      uint32_t fourcc = fmt->fmt.pix.pixelformat;
      unsigned w = fmt->fmt.pix.width, h = fmt->fmt.pix.height, si;
      Format *f;

      if (fmt->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      if (req == VIDIOC_S_FMT && c->n_buffers)
        return fail (EBUSY);
      nearest (dev, &fourcc, &w, &h, &f, &si);
      fill_pix (&fmt->fmt.pix, fourcc, w, h);
      if (req == VIDIOC_S_FMT) {
        c->fourcc = fourcc;
        c->w = w;
        c->h = h;
        c->iv = f->size[si].iv[0];
      }
      return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM:{
      struct v4l2_streamparm *p = arg;
      Format *f = format_of (dev, c->fourcc, 0);

      if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      if (req == VIDIOC_S_PARM && c->streaming)
        return fail (EBUSY);
      if (req == VIDIOC_S_PARM && f) {
        struct v4l2_fract want = p->parm.capture.timeperframe;
        double best = 1e30;

        for (unsigned i = 0; i < f->n_sizes; i++) {
          if (f->size[i].w != c->w || f->size[i].h != c->h)
            continue;
          for (unsigned r = 0; r < f->size[i].n_rates; r++) {
            struct v4l2_fract iv = f->size[i].iv[r];
            double d = want.denominator ? (double) iv.numerator
                / iv.denominator - (double) want.numerator
                / want.denominator : 0;

            if (d < 0)
              d = -d;
            if (d < best) {
              best = d;
              c->iv = iv;
            }
          }
        }
      }
      memset (&p->parm, 0, sizeof p->parm);
      p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
      p->parm.capture.timeperframe = c->iv;
      return 0;
    }
    case VIDIOC_ENUMINPUT:{
      struct v4l2_input *in = arg;
      uint32_t index = in->index;

      if (index)
        return fail (EINVAL);
      memset (in, 0, sizeof *in);
      snprintf ((char *) in->name, sizeof in->name, "Camera 1");
      in->type = V4L2_INPUT_TYPE_CAMERA;
      return 0;
    }
    case VIDIOC_G_INPUT:
      *(int *) arg = 0;
      return 0;
    case VIDIOC_S_INPUT:
      return *(int *) arg ? fail (EINVAL) : 0;
    case VIDIOC_QUERYCTRL:{
      struct v4l2_queryctrl *q = arg;
      int i = find_control (q->id);

      if (i < 0)
        return fail (EINVAL);
      memset (q, 0, sizeof *q);
      q->id = controls[i].id;
      q->type = V4L2_CTRL_TYPE_INTEGER;
      snprintf ((char *) q->name, sizeof q->name, "%s", controls[i].name);
      q->minimum = controls[i].min;
      q->maximum = controls[i].max;
      q->step = 1;
      q->default_value = controls[i].def;
      return 0;
    }
    case VIDIOC_QUERY_EXT_CTRL:{
      struct v4l2_query_ext_ctrl *q = arg;
      int i = find_control (q->id);

      if (i < 0)
        return fail (EINVAL);
      memset (q, 0, sizeof *q);
      q->id = controls[i].id;
      q->type = V4L2_CTRL_TYPE_INTEGER;
      snprintf (q->name, sizeof q->name, "%s", controls[i].name);
      q->minimum = controls[i].min;
      q->maximum = controls[i].max;
      q->step = 1;
      q->default_value = controls[i].def;
      q->elem_size = 4;
      q->elems = q->nr_of_dims ? 0 : 1;
      return 0;
    }
    case VIDIOC_G_CTRL:
    case VIDIOC_S_CTRL:{
      struct v4l2_control *ctl = arg;
      int *v = control_value (c, ctl->id);

      if (!v)
        return fail (EINVAL);
      if (req == VIDIOC_S_CTRL)
        *v = ctl->value;
      else
        ctl->value = *v;
      return 0;
    }
    case VIDIOC_G_EXT_CTRLS:
    case VIDIOC_S_EXT_CTRLS:
    case VIDIOC_TRY_EXT_CTRLS:{
      struct v4l2_ext_controls *e = arg;

      for (uint32_t i = 0; i < e->count; i++) {
        int *v = control_value (c, e->controls[i].id);

        if (!v) {
          e->error_idx = i;
          return fail (EINVAL);
        }
        if (req == VIDIOC_G_EXT_CTRLS)
          e->controls[i].value = *v;
        else if (req == VIDIOC_S_EXT_CTRLS)
          *v = e->controls[i].value;
      }
      return 0;
    }
    case VIDIOC_CROPCAP:{
      struct v4l2_cropcap *cc = arg;

      if (cc->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      cc->bounds = (struct v4l2_rect) { 0, 0, c->w, c->h };
      cc->defrect = cc->bounds;
      cc->pixelaspect = (struct v4l2_fract) { 1, 1 };
      return 0;
    }
    case VIDIOC_G_SELECTION:{
      struct v4l2_selection *s = arg;

      if (s->type != V4L2_BUF_TYPE_VIDEO_CAPTURE
          || (s->target != V4L2_SEL_TGT_CROP_DEFAULT
              && s->target != V4L2_SEL_TGT_CROP_BOUNDS
              && s->target != V4L2_SEL_TGT_COMPOSE_DEFAULT
              && s->target != V4L2_SEL_TGT_COMPOSE_BOUNDS))
        return fail (EINVAL);
      s->r = (struct v4l2_rect) { 0, 0, c->w, c->h };
      return 0;
    }
    case VIDIOC_G_CROP:
      return fail (EINVAL);
    case VIDIOC_SUBSCRIBE_EVENT:
      return ((struct v4l2_event_subscription *) arg)->type
          == V4L2_EVENT_CTRL ? 0 : fail (EINVAL);
    case VIDIOC_UNSUBSCRIBE_EVENT:
      return 0;
    case VIDIOC_DQEVENT:
      return fail (ENOENT);
    case VIDIOC_REQBUFS:{
      struct v4l2_requestbuffers *rb = arg;
      uint32_t count = rb->count;

      if (rb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE
          || rb->memory != V4L2_MEMORY_MMAP)
        return fail (EINVAL);
      if (c->streaming)
        return fail (EBUSY);
      for (int i = 0; i < MAX_FDS && count; i++)
        if (cams[i] && cams[i] != c && cams[i]->n == c->n
            && cams[i]->n_buffers && !cams[i]->dead)
          return fail (EBUSY);  /* another fd owns the queue */
      buffers_free (c);
      if (count > MAX_BUFFERS)
        count = MAX_BUFFERS;
      for (uint32_t i = 0; i < count; i++) {
        Buffer *b = &c->buf[i];
        size_t size = image_size (c->fourcc, c->w, c->h);

        size = (size + 4095) & ~(size_t) 4095;
        memset (b, 0, sizeof *b);
        b->memfd = memfd_create ("fakecam-buf", MFD_CLOEXEC);
        if (b->memfd < 0 || ftruncate (b->memfd, (off_t) size) < 0
            || (b->data = real_mmap (NULL, size, PROT_READ | PROT_WRITE,
                    MAP_SHARED, b->memfd, 0)) == MAP_FAILED) {
          if (b->memfd >= 0)
            real_close (b->memfd);
          c->n_buffers = i;
          buffers_free (c);
          return fail (ENOMEM);
        }
        b->size = size;
        b->vb.index = i;
        b->vb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b->vb.memory = V4L2_MEMORY_MMAP;
        b->vb.field = V4L2_FIELD_NONE;
        b->vb.length = (uint32_t) image_size (c->fourcc, c->w, c->h);
        b->vb.m.offset = i << OFFSET_SHIFT;
        c->n_buffers = i + 1;
      }
      rb->count = count;
      rb->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP
          | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
      memset (rb->reserved, 0, sizeof rb->reserved);
      return 0;
    }
    case VIDIOC_CREATE_BUFS:
      return fail (ENOTTY);
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF:{
      struct v4l2_buffer *vb = arg;
      Buffer *b;

      if (vb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || vb->index >= c->n_buffers)
        return fail (EINVAL);
      b = &c->buf[vb->index];
      if (req == VIDIOC_QBUF) {
        if (vb->memory != V4L2_MEMORY_MMAP || b->queued || b->done)
          return fail (EINVAL);
        b->queued = 1;
        c->inq[c->n_in++] = vb->index;
      }
      *vb = b->vb;
      vb->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
          | V4L2_BUF_FLAG_TSTAMP_SRC_SOE | V4L2_BUF_FLAG_MAPPED
          | (b->queued ? V4L2_BUF_FLAG_QUEUED : 0)
          | (b->done ? V4L2_BUF_FLAG_DONE : 0);
      return 0;
    }
    case VIDIOC_DQBUF:{
      struct v4l2_buffer *vb = arg;
      Buffer *b;
      uint64_t v;

      if (vb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      while (!c->n_done) {
        if (!c->streaming)
          return fail (EINVAL);
        if (c->nonblock)
          return fail (EAGAIN);
        pthread_cond_wait (&cond, &lock);
        if (cam_dead (c))
          return fail (ENODEV);
      }
      b = &c->buf[c->doneq[0]];
      memmove (c->doneq, c->doneq + 1, --c->n_done * sizeof c->doneq[0]);
      b->done = 0;
      if (real_read (c->efd, &v, sizeof v) < 0)
        debug ("fd %d: no count for a done buffer", c->fd);
      *vb = b->vb;
      vb->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
          | V4L2_BUF_FLAG_TSTAMP_SRC_SOE | V4L2_BUF_FLAG_MAPPED;
      return 0;
    }
    case VIDIOC_EXPBUF:{
      struct v4l2_exportbuffer *e = arg;
      int fd;

      if (!dev->expbuf)
        return fail (ENOTTY);
      if (e->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || e->index >= c->n_buffers
          || e->plane)
        return fail (EINVAL);
      fd = real_fcntl (c->buf[e->index].memfd, e->flags & O_CLOEXEC
          ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
      if (fd < 0)
        return -1;
      e->fd = fd;
      return 0;
    }
    case VIDIOC_STREAMON:{
      char fcc[5];

      if (*(int *) arg != V4L2_BUF_TYPE_VIDEO_CAPTURE || !c->n_buffers)
        return fail (EINVAL);
      if (c->streaming)
        return 0;
      memcpy (fcc, &c->fourcc, 4);
      fcc[4] = '\0';
      if (dev->refuse_any || (dev->refuse_fourcc == c->fourcc
              && ((!dev->refuse_w && !dev->refuse_h)
                  || (dev->refuse_w == c->w && dev->refuse_h == c->h)))) {
        log_line (c->n, "refused %s %ux%u %u/%u", fcc, c->w, c->h,
            c->iv.numerator, c->iv.denominator);
        return fail (ENOSPC);
      }
      canvas_make (c);
      c->stop = 0;
      if (pthread_create (&c->thread, NULL, stream_thread, c) != 0) {
        free (c->canvas);
        c->canvas = NULL;
        return fail (ENOMEM);
      }
      c->streaming = 1;
      log_line (c->n, "streamon %s %ux%u %u/%u", fcc, c->w, c->h,
          c->iv.numerator, c->iv.denominator);
      return 0;
    }
    case VIDIOC_STREAMOFF:
      if (*(int *) arg != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      stream_stop (c);
      return 0;
    default:
      /* What the V4L2 core answers for an ioctl the driver lacks:
       * standards, DV timings, tuners, S_SELECTION, S_CROP, ... */
      debug ("fd %d: ioctl %08lx not supported", c->fd, req);
      return fail (ENOTTY);
  }
}

static int
cam_ioctl (Cam *c, unsigned long req, void *arg)
{
  Device *dev;
  int r;

  pthread_mutex_lock (&lock);
  if (cam_dead (c)) {
    pthread_mutex_unlock (&lock);
    return fail (ENODEV);
  }
  dev = device_get (c->n);
  r = cam_ioctl_locked (c, dev, req, arg);
  pthread_mutex_unlock (&lock);
  return r;
}

static void *
cam_mmap (Cam *c, void *addr, size_t len, int prot, int flags, off_t off)
{
  unsigned idx = (unsigned) (off >> OFFSET_SHIFT);
  void *p;

  pthread_mutex_lock (&lock);
  if (cam_dead (c)) {
    pthread_mutex_unlock (&lock);
    errno = ENODEV;
    return MAP_FAILED;
  }
  if ((off & ((1 << OFFSET_SHIFT) - 1)) || idx >= c->n_buffers
      || len > c->buf[idx].size || !(flags & MAP_SHARED)) {
    pthread_mutex_unlock (&lock);
    errno = EINVAL;
    return MAP_FAILED;
  }
  p = real_mmap (addr, len, prot, flags, c->buf[idx].memfd, 0);
  pthread_mutex_unlock (&lock);
  return p;
}

/* ---- interposed entry points ---- */

/* libc declares most path arguments nonnull; callers may still pass
 * NULL, and libc's answer (EFAULT) is theirs to get. */
static int
absolute (const char *path)
{
  return path && path[0] == '/';
}

static int
empty (const char *path)
{
  return path && !path[0];
}

static int
path_open (const char *path, int flags, int *result)
{
  int n, kind;

  if (!path || strncmp (path, "/dev/", 5))
    return 0;
  pthread_mutex_lock (&lock);
  kind = classify (path, &n);
  pthread_mutex_unlock (&lock);
  if (kind == PATH_NONE || kind == PATH_DIR)
    return 0;
  if (n < 0) {
    errno = ENOENT;
    *result = -1;
  } else {
    *result = open_camera (n, flags);
  }
  return 1;
}

FC_API int
open (const char *path, int flags, ...)
{
  mode_t mode = 0;
  va_list ap;
  int r;

  va_start (ap, flags);
  if (flags & (O_CREAT | O_TMPFILE))
    mode = va_arg (ap, mode_t);
  va_end (ap);
  if (path_open (path, flags, &r))
    return r;
  REAL ();
  return real_open (path, flags, mode);
}

FC_API int open64 (const char *path, int flags, ...)
    __attribute__ ((alias ("open")));

FC_API int
openat (int dirfd, const char *path, int flags, ...)
{
  mode_t mode = 0;
  va_list ap;
  int r;

  va_start (ap, flags);
  if (flags & (O_CREAT | O_TMPFILE))
    mode = va_arg (ap, mode_t);
  va_end (ap);
  if (absolute (path) && path_open (path, flags, &r))
    return r;
  REAL ();
  return real_openat (dirfd, path, flags, mode);
}

FC_API int openat64 (int dirfd, const char *path, int flags, ...)
    __attribute__ ((alias ("openat")));

FC_API int
__open_2 (const char *path, int flags)
{
  return open (path, flags);
}

FC_API int __open64_2 (const char *path, int flags)
    __attribute__ ((alias ("__open_2")));

FC_API int
__openat_2 (int dirfd, const char *path, int flags)
{
  return openat (dirfd, path, flags);
}

FC_API int __openat64_2 (int dirfd, const char *path, int flags)
    __attribute__ ((alias ("__openat_2")));

FC_API int
close (int fd)
{
  Cam *c = cam_of (fd);

  REAL ();
  if (c)
    close_camera (c, fd);
  return real_close (fd);
}

/* Whatever `newfd` was is closed by dup2/dup3: forget a camera there. */
static void
replaced (int oldfd, int newfd)
{
  Cam *old = cam_of (newfd);

  if (old && oldfd != newfd)
    close_camera (old, newfd);
}

FC_API int
dup (int fd)
{
  Cam *c = cam_of (fd);

  REAL ();
  return c ? dup_camera (c, real_dup (fd)) : real_dup (fd);
}

FC_API int
dup2 (int fd, int newfd)
{
  Cam *c = cam_of (fd);
  int r;

  REAL ();
  r = real_dup2 (fd, newfd);
  if (r >= 0)
    replaced (fd, newfd);
  return c && r >= 0 && fd != newfd ? dup_camera (c, r) : r;
}

FC_API int
dup3 (int fd, int newfd, int flags)
{
  Cam *c = cam_of (fd);
  int r;

  REAL ();
  r = real_dup3 (fd, newfd, flags);
  if (r >= 0)
    replaced (fd, newfd);
  return c && r >= 0 ? dup_camera (c, r) : r;
}

FC_API int
fcntl (int fd, int cmd, ...)
{
  va_list ap;
  long arg;
  Cam *c;
  int r;

  va_start (ap, cmd);
  arg = va_arg (ap, long);
  va_end (ap);
  REAL ();
  r = real_fcntl (fd, cmd, arg);
  if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && (c = cam_of (fd)))
    return dup_camera (c, r);
  return r;
}

FC_API int fcntl64 (int fd, int cmd, ...) __attribute__ ((alias ("fcntl")));

FC_API int
ioctl (int fd, unsigned long req, ...)
{
  va_list ap;
  void *arg;
  Cam *c;
  int r;

  va_start (ap, req);
  arg = va_arg (ap, void *);
  va_end (ap);
  REAL ();
  if ((c = cam_of (fd)))
    return cam_ioctl (c, req, arg);
  r = real_ioctl (fd, req, arg);
  /* GStreamer syncs the exported buffers as if they were dmabufs. */
  if (r < 0 && errno == ENOTTY && req == DMA_BUF_IOCTL_SYNC) {
    char link[64], target[64];
    ssize_t n;

    snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
    n = real_readlink (link, target, sizeof target - 1);
    if (n > 0) {
      target[n] = '\0';
      if (strstr (target, "memfd:fakecam-buf"))
        return 0;
    }
    errno = ENOTTY;
  }
  return r;
}

FC_API void *
mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  Cam *c = cam_of (fd);

  REAL ();
  if (c)
    return cam_mmap (c, addr, len, prot, flags, off);
  return real_mmap (addr, len, prot, flags, fd, off);
}

FC_API void *mmap64 (void *addr, size_t len, int prot, int flags, int fd,
    off_t off) __attribute__ ((alias ("mmap")));

FC_API ssize_t
read (int fd, void *buf, size_t n)
{
  REAL ();
  if (cam_of (fd)) {
    errno = EINVAL;             /* no V4L2_CAP_READWRITE */
    return -1;
  }
  return real_read (fd, buf, n);
}

/* After the real poll: a camera is readable while a buffer is done,
 * never writable, and an unplugged or idle one reports an error. */
static int
fix_revents (struct pollfd *fds, nfds_t n, int r)
{
  int any = 0, count = 0;

  if (r < 0)
    return r;
  for (nfds_t i = 0; i < n; i++) {
    Cam *c = cam_of (fds[i].fd);

    if (c) {
      any = 1;
      pthread_mutex_lock (&lock);
      if (cam_dead (c)) {
        fds[i].revents = POLLERR | POLLHUP | POLLPRI;
        errno = ENODEV;         /* for the caller's message */
      }
      else if (!c->streaming || (!c->n_in && !c->n_done))
        fds[i].revents = POLLERR;
      else
        fds[i].revents &= (short) ((fds[i].events & (POLLIN | POLLRDNORM))
            | POLLERR | POLLHUP | POLLNVAL);
      pthread_mutex_unlock (&lock);
    }
    if (fds[i].revents)
      count++;
  }
  return any ? count : r;
}

/* Whether any camera in `fds` needs no waiting (dead or idle). */
static int
camera_ready (struct pollfd *fds, nfds_t n)
{
  int ready = 0;

  if (!atomic_load (&n_cams))
    return 0;
  for (nfds_t i = 0; i < n; i++) {
    Cam *c = cam_of (fds[i].fd);

    if (!c)
      continue;
    pthread_mutex_lock (&lock);
    if (cam_dead (c) || !c->streaming || (!c->n_in && !c->n_done))
      ready = 1;
    pthread_mutex_unlock (&lock);
  }
  return ready;
}

FC_API int
poll (struct pollfd *fds, nfds_t n, int timeout)
{
  REAL ();
  if (camera_ready (fds, n))
    timeout = 0;
  return fix_revents (fds, n, real_poll (fds, n, timeout));
}

FC_API int
ppoll (struct pollfd *fds, nfds_t n, const struct timespec *timeout,
    const sigset_t *mask)
{
  static const struct timespec zero = { 0, 0 };

  REAL ();
  if (camera_ready (fds, n))
    timeout = &zero;
  return fix_revents (fds, n, real_ppoll (fds, n, timeout, mask));
}

static void
fake_fstat (Cam *c, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_mode = S_IFCHR | 0660;
  st->st_rdev = makedev (81, c->n);
  st->st_ino = 0x7fc0 + c->n;
  st->st_nlink = 1;
  st->st_gid = 44;
  st->st_dev = makedev (0, 5);
}

FC_API int
stat (const char *path, struct stat *st)
{
  int r = fake_stat (path, st, 1);

  REAL ();
  return r ? (r > 0 ? 0 : -1) : real_stat (path, st);
}

/* struct stat64 is struct stat on LP64 Linux. */
FC_API int
stat64 (const char *path, struct stat64 *st)
{
  return stat (path, (struct stat *) st);
}

FC_API int
lstat (const char *path, struct stat *st)
{
  int r = fake_stat (path, st, 0);

  REAL ();
  return r ? (r > 0 ? 0 : -1) : real_lstat (path, st);
}

FC_API int
lstat64 (const char *path, struct stat64 *st)
{
  return lstat (path, (struct stat *) st);
}

FC_API int
fstat (int fd, struct stat *st)
{
  Cam *c = cam_of (fd);

  REAL ();
  if (c) {
    fake_fstat (c, st);
    return 0;
  }
  return real_fstat (fd, st);
}

FC_API int
fstat64 (int fd, struct stat64 *st)
{
  return fstat (fd, (struct stat *) st);
}

FC_API int
fstatat (int dirfd, const char *path, struct stat *st, int flags)
{
  int r;

  REAL ();
  if ((flags & AT_EMPTY_PATH) && empty (path) && cam_of (dirfd)) {
    fake_fstat (cam_of (dirfd), st);
    return 0;
  }
  if (absolute (path)
      && (r = fake_stat (path, st, !(flags & AT_SYMLINK_NOFOLLOW))))
    return r > 0 ? 0 : -1;
  return real_fstatat (dirfd, path, st, flags);
}

FC_API int
fstatat64 (int dirfd, const char *path, struct stat64 *st, int flags)
{
  return fstatat (dirfd, path, (struct stat *) st, flags);
}

FC_API int
statx (int dirfd, const char *path, int flags, unsigned mask,
    struct statx *sx)
{
  struct stat st;
  int r = 0;

  REAL ();
  if ((flags & AT_EMPTY_PATH) && empty (path) && cam_of (dirfd)) {
    fake_fstat (cam_of (dirfd), &st);
    r = 1;
  } else if (absolute (path)) {
    r = fake_stat (path, &st, !(flags & AT_SYMLINK_NOFOLLOW));
  }
  if (!r)
    return real_statx (dirfd, path, flags, mask, sx);
  if (r < 0)
    return -1;
  memset (sx, 0, sizeof *sx);
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_mode = (uint16_t) st.st_mode;
  sx->stx_nlink = (uint32_t) st.st_nlink;
  sx->stx_gid = st.st_gid;
  sx->stx_ino = st.st_ino;
  sx->stx_size = (uint64_t) st.st_size;
  sx->stx_blksize = 4096;
  sx->stx_rdev_major = major (st.st_rdev);
  sx->stx_rdev_minor = minor (st.st_rdev);
  return 0;
}

FC_API int
access (const char *path, int mode)
{
  struct stat st;
  int r = fake_stat (path, &st, 1);

  REAL ();
  return r ? (r > 0 ? 0 : -1) : real_access (path, mode);
}

FC_API int
faccessat (int dirfd, const char *path, int mode, int flags)
{
  struct stat st;
  int r = absolute (path) ? fake_stat (path, &st, 1) : 0;

  REAL ();
  return r ? (r > 0 ? 0 : -1) : real_faccessat (dirfd, path, mode, flags);
}

static ssize_t
fake_readlink (const char *path, char *buf, size_t size, int *handled)
{
  char target[32];
  int n, kind;
  size_t len;

  pthread_mutex_lock (&lock);
  kind = classify (path, &n);
  pthread_mutex_unlock (&lock);
  *handled = kind != PATH_NONE && kind != PATH_DIR;
  if (!*handled)
    return 0;
  if (kind == PATH_NODE) {
    errno = n >= 0 && device_get (n)->present ? EINVAL : ENOENT;
    return -1;
  }
  if (n < 0) {
    errno = ENOENT;
    return -1;
  }
  snprintf (target, sizeof target, "../../video%d", n);
  len = strlen (target) < size ? strlen (target) : size;
  memcpy (buf, target, len);
  return (ssize_t) len;
}

FC_API ssize_t
readlink (const char *path, char *buf, size_t size)
{
  int handled;
  ssize_t r = fake_readlink (path, buf, size, &handled);

  REAL ();
  return handled ? r : real_readlink (path, buf, size);
}

FC_API ssize_t
readlinkat (int dirfd, const char *path, char *buf, size_t size)
{
  int handled = 0;
  ssize_t r = absolute (path) ? fake_readlink (path, buf, size, &handled) : 0;

  REAL ();
  return handled ? r : real_readlinkat (dirfd, path, buf, size);
}

/* /dev is listed with the present cameras added; /dev/v4l/by-* come from
 * a directory of real symlinks rebuilt in $FAKECAM_DIR at each opendir. */
static struct
{
  DIR *dir;
  int next;                     /* next camera index to add */
  struct dirent entry;
} dev_listing;

FC_API DIR *
opendir (const char *path)
{
  char dir[PATH_MAX], link[PATH_MAX + 160], target[32];
  int n, kind, by_id;
  DIR *d;

  REAL ();
  if (!absolute (path) || !control_dir ())
    return real_opendir (path);
  if (!strcmp (path, "/dev") || !strcmp (path, "/dev/")) {
    d = real_opendir (path);
    pthread_mutex_lock (&lock);
    if (d && !dev_listing.dir) {
      dev_listing.dir = d;
      dev_listing.next = 0;
    }
    pthread_mutex_unlock (&lock);
    return d;
  }
  pthread_mutex_lock (&lock);
  kind = classify (path, &n);
  pthread_mutex_unlock (&lock);
  if (kind != PATH_DIR || !strcmp (path, "/dev/v4l"))
    return real_opendir (path);
  d = real_opendir (path);
  if (d)
    return d;
  by_id = !strcmp (path, "/dev/v4l/by-id");
  snprintf (dir, sizeof dir, "%s/.%s", control_dir (), by_id ? "by-id"
      : "by-path");
  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return real_opendir (path);
  if ((d = real_opendir (dir))) {
    struct dirent *e;

    while ((e = real_readdir (d)))
      if (e->d_name[0] != '.' && unlinkat (dirfd (d), e->d_name, 0) < 0)
        debug ("unlink %s/%s: %s", dir, e->d_name, strerror (errno));
    real_closedir (d);
  }
  pthread_mutex_lock (&lock);
  for (int i = 0; i < MAX_DEVICES; i++) {
    Device *dev = device_get (i);
    const char *name = by_id ? dev->by_id : dev->by_path;

    if (!dev->present || !name[0])
      continue;
    snprintf (link, sizeof link, "%s/%s", dir, name);
    snprintf (target, sizeof target, "../../video%d", i);
    if (symlink (target, link) < 0)
      debug ("symlink %s: %s", link, strerror (errno));
  }
  pthread_mutex_unlock (&lock);
  return real_opendir (dir);
}

FC_API struct dirent *
readdir (DIR *d)
{
  struct dirent *e;

  REAL ();
  e = real_readdir (d);
  if (e || d != dev_listing.dir)
    return e;
  pthread_mutex_lock (&lock);
  for (; dev_listing.next < MAX_DEVICES; dev_listing.next++) {
    if (!device_get (dev_listing.next)->present)
      continue;
    memset (&dev_listing.entry, 0, sizeof dev_listing.entry);
    dev_listing.entry.d_type = DT_CHR;
    dev_listing.entry.d_ino = 0x7fc0 + dev_listing.next;
    snprintf (dev_listing.entry.d_name, sizeof dev_listing.entry.d_name,
        "video%d", dev_listing.next);
    dev_listing.next++;
    e = &dev_listing.entry;
    break;
  }
  pthread_mutex_unlock (&lock);
  return e;
}

FC_API struct dirent64 *
readdir64 (DIR *d)
{
  return (struct dirent64 *) readdir (d);
}

FC_API int
closedir (DIR *d)
{
  REAL ();
  pthread_mutex_lock (&lock);
  if (d == dev_listing.dir)
    dev_listing.dir = NULL;
  pthread_mutex_unlock (&lock);
  return real_closedir (d);
}

/* libv4l2 makes every device call through syscall(). */
FC_API long
syscall (long nr, ...)
{
  long a[6];
  va_list ap;
  Cam *c;
  int r;

  va_start (ap, nr);
  for (int i = 0; i < 6; i++)
    a[i] = va_arg (ap, long);
  va_end (ap);
  REAL ();
  switch (nr) {
    case SYS_open:
      if (path_open ((const char *) a[0], (int) a[1], &r))
        return r;
      break;
    case SYS_openat:
      if (a[1] && ((const char *) a[1])[0] == '/'
          && path_open ((const char *) a[1], (int) a[2], &r))
        return r;
      break;
    case SYS_ioctl:
      if ((c = cam_of ((int) a[0])))
        return cam_ioctl (c, (unsigned long) a[1], (void *) a[2]);
      break;
    case SYS_close:
      return close ((int) a[0]);
    case SYS_dup:
      return dup ((int) a[0]);
    case SYS_dup2:
      return dup2 ((int) a[0], (int) a[1]);
    case SYS_dup3:
      return dup3 ((int) a[0], (int) a[1], (int) a[2]);
    case SYS_fcntl:
      return fcntl ((int) a[0], (int) a[1], a[2]);
    case SYS_mmap:
      if ((c = cam_of ((int) a[4])))
        return (long) cam_mmap (c, (void *) a[0], (size_t) a[1], (int) a[2],
            (int) a[3], (off_t) a[5]);
      break;
    case SYS_read:
      if (cam_of ((int) a[0])) {
        errno = EINVAL;
        return -1;
      }
      break;
    default:
      break;
  }
  return real_syscall (nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

__attribute__ ((constructor))
static void
fakecam_init (void)
{
  pthread_condattr_t attr;

  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&cond, &attr);
  pthread_condattr_destroy (&attr);
}
