/* A small reader for the protobuf wire format, used by the ONNX importer.
 *
 * Why not protobuf-c: it needs code generated from onnx.proto and a runtime
 * library, and it decodes whole messages into allocated trees whose sizes the
 * file controls. This reader needs neither; it walks the bytes in place,
 * returns views into the caller's buffer, allocates nothing, and checks every
 * varint, length and fixed-size field against the end of the enclosing
 * message, so every bound on untrusted input is ours to see and test. It never
 * recurses: nesting depth is that of the caller's schema walk, not the file's.
 */
#ifndef SEG_PB_H
#define SEG_PB_H

#include <stddef.h>
#include <stdint.h>

typedef enum
{
  SEG_PB_VARINT = 0,
  SEG_PB_I64 = 1,
  SEG_PB_LEN = 2,
  SEG_PB_I32 = 5,
} seg_pb_wire;

/* Result of stepping a reader. */
typedef enum
{
  SEG_PB_FIELD = 1, /* a field was read */
  SEG_PB_END = 0,   /* clean end of the message */
  SEG_PB_BAD = -1,  /* malformed; the reason is a static string */
} seg_pb_result;

typedef struct
{
  const uint8_t *p, *end;
} seg_pb_reader;

typedef struct
{
  uint32_t number;
  seg_pb_wire wire;
  uint64_t u64;        /* VARINT, I64, I32 (zero-extended) payloads */
  const uint8_t *data; /* LEN payload: a view into the reader's buffer */
  size_t size;
} seg_pb_field;

void seg_pb_init (seg_pb_reader *r, const uint8_t *data, size_t size);

/* Reads the next field of the message. On SEG_PB_BAD *why is set and the
 * reader must not be used again. Groups (wire types 3, 4) are rejected:
 * nothing in ONNX uses them and skipping them would mean nesting. */
seg_pb_result seg_pb_next (seg_pb_reader *r, seg_pb_field *f, const char **why);

/* Which encoding a repeated scalar field has. VARINT also covers the signed
 * int32/int64 fields (two's complement, not zigzag). */
typedef enum
{
  SEG_PB_KIND_VARINT,
  SEG_PB_KIND_FIXED32,
  SEG_PB_KIND_FIXED64,
} seg_pb_kind;

/* Iterates the values of one repeated scalar field of a message, whether the
 * writer packed them (one or several LEN runs) or not, as protobuf parsers
 * must accept both. A field with that number but the wrong wire type, or a
 * packed run whose length is not a whole number of values, is SEG_PB_BAD. */
typedef struct
{
  seg_pb_reader msg;
  seg_pb_reader run; /* the rest of the packed run being read */
  uint32_t number;
  seg_pb_kind kind;
} seg_pb_repeated;

void seg_pb_repeated_init (seg_pb_repeated *it, const uint8_t *msg, size_t size,
    uint32_t number, seg_pb_kind kind);

/* Next value (FIXED32 zero-extended, FIXED64 and VARINT as the raw 64 bits). */
seg_pb_result
seg_pb_repeated_next (seg_pb_repeated *it, uint64_t *value, const char **why);

/* Number of values of the field in the message, or SEG_PB_BAD. */
seg_pb_result seg_pb_repeated_count (const uint8_t *msg, size_t size,
    uint32_t number, seg_pb_kind kind, size_t *count, const char **why);

/* The wire type a scalar of this kind has when not packed. */
seg_pb_wire seg_pb_kind_wire (seg_pb_kind kind);

/* Bit reinterpretations of fixed-size payloads. */
float seg_pb_float (uint64_t bits);
double seg_pb_double (uint64_t bits);

#endif /* SEG_PB_H */
