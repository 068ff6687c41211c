/* fakecam-v4l2.c — an open fake camera and the V4L2 API it answers, the
 * way uvcvideo does.
 *
 * An open camera (Cam) is shared by an fd and its dups, as a real node's
 * file is; cams[] maps each fd to it. cam_ioctl answers what v4l2src,
 * libv4l2 and segd were seen to ask, as uvcvideo would (the nearest size
 * is the largest overlap, EBUSY while another fd owns the queue, ENOSPC
 * from STREAMON for a refused mode); anything else gets ENOTTY, as from
 * the V4L2 core. Buffers are memfds: mmap of the device maps them and
 * EXPBUF hands out a dup. Once the control file says the camera was
 * unplugged, or plugged again, every call answers ENODEV.
 */
#include "fakecam-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

static Cam *cams[MAX_FDS];
_Atomic int n_cams;

Cam *
cam_of (int fd)
{
  if (fd < 0 || fd >= MAX_FDS || !atomic_load (&n_cams))
    return NULL;
  return __atomic_load_n (&cams[fd], __ATOMIC_ACQUIRE);
}

/* Dead: unplugged, or plugged again since this fd was opened. */
int
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

int
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
  fd = eventfd (0,
      EFD_NONBLOCK | EFD_SEMAPHORE | (flags & O_CLOEXEC ? EFD_CLOEXEC : 0));
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
void
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
int
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
  return (size_t) w * h * 2; /* YUYV, and uvcvideo's MJPEG maximum */
}

/* uvcvideo's nearest size: the largest overlap with the request. */
static void
nearest (Device *dev, uint32_t *fourcc, unsigned *w, unsigned *h, Format **fp,
    unsigned *si)
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
fill_pix (struct v4l2_pix_format *pix, uint32_t fourcc, unsigned w, unsigned h)
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
      : id == V4L2_CID_CONTRAST    ? &c->contrast
                                   : NULL;
}

static int
find_control (uint32_t id)
{
  uint32_t base =
      id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);

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
    case VIDIOC_QUERYCAP: {
      struct v4l2_capability *cap = arg;
      uint32_t caps =
          (dev->meta ? V4L2_CAP_META_CAPTURE : V4L2_CAP_VIDEO_CAPTURE)
          | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT;

      memset (cap, 0, sizeof *cap);
      snprintf ((char *) cap->driver, sizeof cap->driver, "uvcvideo");
      snprintf ((char *) cap->card, sizeof cap->card, "%s", dev->card);
      snprintf ((char *) cap->bus_info, sizeof cap->bus_info,
          "usb-0000:00:14.0-%d", c->n / 2 + 1);
      cap->version = 0x060100;
      cap->device_caps = caps;
      cap->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_META_CAPTURE
          | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT | V4L2_CAP_DEVICE_CAPS;
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
    return fail (ENOTTY); /* the metadata node: not for us */

  switch (req) {
    case VIDIOC_ENUM_FMT: {
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
        snprintf ((char *) d->description, sizeof d->description, "YUYV 4:2:2");
      }
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      struct v4l2_frmsizeenum *fs = arg;
      Format *f = format_of (dev, fs->pixel_format, 0);

      if (!f || fs->index >= f->n_sizes)
        return fail (EINVAL);
      fs->type = V4L2_FRMSIZE_TYPE_DISCRETE;
      fs->discrete.width = f->size[fs->index].w;
      fs->discrete.height = f->size[fs->index].h;
      return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
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
    case VIDIOC_G_FMT: {
      struct v4l2_format *fmt = arg;

      if (fmt->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      fill_pix (&fmt->fmt.pix, c->fourcc, c->w, c->h);
      return 0;
    }
    case VIDIOC_TRY_FMT:
    case VIDIOC_S_FMT: {
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
    case VIDIOC_S_PARM: {
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
            double d = want.denominator ? (double) iv.numerator / iv.denominator
                    - (double) want.numerator / want.denominator
                                        : 0;

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
    case VIDIOC_ENUMINPUT: {
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
    case VIDIOC_QUERYCTRL: {
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
    case VIDIOC_QUERY_EXT_CTRL: {
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
    case VIDIOC_S_CTRL: {
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
    case VIDIOC_TRY_EXT_CTRLS: {
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
    case VIDIOC_CROPCAP: {
      struct v4l2_cropcap *cc = arg;

      if (cc->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
        return fail (EINVAL);
      cc->bounds = (struct v4l2_rect){0, 0, c->w, c->h};
      cc->defrect = cc->bounds;
      cc->pixelaspect = (struct v4l2_fract){1, 1};
      return 0;
    }
    case VIDIOC_G_SELECTION: {
      struct v4l2_selection *s = arg;

      if (s->type != V4L2_BUF_TYPE_VIDEO_CAPTURE
          || (s->target != V4L2_SEL_TGT_CROP_DEFAULT
              && s->target != V4L2_SEL_TGT_CROP_BOUNDS
              && s->target != V4L2_SEL_TGT_COMPOSE_DEFAULT
              && s->target != V4L2_SEL_TGT_COMPOSE_BOUNDS))
        return fail (EINVAL);
      s->r = (struct v4l2_rect){0, 0, c->w, c->h};
      return 0;
    }
    case VIDIOC_G_CROP:
      return fail (EINVAL);
    case VIDIOC_SUBSCRIBE_EVENT:
      return ((struct v4l2_event_subscription *) arg)->type == V4L2_EVENT_CTRL
          ? 0
          : fail (EINVAL);
    case VIDIOC_UNSUBSCRIBE_EVENT:
      return 0;
    case VIDIOC_DQEVENT:
      return fail (ENOENT);
    case VIDIOC_REQBUFS: {
      struct v4l2_requestbuffers *rb = arg;
      uint32_t count = rb->count;

      if (rb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE
          || rb->memory != V4L2_MEMORY_MMAP)
        return fail (EINVAL);
      if (c->streaming)
        return fail (EBUSY);
      for (int i = 0; i < MAX_FDS && count; i++)
        if (cams[i] && cams[i] != c && cams[i]->n == c->n && cams[i]->n_buffers
            && !cams[i]->dead)
          return fail (EBUSY); /* another fd owns the queue */
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
                    MAP_SHARED, b->memfd, 0))
                == MAP_FAILED) {
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
      rb->capabilities =
          V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
      memset (rb->reserved, 0, sizeof rb->reserved);
      return 0;
    }
    case VIDIOC_CREATE_BUFS:
      return fail (ENOTTY);
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF: {
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
    case VIDIOC_DQBUF: {
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
    case VIDIOC_EXPBUF: {
      struct v4l2_exportbuffer *e = arg;
      int fd;

      if (!dev->expbuf)
        return fail (ENOTTY);
      if (e->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || e->index >= c->n_buffers
          || e->plane)
        return fail (EINVAL);
      fd = real_fcntl (c->buf[e->index].memfd,
          e->flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
      if (fd < 0)
        return -1;
      e->fd = fd;
      return 0;
    }
    case VIDIOC_STREAMON: {
      char fcc[5];

      if (*(int *) arg != V4L2_BUF_TYPE_VIDEO_CAPTURE || !c->n_buffers)
        return fail (EINVAL);
      if (c->streaming)
        return 0;
      memcpy (fcc, &c->fourcc, 4);
      fcc[4] = '\0';
      if (dev->refuse_any
          || (dev->refuse_fourcc == c->fourcc
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

int
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

void *
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
