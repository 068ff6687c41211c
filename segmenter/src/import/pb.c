/* The protobuf wire-format reader (see pb.h for why it exists). Every read
 * is checked against the end of the enclosing message before it happens. */
#include "pb.h"

#include <string.h>

static uint64_t
load_le (const uint8_t *p, int n)
{
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

/* A varint is at most 10 bytes, and the 10th may only carry the top bit. */
static seg_pb_result
read_varint (const uint8_t **pp, const uint8_t *end, uint64_t *v,
    const char **why)
{
  const uint8_t *p = *pp;
  uint64_t x = 0;
  for (int i = 0; i < 10; i++) {
    if (p == end) {
      *why = "truncated varint";
      return SEG_PB_BAD;
    }
    uint8_t b = *p++;
    if (i == 9 && b > 1) {
      *why = "varint longer than 64 bits";
      return SEG_PB_BAD;
    }
    x |= (uint64_t) (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *pp = p;
      *v = x;
      return SEG_PB_FIELD;
    }
  }
  *why = "varint longer than 64 bits";
  return SEG_PB_BAD;
}

void
seg_pb_init (seg_pb_reader *r, const uint8_t *data, size_t size)
{
  r->p = data;
  r->end = data ? data + size : data;
}

seg_pb_result
seg_pb_next (seg_pb_reader *r, seg_pb_field *f, const char **why)
{
  uint64_t tag, len;

  if (r->p == r->end)
    return SEG_PB_END;
  if (read_varint (&r->p, r->end, &tag, why) != SEG_PB_FIELD)
    return SEG_PB_BAD;
  /* Field numbers are 1 .. 2^29 - 1, so a valid tag fits 32 bits. */
  if (tag > UINT32_MAX || (tag >> 3) == 0) {
    *why = "field number out of range";
    return SEG_PB_BAD;
  }
  memset (f, 0, sizeof *f);
  f->number = (uint32_t) (tag >> 3);
  f->wire = (seg_pb_wire) (tag & 7);
  switch (tag & 7) {
    case SEG_PB_VARINT:
      return read_varint (&r->p, r->end, &f->u64, why);
    case SEG_PB_I64:
      if (r->end - r->p < 8) {
        *why = "truncated 64-bit field";
        return SEG_PB_BAD;
      }
      f->u64 = load_le (r->p, 8);
      r->p += 8;
      return SEG_PB_FIELD;
    case SEG_PB_I32:
      if (r->end - r->p < 4) {
        *why = "truncated 32-bit field";
        return SEG_PB_BAD;
      }
      f->u64 = load_le (r->p, 4);
      r->p += 4;
      return SEG_PB_FIELD;
    case SEG_PB_LEN:
      if (read_varint (&r->p, r->end, &len, why) != SEG_PB_FIELD)
        return SEG_PB_BAD;
      if (len > (uint64_t) (r->end - r->p)) {
        *why = "length runs past the end of the enclosing message";
        return SEG_PB_BAD;
      }
      f->data = r->p;
      f->size = (size_t) len;
      r->p += len;
      return SEG_PB_FIELD;
    case 3:
    case 4:
      *why = "group (wire type 3/4), which ONNX never uses";
      return SEG_PB_BAD;
    default:
      *why = "invalid wire type";
      return SEG_PB_BAD;
  }
}

seg_pb_wire
seg_pb_kind_wire (seg_pb_kind kind)
{
  switch (kind) {
    case SEG_PB_KIND_FIXED32:
      return SEG_PB_I32;
    case SEG_PB_KIND_FIXED64:
      return SEG_PB_I64;
    case SEG_PB_KIND_VARINT:
      break;
  }
  return SEG_PB_VARINT;
}

static int
kind_width (seg_pb_kind kind)
{
  return kind == SEG_PB_KIND_FIXED32 ? 4 : kind == SEG_PB_KIND_FIXED64 ? 8 : 0;
}

void
seg_pb_repeated_init (seg_pb_repeated *it, const uint8_t *msg, size_t size,
    uint32_t number, seg_pb_kind kind)
{
  seg_pb_init (&it->msg, msg, size);
  it->run.p = it->run.end = NULL;
  it->number = number;
  it->kind = kind;
}

seg_pb_result
seg_pb_repeated_next (seg_pb_repeated *it, uint64_t *value, const char **why)
{
  int width = kind_width (it->kind);

  for (;;) {
    if (it->run.p != it->run.end) {
      if (width == 0)
        return read_varint (&it->run.p, it->run.end, value, why);
      /* Run lengths were checked to be whole values when the run began. */
      *value = load_le (it->run.p, width);
      it->run.p += width;
      return SEG_PB_FIELD;
    }
    seg_pb_field f;
    seg_pb_result r = seg_pb_next (&it->msg, &f, why);
    if (r != SEG_PB_FIELD)
      return r;
    if (f.number != it->number)
      continue;
    if (f.wire == SEG_PB_LEN) {
      if (width && f.size % (size_t) width) {
        *why = "packed run is not a whole number of values";
        return SEG_PB_BAD;
      }
      seg_pb_init (&it->run, f.data, f.size);
      continue;
    }
    if (f.wire != seg_pb_kind_wire (it->kind)) {
      *why = "wrong wire type for this field";
      return SEG_PB_BAD;
    }
    *value = f.u64;
    return SEG_PB_FIELD;
  }
}

seg_pb_result
seg_pb_repeated_count (const uint8_t *msg, size_t size, uint32_t number,
    seg_pb_kind kind, size_t *count, const char **why)
{
  seg_pb_repeated it;
  seg_pb_result r;
  uint64_t v;
  size_t n = 0;

  seg_pb_repeated_init (&it, msg, size, number, kind);
  while ((r = seg_pb_repeated_next (&it, &v, why)) == SEG_PB_FIELD)
    n++;
  *count = n;
  return r;
}

float
seg_pb_float (uint64_t bits)
{
  uint32_t b = (uint32_t) bits;
  float f;
  memcpy (&f, &b, sizeof f);
  return f;
}

double
seg_pb_double (uint64_t bits)
{
  double d;
  memcpy (&d, &bits, sizeof d);
  return d;
}
