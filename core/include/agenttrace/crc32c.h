/* CRC32C (Castagnoli), the checksum on every chunk and section of a sealed trace.
 * Uses the SSE4.2 crc32 instruction when the CPU has it and a table otherwise; both give
 * the same value, which tests check against the RFC 3720 vectors. */
#ifndef AGENTTRACE_CRC32C_H
#define AGENTTRACE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over `len` bytes; returns the new CRC. */
uint32_t at_crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table version, exposed so tests can compare it with the hardware one. */
uint32_t at_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
