/* Reading and verifying a sealed trace. Every structure is checked against its CRC and
 * against the others before it is used, and every failure names the damaged part. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "agenttrace/codec.h"
#include "agenttrace/crc32c.h"
#include "agenttrace/errors.h"
#include "container_internal.h"

struct at_trace {
	int fd;
	uint64_t size;
	uint64_t features;
	uint64_t meta_off, index_off;
	char *meta;
	size_t meta_len;
	struct at_stream_info *streams;
	unsigned nstreams;
	struct at_chunk_info *chunks;
	unsigned nchunks;
	struct at_trace_problem problem;
};

struct at_trace_iter {
	at_trace *t;
	unsigned stream;
	uint64_t from;
	unsigned next_chunk; /* index of the next chunk to load */
	uint8_t *raw;
	size_t raw_len, raw_cap, pos;
	uint8_t *zbuf;
	size_t zcap;
	uint32_t left; /* events still to decode in the loaded chunk */
	uint64_t expect_seq;
	at_codec_state codec;
};

void at_stream_entry_get(const uint8_t *p, struct at_stream_info *s)
{
	s->pid = (int32_t)get32(p);
	s->ppid = (int32_t)get32(p + 4);
	s->flags = get32(p + 8);
	s->threads = get32(p + 12);
	s->images = get32(p + 16);
	s->reserved = 0;
	s->events = get64(p + 24);
	s->payload_bytes = get64(p + 32);
	s->torn = get64(p + 40);
	s->start_ns = get64(p + 48);
}

void at_chunk_entry_get(const uint8_t *p, struct at_chunk_info *c)
{
	c->offset = get64(p);
	c->first_seq = get64(p + 8);
	c->stream = get32(p + 16);
	c->events = get32(p + 20);
	c->raw_len = get32(p + 24);
	c->zlen = get32(p + 28);
	c->crc = get32(p + 32);
	c->kind = get32(p + 36);
}

