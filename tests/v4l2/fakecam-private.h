/* fakecam-private.h — what the pieces of fakecam share; fakecam.c says
 * what the library does and which file does what.
 *
 * Nothing here leaves the library: it is built with -fvisibility=hidden,
 * and only the interposed libc entry points in fakecam.c are FC_API.
 */
#ifndef FAKECAM_PRIVATE_H
#define FAKECAM_PRIVATE_H

/* Every file includes this first, so that all of them see the same libc
 * headers. The fortified open() is an inline wrapper we could not define,
 * and with 64-bit file offsets the headers rename open to open64: we
 * define both names ourselves (fakecam.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#include <linux/videodev2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define MAX_DEVICES 16
#define MAX_FORMATS 4
#define MAX_SIZES 16
#define MAX_RATES 12
#define MAX_BUFFERS 32
#define MAX_FDS 4096
#define OFFSET_SHIFT 24 /* mmap cookie: buffer index << 24 */

#pragma GCC visibility push(hidden)

/* ---- fakecam.c: libc's own functions, the lock ---- */

/* Found with dlsym (RTLD_NEXT) by init_real; call REAL () first. */
extern int (*real_close) (int);
extern void *(*real_mmap) (void *, size_t, int, int, int, off_t);
extern ssize_t (*real_read) (int, void *, size_t);
extern int (*real_stat) (const char *, struct stat *);
extern int (*real_fcntl) (int, int, ...);
extern pthread_once_t init_once;
void init_real (void);

#define REAL() pthread_once (&init_once, init_real)

/* One lock for the device table and every open camera; `cond` (on
 * CLOCK_MONOTONIC, for the stream threads' timed waits) is broadcast
 * whenever a queue or a camera's liveness changes. */
extern pthread_mutex_t lock;
extern pthread_cond_t cond;

/* ---- fakecam-config.c: the cameras' descriptions ---- */

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
  uint32_t refuse_fourcc;      /* 0: none */
  unsigned refuse_w, refuse_h; /* 0 x 0: every size */
  int refuse_any;
  unsigned n_formats;
  Format fmt[MAX_FORMATS];
} Device;
const char *control_dir (void);
void debug (const char *fmt, ...);
Format *format_of (Device *dev, uint32_t fourcc, int add);
Device *device_get (int n);
void log_line (int n, const char *fmt, ...);

/* ---- fakecam-v4l2.c: open cameras and their V4L2 API ---- */

typedef struct
{
  int memfd;
  uint8_t *data;
  size_t size;
  int queued, done;
  struct v4l2_buffer vb; /* what QUERYBUF/DQBUF report */
} Buffer;

typedef struct Cam
{
  int fd;   /* the first fd, for messages */
  int efd;  /* our own dup of the eventfd */
  int refs; /* fds (dups included) open on it */
  int n;
  long plug;
  int nonblock, dead;
  uint32_t fourcc;
  unsigned w, h;
  struct v4l2_fract iv;
  unsigned n_buffers;
  Buffer buf[MAX_BUFFERS];
  unsigned inq[MAX_BUFFERS], n_in; /* FIFO of queued indices */
  unsigned doneq[MAX_BUFFERS], n_done;
  int streaming, stop;
  uint32_t sequence;
  pthread_t thread;
  int brightness, contrast;
  /* The scene scaled to cover the frame plus the panning margin. */
  uint8_t *canvas;
  unsigned cw, ch, margin;
} Cam;
extern _Atomic int n_cams;
Cam *cam_of (int fd);
int cam_dead (Cam *c);
int open_camera (int n, int flags);
void close_camera (Cam *c, int fd);
int dup_camera (Cam *c, int newfd);
int cam_ioctl (Cam *c, unsigned long req, void *arg);
void *cam_mmap (Cam *c, void *addr, size_t len, int prot, int flags, off_t off);

/* ---- fakecam-frames.c: the picture ---- */

void canvas_make (Cam *c);
void *stream_thread (void *data);

#pragma GCC visibility pop

#endif /* FAKECAM_PRIVATE_H */
