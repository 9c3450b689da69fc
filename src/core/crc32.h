/*
 * crc32.h — CRC-32 (IEEE 802.3 polynomial, as in zlib and PNG).
 *
 * Used as the model file's checksum: it catches every single-bit and
 * single-byte error and any burst up to 32 bits, which is what a torn write
 * or a flipped byte on disk looks like. It is not a defence against someone
 * forging a file; the loader validates every index it reads as well.
 */
#ifndef LS_CORE_CRC32_H
#define LS_CORE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC over p[0..n); start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
