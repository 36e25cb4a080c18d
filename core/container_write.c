/* Writing a sealed trace. Appends only: header, chunks, metadata, index, trailer. The file
 * is fsynced before the writer reports success, and removed if anything fails, so a
 * sealed trace on disk is always whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "agenttrace/codec.h"
#include "agenttrace/crc32c.h"
#include "agenttrace/errors.h"
#include "container_internal.h"

/* zstd level 1: on file contents it compresses three times faster than level 3 and as
 * well; clock events seal to 0.3 B instead of 0.14 B at level 9 (docs/performance.md). */
#define DEFAULT_LEVEL 1

#define WRITEBACK_EVERY (1u << 20)

/* A stream's open chunk: its events so far, encoded, not written yet. */
struct open_chunk {
	unsigned stream; /* index into streams */
	uint8_t *raw;
	size_t raw_len, raw_cap;
	uint32_t events;
	uint64_t first_seq;
	at_codec_state codec;
};

struct at_trace_writer {
	int fd;
	char *path;
	uint64_t offset;
	uint64_t writeback; /* the offset up to which writeback was started */
	int level;
	ZSTD_CCtx *cctx;
	int failed; /* the first error; later calls return it */

	/* The current stream's open chunk (cur.raw NULL: no stream begun), and the one of a
	 * stream set aside by at_trace_writer_hold (held.raw NULL: none). */
	struct open_chunk cur, held;
	uint8_t *zbuf;
	size_t zcap;

	struct at_stream_info *streams;
	unsigned nstreams, streams_cap;
	struct at_chunk_info *chunks;
	unsigned nchunks, chunks_cap;
};

void at_stream_entry_put(uint8_t *p, const struct at_stream_info *s)
{
	put32(p, (uint32_t)s->pid);
	put32(p + 4, (uint32_t)s->ppid);
	put32(p + 8, s->flags);
	put32(p + 12, s->threads);
	put32(p + 16, s->images);
	put32(p + 20, 0);
	put64(p + 24, s->events);
	put64(p + 32, s->payload_bytes);
	put64(p + 40, s->torn);
	put64(p + 48, s->start_ns);
}

void at_chunk_entry_put(uint8_t *p, const struct at_chunk_info *c)
{
	put64(p, c->offset);
	put64(p + 8, c->first_seq);
	put32(p + 16, c->stream);
	put32(p + 20, c->events);
	put32(p + 24, c->raw_len);
	put32(p + 28, c->zlen);
	put32(p + 32, c->crc);
	put32(p + 36, c->kind);
}

static int fail(at_trace_writer *w, int code)
{
	if (!w->failed)
		w->failed = code;
	return w->failed;
}

static int write_all(at_trace_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (w->failed)
		return w->failed;
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(w, (errno == ENOSPC || errno == EDQUOT) ? AT_ENOSPC : AT_EIO);
		p += n;
		len -= (size_t)n;
		w->offset += (uint64_t)n;
	}
	return 0;
}

static void *grow(void *ptr, unsigned *cap, unsigned need, size_t elem)
{
	if (need <= *cap)
		return ptr;
	unsigned ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(ptr, (size_t)ncap * elem);
	if (np)
		*cap = ncap;
	return np;
}