__attribute__((format(printf, 5, 6))) static int
problem(struct at_trace_problem *p, int code, long chunk, uint64_t offset, const char *fmt, ...)
{
	if (p) {
		va_list ap;
		p->code = code;
		p->chunk = chunk;
		p->offset = offset;
		va_start(ap, fmt);
		vsnprintf(p->what, sizeof p->what, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return AT_EIO;
		if (n == 0)
			return AT_ETRUNCATED;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Header, trailer, metadata and index: everything but the chunk contents. */
static int load(at_trace *t, struct at_trace_problem *pb)
{
	uint8_t h[FILE_HEADER_SIZE], tr[TRAILER_SIZE];
	if (t->size < FILE_HEADER_SIZE)
		return problem(pb, AT_ETRUNCATED, -1, 0,
		               "the file is %" PRIu64 " bytes, shorter "
		               "than a trace header",
		               t->size);
	if (read_at(t->fd, h, sizeof h, 0))
		return problem(pb, AT_EIO, -1, 0, "cannot read the header: %s", strerror(errno));
	if (memcmp(h, AT_TRACE_MAGIC, 8) != 0)
		return problem(pb, AT_ECORRUPT, -1, 0,
		               "the header has no trace magic (not a trace "
		               "file, or its first bytes are damaged)");
	unsigned version = h[8] | (unsigned)h[9] << 8, min_reader = h[10] | (unsigned)h[11] << 8;
	if (get32(h + 60) != at_crc32c(0, h, 60))
		return problem(pb, AT_ECORRUPT, -1, 0, "the header failed its CRC32C check");
	if (min_reader > AT_TRACE_VERSION)
		return problem(pb, AT_EVERSION, -1, 0,
		               "format version %u needs a reader of version "
		               "%u or later; this agenttrace reads version %u",
		               version, min_reader, AT_TRACE_VERSION);
	t->features = get64(h + 16);
	if (t->features & ~AT_TRACE_FEATURES_KNOWN)
		return problem(pb, AT_EVERSION, -1, 16,
		               "the trace uses features 0x%" PRIx64 " that "
		               "this agenttrace does not know",
		               (uint64_t)(t->features & ~AT_TRACE_FEATURES_KNOWN));
	if (get32(h + 12) != FILE_HEADER_SIZE)
		return problem(pb, AT_ECORRUPT, -1, 12, "unexpected header size %u", get32(h + 12));

	if (t->size < FILE_HEADER_SIZE + META_HEADER_SIZE + INDEX_HEADER_SIZE + 4 + TRAILER_SIZE)
		return problem(pb, AT_ETRUNCATED, -1, t->size,
		               "the file ends after %" PRIu64 " bytes, "
		               "before its index (sealing was interrupted, or the file was cut)",
		               t->size);
	uint64_t toff = t->size - TRAILER_SIZE;
	if (read_at(t->fd, tr, sizeof tr, toff))
		return problem(pb, AT_EIO, -1, toff, "cannot read the trailer");
	if (get32(tr + 28) != TRAILER_MAGIC)
		return problem(pb, AT_ETRUNCATED, -1, toff,
		               "the trailer is missing: the file is "
		               "truncated or its last bytes are damaged");
	if (get32(tr + 24) != at_crc32c(0, tr, 24) || get32(tr + 20) != 0)
		return problem(pb, AT_ECORRUPT, -1, toff, "the trailer failed its CRC32C check");
	t->meta_off = get64(tr);
	t->index_off = get64(tr + 8);
	uint32_t index_len = get32(tr + 16);
	if (t->index_off + index_len != toff || t->meta_off + META_HEADER_SIZE > t->index_off ||
	    t->meta_off < FILE_HEADER_SIZE || index_len < INDEX_HEADER_SIZE + 4)
		return problem(pb, AT_ECORRUPT, -1, toff, "the trailer points outside the file");

	uint8_t *idx = malloc(index_len);
	if (!idx)
		return problem(pb, AT_ENOMEM, -1, 0, "out of memory reading the index");
	int rc = read_at(t->fd, idx, index_len, t->index_off);
	if (rc) {
		free(idx);
		return problem(pb, rc, -1, t->index_off, "cannot read the index");
	}
	if (get32(idx + index_len - 4) != at_crc32c(0, idx, index_len - 4) ||
	    get32(idx) != INDEX_MAGIC || get32(idx + 12) != 0) {
		free(idx);
		return problem(pb, AT_ECORRUPT, -1, t->index_off,
		               "the index failed its CRC32C check");
	}
	t->nstreams = get32(idx + 4);
	t->nchunks = get32(idx + 8);
	if ((uint64_t)INDEX_HEADER_SIZE + (uint64_t)t->nstreams * STREAM_ENTRY_SIZE +
	        (uint64_t)t->nchunks * CHUNK_ENTRY_SIZE + 4 !=
	    index_len) {
		free(idx);
		return problem(pb, AT_ECORRUPT, -1, t->index_off,
		               "the index size does not match "
		               "its counts");
	}
	t->streams = calloc(t->nstreams + 1, sizeof *t->streams);
	t->chunks = calloc(t->nchunks + 1, sizeof *t->chunks);
	if (!t->streams || !t->chunks) {
		free(idx);
		return problem(pb, AT_ENOMEM, -1, 0, "out of memory reading the index");
	}
	const uint8_t *p = idx + INDEX_HEADER_SIZE;
	for (unsigned i = 0; i < t->nstreams; i++, p += STREAM_ENTRY_SIZE)
		at_stream_entry_get(p, &t->streams[i]);
	uint64_t expect = FILE_HEADER_SIZE;
	for (unsigned i = 0; i < t->nchunks; i++, p += CHUNK_ENTRY_SIZE) {
		struct at_chunk_info *c = &t->chunks[i];
		at_chunk_entry_get(p, c);
		/* Chunks tile the file from the header to the metadata, so no byte escapes
		 * a CRC. */
		int kind_ok = (c->kind == AT_CHUNK_EVENTS && c->events != 0) ||
		              (c->kind == AT_CHUNK_KEYFRAME && c->events == 0 && version >= 2);
		if (c->offset != expect || c->stream >= t->nstreams || !kind_ok) {
			free(idx);
			return problem(pb, AT_ECORRUPT, (long)i, c->offset,
			               "index entry for chunk %u "
			               "is inconsistent",
			               i);
		}
		expect = c->offset + CHUNK_HEADER_SIZE + c->zlen;
	}
	free(idx);
	if (expect != t->meta_off)
		return problem(pb, AT_ECORRUPT, -1, expect,
		               "the chunks do not end where the "
		               "metadata starts");

	uint8_t mh[META_HEADER_SIZE];
	if (read_at(t->fd, mh, sizeof mh, t->meta_off))
		return problem(pb, AT_EIO, -1, t->meta_off, "cannot read the metadata");
	t->meta_len = get32(mh + 4);
	if (get32(mh) != META_MAGIC || get32(mh + 12) != at_crc32c(0, mh, 12) ||
	    t->meta_off + META_HEADER_SIZE + t->meta_len != t->index_off)
		return problem(pb, AT_ECORRUPT, -1, t->meta_off,
		               "the metadata header failed its "
		               "check");
	t->meta = malloc(t->meta_len + 1);
	if (!t->meta)
		return problem(pb, AT_ENOMEM, -1, 0, "out of memory reading the metadata");
	if (read_at(t->fd, t->meta, t->meta_len, t->meta_off + META_HEADER_SIZE))
		return problem(pb, AT_EIO, -1, t->meta_off, "cannot read the metadata");
	t->meta[t->meta_len] = '\0';
	if (get32(mh + 8) != at_crc32c(0, t->meta, t->meta_len))
		return problem(pb, AT_ECORRUPT, -1, t->meta_off,
		               "the metadata failed its CRC32C "
		               "check");
	return 0;
}

int at_trace_open(const char *path, at_trace **out, struct at_trace_problem *pb)
{
	*out = NULL;
	at_trace *t = calloc(1, sizeof *t);
	if (!t)
		return problem(pb, AT_ENOMEM, -1, 0, "out of memory");
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (t->fd < 0 || fstat(t->fd, &st) < 0) {
		int e = errno;
		at_trace_close(t);
		return problem(pb, AT_EIO, -1, 0, "cannot open: %s", strerror(e));
	}
	t->size = (uint64_t)st.st_size;
	int rc = load(t, pb);
	if (rc) {
		at_trace_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void at_trace_close(at_trace *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->meta);
	free(t->streams);
	free(t->chunks);
	free(t);
}

const char *at_trace_meta(const at_trace *t, size_t *len)
{
	if (len)
		*len = t->meta_len;
	return t->meta;
}

unsigned at_trace_stream_count(const at_trace *t)
{
	return t->nstreams;
}

const struct at_stream_info *at_trace_stream(const at_trace *t, unsigned i)
{
	return i < t->nstreams ? &t->streams[i] : NULL;
}

unsigned at_trace_chunk_count(const at_trace *t)
{
	return t->nchunks;
}

const struct at_chunk_info *at_trace_chunk(const at_trace *t, unsigned i)
{
	return i < t->nchunks ? &t->chunks[i] : NULL;
}

uint64_t at_trace_file_size(const at_trace *t)
{
	return t->size;
}

uint64_t at_trace_features(const at_trace *t)
{
	return t->features;
}

const struct at_trace_problem *at_trace_last_problem(const at_trace *t)
{
	return &t->problem;
}

/* Reads, checks and decompresses chunk `i` into *raw (grown as needed, *zbuf likewise). */
static int read_chunk(at_trace *t, unsigned i, uint8_t **zbuf, size_t *zcap, uint8_t **raw,
                      size_t *raw_cap)
{
	const struct at_chunk_info *c = &t->chunks[i];
	struct at_trace_problem *pb = &t->problem;
	uint8_t h[CHUNK_HEADER_SIZE];
	int rc = read_at(t->fd, h, sizeof h, c->offset);
	if (rc)
		return problem(pb, rc, (long)i, c->offset, "chunk %u cannot be read", i);
	if (get32(h) != CHUNK_MAGIC || get32(h + 36) != at_crc32c(0, h, 36))
		return problem(pb, AT_ECORRUPT, (long)i, c->offset,
		               "chunk %u: its header failed "
		               "its CRC32C check",
		               i);
	if (get32(h + 4) != c->stream || get64(h + 8) != c->first_seq ||
	    get32(h + 16) != c->events || get32(h + 20) != c->raw_len || get32(h + 24) != c->zlen ||
	    get32(h + 28) != c->crc || get32(h + 32) != c->kind)
		return problem(pb, AT_ECORRUPT, (long)i, c->offset,
		               "chunk %u: its header does not "
		               "match the index",
		               i);
	if (c->zlen > *zcap) {
		free(*zbuf);
		*zbuf = malloc(c->zlen);
		*zcap = *zbuf ? c->zlen : 0;
	}
	if (c->raw_len > *raw_cap) {
		free(*raw);
		*raw = malloc(c->raw_len);
		*raw_cap = *raw ? c->raw_len : 0;
	}
	if ((c->zlen && !*zbuf) || (c->raw_len && !*raw))
		return problem(pb, AT_ENOMEM, (long)i, c->offset, "out of memory for chunk %u", i);
	rc = read_at(t->fd, *zbuf, c->zlen, c->offset + CHUNK_HEADER_SIZE);
	if (rc)
		return problem(pb, rc, (long)i, c->offset, "chunk %u cannot be read", i);
	if (at_crc32c(0, *zbuf, c->zlen) != c->crc)
		return problem(pb, AT_ECORRUPT, (long)i, c->offset,
		               "chunk %u failed its CRC32C check", i);
	size_t n = ZSTD_decompress(*raw, *raw_cap, *zbuf, c->zlen);
	if (ZSTD_isError(n) || n != c->raw_len)
		return problem(pb, AT_ECORRUPT, (long)i, c->offset,
		               "chunk %u does not decompress "
		               "to its recorded size",
		               i);
	return 0;
}

/* Loads events chunk `i` into the iterator. */
static int load_chunk(at_trace_iter *it, unsigned i)
{
	const struct at_chunk_info *c = &it->t->chunks[i];
	int rc = read_chunk(it->t, i, &it->zbuf, &it->zcap, &it->raw, &it->raw_cap);
	if (rc)
		return rc;
	it->raw_len = c->raw_len;
	it->pos = 0;
	it->left = c->events;
	it->expect_seq = c->first_seq;
	at_codec_reset(&it->codec);
	return 0;
}

long at_trace_keyframe_find(const at_trace *t, unsigned stream, uint64_t step)
{
	long best = -1;
	for (unsigned i = 0; i < t->nchunks; i++) {
		const struct at_chunk_info *c = &t->chunks[i];
		if (c->stream == stream && c->kind == AT_CHUNK_KEYFRAME && c->first_seq <= step &&
		    (best < 0 || c->first_seq >= t->chunks[best].first_seq))
			best = (long)i;
	}
	return best;
}

int at_trace_keyframe_read(at_trace *t, unsigned chunk, uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	if (chunk >= t->nchunks || t->chunks[chunk].kind != AT_CHUNK_KEYFRAME)
		return AT_EINVAL;
	uint8_t *zbuf = NULL, *raw = NULL;
	size_t zcap = 0, raw_cap = 0;
	int rc = read_chunk(t, chunk, &zbuf, &zcap, &raw, &raw_cap);
	free(zbuf);
	if (rc) {
		free(raw);
		return rc;
	}
	*data = raw;
	*len = t->chunks[chunk].raw_len;
	return 0;
}

int at_trace_iter_open(at_trace *t, unsigned stream, uint64_t from, at_trace_iter **out)
{
	*out = NULL;
	if (stream >= t->nstreams)
		return AT_EINVAL;
	at_trace_iter *it = calloc(1, sizeof *it);
	if (!it)
		return AT_ENOMEM;
	it->t = t;
	it->stream = stream;
	it->from = from;
	/* Start at the last chunk of the stream that begins at or before `from` (chunks of a
	 * stream are in step order), or at its first chunk. */
	it->next_chunk = t->nchunks;
	for (unsigned i = 0; i < t->nchunks; i++) {
		if (t->chunks[i].stream != stream || t->chunks[i].kind != AT_CHUNK_EVENTS)
			continue;
		if (it->next_chunk != t->nchunks && t->chunks[i].first_seq > from)
			break;
		it->next_chunk = i;
	}
	*out = it;
	return 0;
}

int at_trace_iter_next(at_trace_iter *it, at_event *ev)
{
	at_trace *t = it->t;
	for (;;) {
		while (it->left == 0) {
			while (it->next_chunk < t->nchunks &&
			       (t->chunks[it->next_chunk].stream != it->stream ||
			        t->chunks[it->next_chunk].kind != AT_CHUNK_EVENTS))
				it->next_chunk++;
			if (it->next_chunk >= t->nchunks)
				return 0;
			int rc = load_chunk(it, it->next_chunk++);
			if (rc)
				return rc;
		}
		long n = at_event_decode(&it->codec, it->raw + it->pos, it->raw_len - it->pos, ev);
		long ci = (long)it->next_chunk - 1;
		if (n < 0 || ev->seq != it->expect_seq)
			return problem(&t->problem, AT_ECORRUPT, ci, t->chunks[ci].offset,
			               "chunk %ld: event %" PRIu64 " does not decode", ci,
			               it->expect_seq);
		it->pos += (size_t)n;
		it->left--;
		it->expect_seq++;
		if (it->left == 0 && it->pos != it->raw_len)
			return problem(&t->problem, AT_ECORRUPT, ci, t->chunks[ci].offset,
			               "chunk %ld has bytes after its last event", ci);
		if (ev->seq >= it->from)
			return 1;
	}
}

void at_trace_iter_close(at_trace_iter *it)
{
	if (!it)
		return;
	free(it->raw);
	free(it->zbuf);
	free(it);
}

static int verify(const char *path, int keyframes, struct at_trace_problem *pb)
{
	at_trace *t;
	int rc = at_trace_open(path, &t, pb);
	if (rc)
		return rc;
	for (unsigned s = 0; s < t->nstreams && !rc; s++) {
		at_trace_iter *it;
		at_event ev;
		uint64_t n = 0;
		rc = at_trace_iter_open(t, s, 0, &it);
		while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1) {
			rc = 0;
			if (ev.seq != n) {
				long ci = (long)it->next_chunk - 1;
				rc = problem(&t->problem, AT_ECORRUPT, ci, t->chunks[ci].offset,
				             "chunk %ld: stream %u continues at step %" PRIu64
				             " after step %" PRIu64,
				             ci, s, ev.seq, n ? n - 1 : 0);
			}
			n++;
		}
		at_trace_iter_close(it);
		if (!rc && n != t->streams[s].events)
			rc = problem(&t->problem, AT_ECORRUPT, -1, t->index_off,
			             "stream %u holds %" PRIu64
			             " events but the index says %" PRIu64,
			             s, n, t->streams[s].events);
		if (rc && pb)
			*pb = t->problem;
	}
	for (unsigned i = 0; keyframes && i < t->nchunks && !rc; i++) {
		uint8_t *kf;
		size_t len;
		if (t->chunks[i].kind != AT_CHUNK_KEYFRAME)
			continue;
		rc = at_trace_keyframe_read(t, i, &kf, &len);
		free(kf);
		if (rc && pb)
			*pb = t->problem;
	}
	at_trace_close(t);
	return rc;
}

int at_trace_verify(const char *path, struct at_trace_problem *pb)
{
	return verify(path, 1, pb);
}

int at_trace_verify_events(const char *path, struct at_trace_problem *pb)
{
	return verify(path, 0, pb);
}
