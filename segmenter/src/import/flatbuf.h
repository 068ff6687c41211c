/* A bounds-checked reader for FlatBuffers (the TFLite container format).
 *
 * It reads untrusted bytes in place: every table, vtable, field, vector and
 * string is checked to lie inside the buffer before it is touched, and
 * multi-byte values are assembled from little-endian bytes so the buffer
 * needs no alignment. The reader knows nothing of any schema; callers name
 * fields by their id (declaration order in the .fbs, a union taking two ids:
 * its type, then its value).
 */
#ifndef SEG_FLATBUF_H
#define SEG_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct
{
  const uint8_t *buf;
  size_t size;
} seg_fb;

/* A table whose header and vtable have been checked. */
typedef struct
{
  const seg_fb *fb;
  size_t pos;       /* table start (its soffset to the vtable) */
  size_t vtab;      /* vtable start */
  uint16_t vt_size; /* bytes in the vtable, header included */
  uint16_t size;    /* bytes of inline table data, soffset included */
} seg_fb_table;

/* A vector whose whole extent (len * element size) lies in the buffer. */
typedef struct
{
  const seg_fb *fb;
  size_t pos; /* first element */
  uint32_t len;
  size_t elem_size;
} seg_fb_vec;

/* Result of looking up an optional reference field. */
typedef enum
{
  SEG_FB_BAD = -1,   /* present but points outside the buffer or is malformed */
  SEG_FB_ABSENT = 0, /* not set: the caller applies the schema default */
  SEG_FB_OK = 1,
} seg_fb_result;

/* True when the 4-byte file identifier after the root offset equals ident. */
bool seg_fb_has_identifier (const seg_fb *fb, const char ident[4]);

/* Opens the root table; false if the buffer is too small for it or its
 * offset, header or vtable fall outside the buffer. */
bool seg_fb_root (const seg_fb *fb, seg_fb_table *root);

/* True when field `id` is present in the table's vtable. */
bool seg_fb_has_field (const seg_fb_table *t, unsigned id);

/* Scalar fields: *out = the stored value, or `def` when the field is absent.
 * False (and *out = def) when the field's bytes lie outside the table. */
bool
seg_fb_get_u8 (const seg_fb_table *t, unsigned id, uint8_t def, uint8_t *out);
bool
seg_fb_get_i8 (const seg_fb_table *t, unsigned id, int8_t def, int8_t *out);
bool seg_fb_get_bool (const seg_fb_table *t, unsigned id, bool def, bool *out);
bool
seg_fb_get_i32 (const seg_fb_table *t, unsigned id, int32_t def, int32_t *out);
bool seg_fb_get_u32 (const seg_fb_table *t, unsigned id, uint32_t def,
    uint32_t *out);
bool seg_fb_get_u64 (const seg_fb_table *t, unsigned id, uint64_t def,
    uint64_t *out);

/* Reference fields. */
seg_fb_result
seg_fb_get_table (const seg_fb_table *t, unsigned id, seg_fb_table *out);
/* elem_size: 1, 2, 4 or 8 for scalars, 4 for vectors of tables/strings. */
seg_fb_result seg_fb_get_vector (const seg_fb_table *t, unsigned id,
    size_t elem_size, seg_fb_vec *out);
/* *out points into the buffer, NUL-terminated there; *len excludes the NUL.
 * A string without its terminating NUL inside the buffer is BAD. */
seg_fb_result seg_fb_get_string (const seg_fb_table *t, unsigned id,
    const char **out, size_t *len);

/* Elements of a checked vector; i must be < v->len (programmer error
 * otherwise). */
uint8_t seg_fb_vec_u8 (const seg_fb_vec *v, uint32_t i);
int32_t seg_fb_vec_i32 (const seg_fb_vec *v, uint32_t i);
const uint8_t *seg_fb_vec_data (const seg_fb_vec *v);
/* Follows element i of a vector of tables; false if it points outside. */
bool seg_fb_vec_table (const seg_fb_vec *v, uint32_t i, seg_fb_table *out);

#endif /* SEG_FLATBUF_H */
