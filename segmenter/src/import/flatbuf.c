/* Bounds-checked FlatBuffer reading. Positions are computed in 64 bits so
 * that no sum of a position and an offset read from the file can wrap, and
 * every read goes through `avail`, which is the only place that decides
 * whether bytes are inside the buffer.
 */
#include "flatbuf.h"

#include <assert.h>
#include <string.h>

/* True when [pos, pos + n) lies inside the buffer. */
static bool
avail (const seg_fb *fb, uint64_t pos, uint64_t n)
{
  return pos <= fb->size && n <= fb->size - pos;
}

static uint16_t
rd16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
rd32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
      | (uint32_t) p[3] << 24;
}

static uint64_t
rd64 (const uint8_t *p)
{
  return (uint64_t) rd32 (p) | (uint64_t) rd32 (p + 4) << 32;
}

static bool
table_at (const seg_fb *fb, uint64_t pos, seg_fb_table *t)
{
  if (!avail (fb, pos, 4))
    return false;
  /* The vtable may sit before or after the table: the soffset is signed
   * and subtracted. */
  int32_t so = (int32_t) rd32 (fb->buf + pos);
  int64_t vt = (int64_t) pos - (int64_t) so;
  if (vt < 0 || !avail (fb, (uint64_t) vt, 4))
    return false;
  uint16_t vt_size = rd16 (fb->buf + vt);
  uint16_t size = rd16 (fb->buf + vt + 2);
  if (vt_size < 4 || !avail (fb, (uint64_t) vt, vt_size) || size < 4
      || !avail (fb, pos, size))
    return false;
  t->fb = fb;
  t->pos = (size_t) pos;
  t->vtab = (size_t) vt;
  t->vt_size = vt_size;
  t->size = size;
  return true;
}

bool
seg_fb_has_identifier (const seg_fb *fb, const char ident[4])
{
  return avail (fb, 0, 8) && memcmp (fb->buf + 4, ident, 4) == 0;
}

bool
seg_fb_root (const seg_fb *fb, seg_fb_table *root)
{
  if (!avail (fb, 0, 4))
    return false;
  return table_at (fb, rd32 (fb->buf), root);
}

/* Offset of field id inside the table, 0 when absent. */
static uint16_t
field_offset (const seg_fb_table *t, unsigned id)
{
  uint64_t slot = 4 + 2 * (uint64_t) id;
  if (slot + 2 > t->vt_size)
    return 0;
  return rd16 (t->fb->buf + t->vtab + slot);
}

bool
seg_fb_has_field (const seg_fb_table *t, unsigned id)
{
  return field_offset (t, id) != 0;
}

/* Locates a present field of `width` bytes: 1 with *p set, 0 if absent,
 * -1 if its bytes are outside the table (which lies inside the buffer). */
static int
field_bytes (const seg_fb_table *t, unsigned id, unsigned width,
    const uint8_t **p)
{
  uint16_t fo = field_offset (t, id);
  if (fo == 0)
    return 0;
  /* Below 4 would overlap the table's own soffset. */
  if (fo < 4 || (unsigned) fo + width > t->size)
    return -1;
  *p = t->fb->buf + t->pos + fo;
  return 1;
}

bool
seg_fb_get_u8 (const seg_fb_table *t, unsigned id, uint8_t def, uint8_t *out)
{
  const uint8_t *p;
  int r = field_bytes (t, id, 1, &p);
  *out = r > 0 ? p[0] : def;
  return r >= 0;
}

bool
seg_fb_get_i8 (const seg_fb_table *t, unsigned id, int8_t def, int8_t *out)
{
  uint8_t u;
  bool ok = seg_fb_get_u8 (t, id, (uint8_t) def, &u);
  *out = (int8_t) u;
  return ok;
}

bool
seg_fb_get_bool (const seg_fb_table *t, unsigned id, bool def, bool *out)
{
  uint8_t u;
  bool ok = seg_fb_get_u8 (t, id, def, &u);
  *out = u != 0;
  return ok;
}