int at_trace_writer_create(const char *path, int level, at_trace_writer **out)
{
	*out = NULL;
	at_trace_writer *w = calloc(1, sizeof *w);
	if (!w)
		return AT_ENOMEM;
	w->fd = -1;
	w->level = level ? level : DEFAULT_LEVEL;
	w->path = strdup(path);
	w->cctx = ZSTD_createCCtx();
	if (!w->path || !w->cctx) {
		at_trace_writer_abort(w);
		return AT_ENOMEM;
	}
	/* 0600: a trace holds what the program read and sent (secrets are masked, but a
	 * program's data is still its owner's business). */
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		int code = errno == EEXIST                        ? AT_EEXIST
		           : (errno == ENOSPC || errno == EDQUOT) ? AT_ENOSPC
		                                                  : AT_EIO;
		free(w->path);
		w->path = NULL; /* not ours: do not remove it */
		at_trace_writer_abort(w);
		return code;
	}

	uint8_t h[FILE_HEADER_SIZE] = {0};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	memcpy(h, AT_TRACE_MAGIC, 8);
	h[8] = AT_TRACE_VERSION & 0xFF;
	h[9] = AT_TRACE_VERSION >> 8;
	h[10] = AT_TRACE_MIN_READER & 0xFF;
	h[11] = AT_TRACE_MIN_READER >> 8;
	put32(h + 12, FILE_HEADER_SIZE);
	put64(h + 16, AT_TRACE_FEATURE_DELTA_TIME | AT_TRACE_FEATURE_FILES);
	put64(h + 24, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
	put32(h + 32, AT_CHUNK_TARGET);
	put32(h + 60, at_crc32c(0, h, 60));
	int rc = write_all(w, h, sizeof h);
	if (rc) {
		at_trace_writer_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Compresses `raw` and writes it as a chunk of stream `stream`, of `kind`, first step
 * `first_seq`. */
static int write_chunk(at_trace_writer *w, unsigned stream, uint32_t kind, uint64_t first_seq,
                       uint32_t events, const uint8_t *raw, size_t raw_len)
{
	size_t bound = ZSTD_compressBound(raw_len);
	if (bound > w->zcap) {
		free(w->zbuf);
		w->zbuf = malloc(bound);
		w->zcap = w->zbuf ? bound : 0;
		if (!w->zbuf)
			return fail(w, AT_ENOMEM);
	}
	size_t z = ZSTD_compressCCtx(w->cctx, w->zbuf, w->zcap, raw, raw_len, w->level);
	if (ZSTD_isError(z) || z > UINT32_MAX || raw_len > UINT32_MAX)
		return fail(w, AT_ECOMPRESS);
	if (!(w->chunks = grow(w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof *w->chunks)))
		return fail(w, AT_ENOMEM);

	struct at_chunk_info *c = &w->chunks[w->nchunks];
	*c = (struct at_chunk_info){.offset = w->offset,
	                            .first_seq = first_seq,
	                            .stream = stream,
	                            .events = events,
	                            .raw_len = (uint32_t)raw_len,
	                            .zlen = (uint32_t)z,
	                            .crc = at_crc32c(0, w->zbuf, z),
	                            .kind = kind};
	uint8_t h[CHUNK_HEADER_SIZE] = {0};
	put32(h, CHUNK_MAGIC);
	put32(h + 4, c->stream);
	put64(h + 8, c->first_seq);
	put32(h + 16, c->events);
	put32(h + 20, c->raw_len);
	put32(h + 24, c->zlen);
	put32(h + 28, c->crc);
	put32(h + 32, c->kind);
	put32(h + 36, at_crc32c(0, h, 36));
	int rc = write_all(w, h, sizeof h);
	if (!rc)
		rc = write_all(w, w->zbuf, z);
	if (rc)
		return rc;
	/* Start writing chunks back now, without waiting, a megabyte at a time: the fsync at
	 * the end then has little left to do, which matters when chunks were written while
	 * the program ran. (One call per chunk cost 15 us each, for small chunks.) */
	if (w->offset - w->writeback >= WRITEBACK_EVERY) {
		sync_file_range(w->fd, (off_t)w->writeback, (off_t)(w->offset - w->writeback),
		                SYNC_FILE_RANGE_WRITE);
		w->writeback = w->offset;
	}
	w->nchunks++;
	return 0;
}

static int flush_chunk(at_trace_writer *w, struct open_chunk *oc)
{
	if (!oc->raw || oc->events == 0 || w->failed)
		return w->failed;
	int rc = write_chunk(w, oc->stream, AT_CHUNK_EVENTS, oc->first_seq, oc->events, oc->raw,
	                     oc->raw_len);
	if (rc)
		return rc;
	oc->raw_len = 0;
	oc->events = 0;
	return 0;
}

/* Writes what is left of the chunk and frees it. */
static int close_chunk(at_trace_writer *w, struct open_chunk *oc)
{
	int rc = flush_chunk(w, oc);
	free(oc->raw);
	memset(oc, 0, sizeof *oc);
	return rc;
}

int at_trace_writer_keyframe(at_trace_writer *w, uint64_t step, const void *data, size_t len)
{
	if (!w->cur.raw)
		return AT_EINVAL;
	int rc = flush_chunk(w, &w->cur);
	if (rc)
		return rc;
	return write_chunk(w, w->cur.stream, AT_CHUNK_KEYFRAME, step, 0, data, len);
}

int at_trace_writer_begin_stream(at_trace_writer *w, const struct at_stream_info *info)
{
	int rc = close_chunk(w, &w->cur);
	if (rc)
		return rc;
	if (!(w->streams = grow(w->streams, &w->streams_cap, w->nstreams + 1, sizeof *w->streams)))
		return fail(w, AT_ENOMEM);
	w->cur.raw_cap = AT_CHUNK_TARGET + 4096;
	if (!(w->cur.raw = malloc(w->cur.raw_cap)))
		return fail(w, AT_ENOMEM);
	w->cur.stream = w->nstreams;
	struct at_stream_info *s = &w->streams[w->nstreams];
	*s = *info;
	s->events = s->payload_bytes = 0;
	s->threads = 0;
	return (int)w->nstreams++;
}

struct at_stream_info *at_trace_writer_stream(at_trace_writer *w)
{
	return w->cur.raw ? &w->streams[w->cur.stream] : NULL;
}

int at_trace_writer_hold(at_trace_writer *w)
{
	if (!w->cur.raw || w->held.raw)
		return AT_EINVAL;
	w->held = w->cur;
	memset(&w->cur, 0, sizeof w->cur);
	return 0;
}

int at_trace_writer_resume(at_trace_writer *w)
{
	if (!w->held.raw)
		return AT_EINVAL;
	int rc = close_chunk(w, &w->cur);
	w->cur = w->held;
	memset(&w->held, 0, sizeof w->held);
	return rc;
}

int at_trace_writer_append(at_trace_writer *w, const at_event *ev)
{
	struct open_chunk *oc = &w->cur;
	if (w->failed)
		return w->failed;
	if (!oc->raw)
		return AT_EINVAL;
	size_t need = at_event_encoded_max(ev);
	if (oc->raw_len + need > oc->raw_cap && oc->events) {
		int rc = flush_chunk(w, oc);
		if (rc)
			return rc;
	}
	if (need > oc->raw_cap) { /* one event bigger than a chunk: the chunk grows to hold it */
		uint8_t *nr = realloc(oc->raw, need);
		if (!nr)
			return fail(w, AT_ENOMEM);
		oc->raw = nr;
		oc->raw_cap = need;
	}
	if (oc->events == 0) {
		at_codec_reset(&oc->codec);
		oc->first_seq = ev->seq;
	}
	long n = at_event_encode(&oc->codec, ev, oc->raw + oc->raw_len, oc->raw_cap - oc->raw_len);
	if (n < 0)
		return fail(w, (int)n);
	oc->raw_len += (size_t)n;
	oc->events++;

	struct at_stream_info *s = &w->streams[oc->stream];
	s->events++;
	s->payload_bytes += ev->len;
	if (ev->thread + 1 > s->threads)
		s->threads = ev->thread + 1;
	if (oc->raw_len >= AT_CHUNK_TARGET)
		return flush_chunk(w, oc);
	return 0;
}

uint64_t at_trace_writer_bytes(const at_trace_writer *w)
{
	return w->offset;
}

int at_trace_writer_finish(at_trace_writer *w, const char *meta, size_t meta_len)
{
	int rc = close_chunk(w, &w->cur);
	int held = close_chunk(w, &w->held);
	if (!rc)
		rc = held;
	uint64_t meta_off = w->offset;
	if (!rc && meta_len > UINT32_MAX)
		rc = fail(w, AT_EINVAL);
	if (!rc) {
		uint8_t h[META_HEADER_SIZE];
		put32(h, META_MAGIC);
		put32(h + 4, (uint32_t)meta_len);
		put32(h + 8, at_crc32c(0, meta, meta_len));
		put32(h + 12, at_crc32c(0, h, 12));
		rc = write_all(w, h, sizeof h);
		if (!rc)
			rc = write_all(w, meta, meta_len);
	}

	uint64_t index_off = w->offset;
	size_t index_len = INDEX_HEADER_SIZE + (size_t)w->nstreams * STREAM_ENTRY_SIZE +
	                   (size_t)w->nchunks * CHUNK_ENTRY_SIZE + 4;
	uint8_t *idx = rc ? NULL : calloc(1, index_len);
	if (!rc && !idx)
		rc = fail(w, AT_ENOMEM);
	if (!rc) {
		uint8_t *p = idx;
		put32(p, INDEX_MAGIC);
		put32(p + 4, w->nstreams);
		put32(p + 8, w->nchunks);
		p += INDEX_HEADER_SIZE;
		for (unsigned i = 0; i < w->nstreams; i++, p += STREAM_ENTRY_SIZE)
			at_stream_entry_put(p, &w->streams[i]);
		for (unsigned i = 0; i < w->nchunks; i++, p += CHUNK_ENTRY_SIZE)
			at_chunk_entry_put(p, &w->chunks[i]);
		put32(p, at_crc32c(0, idx, index_len - 4));
		rc = write_all(w, idx, index_len);
	}
	free(idx);

	if (!rc) {
		uint8_t t[TRAILER_SIZE] = {0};
		put64(t, meta_off);
		put64(t + 8, index_off);
		put32(t + 16, (uint32_t)index_len);
		put32(t + 24, at_crc32c(0, t, 24));
		put32(t + 28, TRAILER_MAGIC);
		rc = write_all(w, t, sizeof t);
	}
	if (!rc && fsync(w->fd) < 0)
		rc = fail(w, (errno == ENOSPC || errno == EDQUOT) ? AT_ENOSPC : AT_EIO);
	if (!rc && close(w->fd) < 0)
		rc = fail(w, (errno == ENOSPC || errno == EDQUOT) ? AT_ENOSPC : AT_EIO);
	if (!rc)
		w->fd = -1;
	if (rc) {
		at_trace_writer_abort(w);
		return rc;
	}
	free(w->path);
	w->path = NULL;
	at_trace_writer_abort(w); /* frees what is left; the file stays */
	return 0;
}

void at_trace_writer_abort(at_trace_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->path)
		unlink(w->path);
	free(w->path);
	free(w->cur.raw);
	free(w->held.raw);
	free(w->zbuf);
	free(w->streams);
	free(w->chunks);
	ZSTD_freeCCtx(w->cctx);
	free(w);
}
