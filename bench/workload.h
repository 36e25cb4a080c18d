/* What the workload programs (files_workload.c, net_workload.c) share: a pseudo-random
 * sequence for their content, a checksum, and reading a file to its end. */
#ifndef AGENTTRACE_BENCH_WORKLOAD_H
#define AGENTTRACE_BENCH_WORKLOAD_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* `len` bytes of text-like content (lines of lowercase words), as source files, prompts
 * and configuration would be, from the sequence seeded by `seed`. Never all one byte, so
 * compression has real work to do. */
static inline void fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15u + 1;
	for (size_t i = 0; i < len; i++) {
		uint64_t r = xorshift(&x);
		buf[i] = (r & 63) == 0 ? '\n' : (r & 7) == 0 ? ' ' : (uint8_t)('a' + (r >> 8) % 26);
	}
}

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001B3u;
	return h;
}

/* Reads `fd` to its end in reads of `cap` bytes, folding them into *sum and counting them
 * in *bytes; closes it. `who` and `path` name the program and file in an error. */
static inline int read_to_end(const char *who, const char *path, int fd, uint8_t *buf, size_t cap,
                              uint64_t *sum, uint64_t *bytes)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: cannot read %s: %s\n", who, path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		*sum = fnv1a(*sum, buf, (size_t)n);
		*bytes += (uint64_t)n;
	}
	close(fd);
	return 0;
}

#endif
