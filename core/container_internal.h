/* On-disk layout of the sealed trace (docs/format.md) and little-endian helpers, shared by
 * the writer (container_write.c) and the reader (container_read.c). Nothing else includes it. */
#ifndef AGENTTRACE_CONTAINER_INTERNAL_H
#define AGENTTRACE_CONTAINER_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "agenttrace/container.h"

#define FILE_HEADER_SIZE  64u /* magic .. header CRC */
#define CHUNK_HEADER_SIZE 40u
#define META_HEADER_SIZE  16u
#define INDEX_HEADER_SIZE 16u
#define STREAM_ENTRY_SIZE 56u
#define CHUNK_ENTRY_SIZE  40u
#define TRAILER_SIZE      32u

#define CHUNK_MAGIC   0x4B4E4843u /* "CHNK" */
#define META_MAGIC    0x4154454Du /* "META" */
#define INDEX_MAGIC   0x58444E49u /* "INDX" */
#define TRAILER_MAGIC 0x444E4554u /* "TEND" */

static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void at_stream_entry_put(uint8_t *p, const struct at_stream_info *s);
void at_stream_entry_get(const uint8_t *p, struct at_stream_info *s);
void at_chunk_entry_put(uint8_t *p, const struct at_chunk_info *c);
void at_chunk_entry_get(const uint8_t *p, struct at_chunk_info *c);

#endif
