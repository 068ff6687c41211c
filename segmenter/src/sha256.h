/* SHA-256 (FIPS 180-4), to identify model files in masks and logs. */
#ifndef SEG_SHA256_H
#define SEG_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* hex: 65 bytes, NUL-terminated lowercase digest. */
void seg_sha256_hex (const void *data, size_t size, char hex[65]);

#endif