bool
seg_fb_get_u32 (const seg_fb_table *t, unsigned id, uint32_t def, uint32_t *out)
{
  const uint8_t *p;
  int r = field_bytes (t, id, 4, &p);
  *out = r > 0 ? rd32 (p) : def;
  return r >= 0;
}

bool
seg_fb_get_i32 (const seg_fb_table *t, unsigned id, int32_t def, int32_t *out)
{
  uint32_t u;
  bool ok = seg_fb_get_u32 (t, id, (uint32_t) def, &u);
  *out = (int32_t) u;
  return ok;
}

bool
seg_fb_get_u64 (const seg_fb_table *t, unsigned id, uint64_t def, uint64_t *out)
{
  const uint8_t *p;
  int r = field_bytes (t, id, 8, &p);
  *out = r > 0 ? rd64 (p) : def;
  return r >= 0;
}

/* Follows a uoffset field to the absolute position it names. */
static seg_fb_result
follow (const seg_fb_table *t, unsigned id, uint64_t *target)
{
  const uint8_t *p;
  int r = field_bytes (t, id, 4, &p);
  if (r <= 0)
    return r < 0 ? SEG_FB_BAD : SEG_FB_ABSENT;
  uint64_t at = (uint64_t) (p - t->fb->buf);
  *target = at + rd32 (p);
  return SEG_FB_OK;
}

seg_fb_result
seg_fb_get_table (const seg_fb_table *t, unsigned id, seg_fb_table *out)
{
  uint64_t target;
  seg_fb_result r = follow (t, id, &target);
  if (r != SEG_FB_OK)
    return r;
  return table_at (t->fb, target, out) ? SEG_FB_OK : SEG_FB_BAD;
}

static bool
vector_at (const seg_fb *fb, uint64_t pos, size_t elem_size, seg_fb_vec *v)
{
  if (!avail (fb, pos, 4))
    return false;
  uint32_t len = rd32 (fb->buf + pos);
  if (!avail (fb, pos + 4, (uint64_t) len * elem_size))
    return false;
  v->fb = fb;
  v->pos = (size_t) pos + 4;
  v->len = len;
  v->elem_size = elem_size;
  return true;
}

seg_fb_result
seg_fb_get_vector (const seg_fb_table *t, unsigned id, size_t elem_size,
    seg_fb_vec *out)
{
  uint64_t target;
  seg_fb_result r = follow (t, id, &target);
  if (r != SEG_FB_OK)
    return r;
  return vector_at (t->fb, target, elem_size, out) ? SEG_FB_OK : SEG_FB_BAD;
}

seg_fb_result
seg_fb_get_string (const seg_fb_table *t, unsigned id, const char **out,
    size_t *len)
{
  uint64_t target;
  seg_fb_vec v;
  seg_fb_result r = follow (t, id, &target);
  if (r != SEG_FB_OK)
    return r;
  /* One more byte than the characters: the terminating NUL must be there
   * too, so callers may treat the result as a C string. */
  if (!vector_at (t->fb, target, 1, &v)
      || !avail (t->fb, v.pos, (uint64_t) v.len + 1)
      || t->fb->buf[v.pos + v.len] != 0)
    return SEG_FB_BAD;
  *out = (const char *) t->fb->buf + v.pos;
  *len = v.len;
  return SEG_FB_OK;
}

uint8_t
seg_fb_vec_u8 (const seg_fb_vec *v, uint32_t i)
{
  assert (i < v->len && v->elem_size == 1);
  return v->fb->buf[v->pos + i];
}

int32_t
seg_fb_vec_i32 (const seg_fb_vec *v, uint32_t i)
{
  assert (i < v->len && v->elem_size == 4);
  return (int32_t) rd32 (v->fb->buf + v->pos + 4 * (size_t) i);
}

const uint8_t *
seg_fb_vec_data (const seg_fb_vec *v)
{
  return v->fb->buf + v->pos;
}

bool
seg_fb_vec_table (const seg_fb_vec *v, uint32_t i, seg_fb_table *out)
{
  assert (i < v->len && v->elem_size == 4);
  uint64_t at = v->pos + 4 * (uint64_t) i;
  return table_at (v->fb, at + rd32 (v->fb->buf + at), out);
}
