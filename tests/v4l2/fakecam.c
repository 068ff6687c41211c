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
 *
 * This file is the interposition: libc's real functions, the paths that
 * are ours (/dev/videoN, /dev/v4l/by-*, the /dev listing) and the entry
 * points, which hand a camera's fds to fakecam-v4l2.c (an open camera and
 * its V4L2 API). fakecam-config.c reads the control files and
 * fakecam-frames.c makes the frames; fakecam-private.h is what they share.
 */
#include "fakecam-private.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FC_API __attribute__ ((visibility ("default")))

/* Entry points the headers declare only under _FORTIFY_SOURCE. */
int __open_2 (const char *path, int flags);
int __open64_2 (const char *path, int flags);
int __openat_2 (int dirfd, const char *path, int flags);
int __openat64_2 (int dirfd, const char *path, int flags);

/* ---- the real functions ---- */

static int (*real_open) (const char *, int, ...);
static int (*real_openat) (int, const char *, int, ...);
int (*real_close) (int);
static int (*real_ioctl) (int, unsigned long, ...);
void *(*real_mmap) (void *, size_t, int, int, int, off_t);
static int (*real_poll) (struct pollfd *, nfds_t, int);
static int (*real_ppoll) (struct pollfd *, nfds_t, const struct timespec *,
    const sigset_t *);
ssize_t (*real_read) (int, void *, size_t);
int (*real_stat) (const char *, struct stat *);
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
int (*real_fcntl) (int, int, ...);

pthread_once_t init_once = PTHREAD_ONCE_INIT;

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

void
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

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cond;

/* ---- paths ---- */

enum
{
  PATH_NONE,
  PATH_NODE,
  PATH_LINK,
  PATH_DIR
};

/* What `path` is to us: a camera node, a by-id/by-path link to camera
 * *n, one of the /dev/v4l directories, or none of ours. Lock held. */
static int
classify (const char *path, int *n)
{
  static const char *const dirs[] = {"/dev/v4l", "/dev/v4l/by-id",
      "/dev/v4l/by-path"};
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
  if (!strncmp (path, "/dev/video", 10) && path[10] >= '0' && path[10] <= '9') {
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

    if (dev->present
        && ((name == path + 15 && dev->by_id[0] && !strcmp (dev->by_id, name))
            || (name == path + 17 && dev->by_path[0]
                && !strcmp (dev->by_path, name)))) {
      *n = i;
      return PATH_LINK;
    }
  }
  return PATH_LINK; /* ours, but no such link (n = -1) */
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
  st->st_gid = 44; /* video */
  st->st_blksize = 4096;
  if (kind == PATH_LINK && !follow) {
    st->st_mode = S_IFLNK | 0777;
    st->st_size = 12; /* "../../videoN" */
    st->st_ino = 0x7fb0 + n;
  } else {
    st->st_mode = S_IFCHR | 0660;
    st->st_rdev = makedev (81, n);
    st->st_ino = 0x7fc0 + n;
  }
  st->st_dev = makedev (0, 5);
  return 1;
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

FC_API int
open64 (const char *path, int flags, ...) __attribute__ ((alias ("open")));

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

FC_API int
__open64_2 (const char *path, int flags) __attribute__ ((alias ("__open_2")));

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
    errno = EINVAL; /* no V4L2_CAP_READWRITE */
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
        errno = ENODEV; /* for the caller's message */
      } else if (!c->streaming || (!c->n_in && !c->n_done))
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
  static const struct timespec zero = {0, 0};

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
statx (int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
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
  int next; /* next camera index to add */
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
  snprintf (dir, sizeof dir, "%s/.%s", control_dir (),
      by_id ? "by-id" : "by-path");
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

__attribute__ ((constructor)) static void
fakecam_init (void)
{
  pthread_condattr_t attr;

  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&cond, &attr);
  pthread_condattr_destroy (&attr);
}
