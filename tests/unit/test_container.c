/* Unit tests for the sealed trace container (core/container_write.c, container_read.c):
 * a multi-chunk trace reads back exactly, steps can be sought, and damage to any byte of a
 * file, or a cut at any length, is reported with the part it hit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "agenttrace/container.h"
#include "agenttrace/crc32c.h"
#include "agenttrace/errors.h"
#include "container_internal.h" /* the on-disk layout: where headers and chunks sit */

static void make_dir(void)
{
	scratch_create("container");
}

TestSuite(container, .init = make_dir, .fini = scratch_remove);

static void path_in_dir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* --- a big trace, generated so every event can be recomputed when checking -------------- */

enum { BIG_EVENTS = 300000, BIG_PAYLOAD = 1 << 20, SMALL_EVENTS = 50, LAST_EVENTS = 10 };

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static void fill_bytes(uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = splitmix(seed * 1000003u + i);
		memcpy(p + i, &w, len - i < 8 ? len - i : 8);
	}
}

static const uint64_t big_payload_at[] = {100000, 100001, 200000};
static const uint32_t big_payload_len[] = {BIG_PAYLOAD, 300 * 1024, BIG_PAYLOAD - 1};

static const struct at_stream_info stream_defs[] = {
    {.pid = 4100, .ppid = 1, .flags = AT_STREAM_ROOT, .images = 2, .start_ns = 11},
    {.pid = 4101, .ppid = 4100, .flags = 0, .images = 1, .start_ns = 22},
    {.pid = 4102,
     .ppid = 4100,
     .flags = AT_STREAM_INCOMPLETE | AT_STREAM_NOSPACE,
     .images = 1,
     .torn = 3,
     .start_ns = 33}, /* no events at all */
    {.pid = 4103,
     .ppid = 4101,
     .flags = AT_STREAM_INCOMPLETE | AT_STREAM_OVERFLOW,
     .images = 1,
     .torn = 1,
     .start_ns = 44},
};
enum { NSTREAMS = sizeof stream_defs / sizeof stream_defs[0] };
static const uint64_t stream_events[NSTREAMS] = {BIG_EVENTS, SMALL_EVENTS, 0, LAST_EVENTS};

static const char meta_json[] = "{\"argv\":[\"./sample\",\"--flag\"],\"name\":\"unit\","
                                "\"complete\":false,\"note\":\"caf\\u00e9\"}";

/* Event `seq` of `stream`; the payload goes into `buf` (BIG_PAYLOAD bytes). */
static void gen_event(unsigned stream, uint64_t seq, at_event *ev, uint8_t *buf)
{
	*ev = (at_event){.seq = seq, .fd = -1};
	uint64_t h = splitmix(seq + stream * 0x100000000ull);
	if (stream == 0) {
		ev->thread = (uint32_t)((seq / 5000) % 3);
		for (size_t k = 0; k < sizeof big_payload_at / sizeof big_payload_at[0]; k++) {
			if (seq == big_payload_at[k]) {
				ev->call = AT_CALL_getrandom;
				ev->arg0 = big_payload_len[k];
				ev->ret = big_payload_len[k];
				ev->len = big_payload_len[k];
				fill_bytes(buf, ev->len, seq);
				ev->payload = buf;
				return;
			}
		}
		if (seq % 997 == 500) {
			ev->call = AT_CALL_getrandom;
			ev->arg0 = 32;
			ev->ret = 32;
			ev->dur_ns = 300 + h % 100;
			ev->len = 32;
			fill_bytes(buf, ev->len, seq);
		} else {
			int64_t t = 5000000000ll + (int64_t)seq * 41 + (int64_t)(h % 7);
			int64_t sec = t / 1000000000, nsec = t % 1000000000;
			ev->call = AT_CALL_clock_gettime;
			ev->arg0 = 1;
			ev->dur_ns = 25 + h % 10;
			ev->len = 16;
			memcpy(buf, &sec, 8);
			memcpy(buf + 8, &nsec, 8);
		}
	} else if (stream == 1) {
		static const unsigned calls[] = {AT_CALL_gettimeofday, AT_CALL_arc4random,
		                                 AT_CALL_nanosleep, AT_CALL_getentropy};
		ev->call = (uint16_t)calls[seq % 4];
		ev->thread = (uint32_t)(seq % 5 == 4);
		ev->dur_ns = h % 100000;
		ev->ret = ev->call == AT_CALL_arc4random ? (int64_t)(uint32_t)h : 0;
		if (ev->call == AT_CALL_nanosleep && seq % 3 == 0) {
			ev->ret = -1;
			ev->err = EINTR;
			ev->arg0 = 1000000;
		}
		if (ev->call == AT_CALL_gettimeofday || ev->call == AT_CALL_getentropy) {
			ev->len = ev->call == AT_CALL_gettimeofday ? 24 : 64;
			ev->arg0 = ev->call == AT_CALL_getentropy ? 64 : 3;
			fill_bytes(buf, ev->len, h);
			if (ev->call == AT_CALL_gettimeofday) {
				int64_t sec = 1732291200 + (int64_t)seq,
				        usec = (int64_t)(h % 1000000);
				memcpy(buf, &sec, 8);
				memcpy(buf + 8, &usec, 8);
			}
		}
		ev->fd = seq % 7 == 0 ? 5 : -1;
		ev->flags = (uint16_t)(seq % 11 == 0);
	} else {
		ev->call = AT_CALL_time;
		ev->thread = (uint32_t)seq;
		ev->ret = 1732291200 + (int64_t)seq;
	}
	ev->payload = ev->len ? buf : NULL;
}

static void write_big_trace(const char *path)
{
	uint8_t *buf = malloc(BIG_PAYLOAD);
	cr_assert_not_null(buf);
	at_trace_writer *w;
	cr_assert_eq(at_trace_writer_create(path, 0, &w), 0);
	for (unsigned s = 0; s < NSTREAMS; s++) {
		cr_assert_eq(at_trace_writer_begin_stream(w, &stream_defs[s]), (int)s);
		for (uint64_t i = 0; i < stream_events[s]; i++) {
			at_event ev;
			gen_event(s, i, &ev, buf);
			int rc = at_trace_writer_append(w, &ev);
			cr_assert_eq(rc, 0, "stream %u event %" PRIu64 ": %s", s, i,
			             at_strerror(rc));
		}
	}
	cr_assert_eq(at_trace_writer_finish(w, meta_json, strlen(meta_json)), 0);
	free(buf);
}

static void expect_same_event(const at_event *want, const at_event *got, unsigned s)
{
	cr_assert_eq(got->seq, want->seq, "stream %u: seq %" PRIu64 ", want %" PRIu64, s, got->seq,
	             want->seq);
	cr_assert_eq(got->thread, want->thread, "stream %u step %" PRIu64 ": thread", s, want->seq);
	cr_assert_eq(got->call, want->call, "stream %u step %" PRIu64 ": call", s, want->seq);
	cr_assert_eq(got->flags, want->flags, "stream %u step %" PRIu64 ": flags", s, want->seq);
	cr_assert_eq(got->ret, want->ret, "stream %u step %" PRIu64 ": ret", s, want->seq);
	cr_assert_eq(got->err, want->err, "stream %u step %" PRIu64 ": err", s, want->seq);
	cr_assert_eq(got->fd, want->fd, "stream %u step %" PRIu64 ": fd", s, want->seq);
	cr_assert_eq(got->dur_ns, want->dur_ns, "stream %u step %" PRIu64 ": dur", s, want->seq);
	cr_assert_eq(got->arg0, want->arg0, "stream %u step %" PRIu64 ": arg0", s, want->seq);
	cr_assert_eq(got->arg1, want->arg1, "stream %u step %" PRIu64 ": arg1", s, want->seq);
	cr_assert_eq(got->len, want->len, "stream %u step %" PRIu64 ": len", s, want->seq);
	if (want->len)
		cr_assert(memcmp(got->payload, want->payload, want->len) == 0,
		          "stream %u step %" PRIu64 ": payload differs", s, want->seq);
}

/* Writes the big trace in the test's directory and opens it. */
static at_trace *open_big_trace(void)
{
	char path[128];
	path_in_dir(path, sizeof path, "big.at");
	write_big_trace(path);
	at_trace *t;
	struct at_trace_problem pb = {0};
	cr_assert_eq(at_trace_open(path, &t, &pb), 0, "open: %s", pb.what);
	return t;
}

Test(container, big_trace_reads_back_every_event)
{
	at_trace *t = open_big_trace();
	size_t meta_len;
	const char *meta = at_trace_meta(t, &meta_len);
	cr_assert_eq(meta_len, strlen(meta_json));
	cr_assert(memcmp(meta, meta_json, meta_len) == 0 && meta[meta_len] == '\0');
	cr_assert_eq(at_trace_stream_count(t), NSTREAMS);

	uint8_t *buf = malloc(BIG_PAYLOAD);
	cr_assert_not_null(buf);
	for (unsigned s = 0; s < NSTREAMS; s++) {
		at_trace_iter *it;
		cr_assert_eq(at_trace_iter_open(t, s, 0, &it), 0);
		at_event got, want;
		uint64_t n = 0;
		int rc;
		while ((rc = at_trace_iter_next(it, &got)) == 1) {
			gen_event(s, n, &want, buf);
			expect_same_event(&want, &got, s);
			n++;
		}
		cr_assert_eq(rc, 0, "stream %u: iteration failed: %s", s,
		             at_trace_last_problem(t)->what);
		cr_assert_eq(n, stream_events[s], "stream %u: %" PRIu64 " events", s, n);
		at_trace_iter_close(it);
	}
	free(buf);
	at_trace_iter *it;
	cr_expect_eq(at_trace_iter_open(t, NSTREAMS, 0, &it), AT_EINVAL);
	at_trace_close(t);
}

Test(container, stream_infos_count_what_was_written)
{
	at_trace *t = open_big_trace();
	uint8_t *buf = malloc(BIG_PAYLOAD);
	cr_assert_not_null(buf);
	for (unsigned s = 0; s < NSTREAMS; s++) {
		const struct at_stream_info *got = at_trace_stream(t, s), *def = &stream_defs[s];
		uint64_t payload = 0;
		uint32_t threads = 0;
		for (uint64_t i = 0; i < stream_events[s]; i++) {
			at_event ev;
			gen_event(s, i, &ev, buf);
			payload += ev.len;
			if (ev.thread + 1 > threads)
				threads = ev.thread + 1;
		}
		cr_assert_not_null(got);
		cr_expect_eq(got->pid, def->pid, "stream %u pid", s);
		cr_expect_eq(got->ppid, def->ppid, "stream %u ppid", s);
		cr_expect_eq(got->flags, def->flags, "stream %u flags", s);
		cr_expect_eq(got->images, def->images, "stream %u images", s);
		cr_expect_eq(got->torn, def->torn, "stream %u torn", s);
		cr_expect_eq(got->start_ns, def->start_ns, "stream %u start_ns", s);
		cr_expect_eq(got->events, stream_events[s], "stream %u events", s);
		cr_expect_eq(got->payload_bytes, payload, "stream %u payload bytes", s);
		cr_expect_eq(got->threads, threads, "stream %u threads", s);
	}
	cr_expect_null(at_trace_stream(t, NSTREAMS));
	free(buf);
	at_trace_close(t);
}

Test(container, chunks_tile_the_file_and_hold_each_stream_in_order)
{
	at_trace *t = open_big_trace();
	unsigned nchunks = at_trace_chunk_count(t), per_stream[NSTREAMS] = {0};
	uint64_t next_seq[NSTREAMS] = {0}, raw[NSTREAMS] = {0}, multi_raw = 0;
	unsigned multi = 0;
	uint64_t offset = FILE_HEADER_SIZE;
	unsigned last_stream = 0;
	int whole_big_event = 0;
	for (unsigned i = 0; i < nchunks; i++) {
		const struct at_chunk_info *c = at_trace_chunk(t, i);
		cr_assert_not_null(c);
		cr_assert_lt(c->stream, NSTREAMS);
		cr_assert_geq(c->stream, last_stream, "chunk %u goes back to an earlier stream", i);
		last_stream = c->stream;
		cr_assert_eq(c->offset, offset, "chunk %u is not where the last one ended", i);
		cr_assert_eq(c->first_seq, next_seq[c->stream], "chunk %u starts at step %" PRIu64,
		             i, c->first_seq);
		cr_assert_gt(c->events, 0);
		/* A chunk is cut near the target, so a step is one bounded decompression away;
		 * only an event larger than that gets a chunk of its own. */
		if (c->events > 1) {
			cr_assert_leq(c->raw_len, AT_CHUNK_TARGET + 4096, "chunk %u: %u bytes", i,
			              c->raw_len);
			multi_raw += c->stream == 0 ? c->raw_len : 0;
			multi += c->stream == 0;
		} else if (c->raw_len > (uint32_t)BIG_PAYLOAD)
			whole_big_event = 1;
		next_seq[c->stream] += c->events;
		raw[c->stream] += c->raw_len;
		per_stream[c->stream]++;
		offset += CHUNK_HEADER_SIZE + c->zlen;
	}
	cr_expect_null(at_trace_chunk(t, nchunks));
	for (unsigned s = 0; s < NSTREAMS; s++)
		cr_expect_eq(next_seq[s], stream_events[s],
		             "stream %u: chunks hold %" PRIu64 " events", s, next_seq[s]);
	cr_expect_gt(raw[0], 4 * (uint64_t)AT_CHUNK_TARGET);
	cr_expect_gt(multi_raw, 4 * (uint64_t)AT_CHUNK_TARGET);
	cr_expect_geq(multi, (multi_raw + AT_CHUNK_TARGET + 4095) / (AT_CHUNK_TARGET + 4096),
	              "stream 0: %" PRIu64 " coded bytes in %u chunks", multi_raw, multi);
	cr_expect_eq(per_stream[1], 1);
	cr_expect_eq(per_stream[2], 0);
	cr_expect_eq(per_stream[3], 1);
	cr_expect(whole_big_event, "no chunk holds a 1 MiB event whole");
	cr_expect_lt(offset, at_trace_file_size(t));
	at_trace_close(t);
}

/* Iterates `stream` from `from` and checks it yields exactly steps from..events-1. */
static void expect_iteration_from(at_trace *t, unsigned stream, uint64_t from, uint8_t *buf)
{
	at_trace_iter *it;
	cr_assert_eq(at_trace_iter_open(t, stream, from, &it), 0);
	uint64_t expect = from, total = stream_events[stream];
	at_event got, want;
	int rc;
	while ((rc = at_trace_iter_next(it, &got)) == 1) {
		cr_assert_eq(got.seq, expect,
		             "from %" PRIu64 ": got step %" PRIu64 ", want %" PRIu64, from, got.seq,
		             expect);
		gen_event(stream, expect, &want, buf);
		expect_same_event(&want, &got, stream);
		expect++;
		if (expect > from + 3000 && expect < total - 10)
			break; /* the start is what is under test; a few thousand steps suffice */
	}
	cr_assert_geq(rc, 0);
	if (rc == 0)
		cr_assert_eq(expect, from < total ? total : from, "from %" PRIu64, from);
	at_trace_iter_close(it);
}

Test(container, iteration_from_a_step_starts_there)
{
	at_trace *t = open_big_trace();
	uint8_t *buf = malloc(BIG_PAYLOAD);
	cr_assert_not_null(buf);
	uint64_t froms[] = {0, 1, 150000, 100000, 100001, 100002, BIG_EVENTS - 1};
	for (size_t k = 0; k < sizeof froms / sizeof froms[0]; k++)
		expect_iteration_from(t, 0, froms[k], buf);
	/* Each chunk boundary, and one step either side of it. */
	for (unsigned i = 0; i < at_trace_chunk_count(t); i++) {
		const struct at_chunk_info *c = at_trace_chunk(t, i);
		if (c->stream != 0)
			continue;
		expect_iteration_from(t, 0, c->first_seq, buf);
		if (c->first_seq)
			expect_iteration_from(t, 0, c->first_seq - 1, buf);
		expect_iteration_from(t, 0, c->first_seq + 1, buf);
	}
	expect_iteration_from(t, 1, 25, buf);
	expect_iteration_from(t, 3, 9, buf);
	/* Past the end: nothing. */
	at_trace_iter *it;
	at_event ev;
	uint64_t past[] = {BIG_EVENTS, UINT64_MAX};
	for (size_t k = 0; k < 2; k++) {
		cr_assert_eq(at_trace_iter_open(t, 0, past[k], &it), 0);
		cr_expect_eq(at_trace_iter_next(it, &ev), 0, "from %" PRIu64, past[k]);
		at_trace_iter_close(it);
	}
	cr_assert_eq(at_trace_iter_open(t, 2, 0, &it), 0);
	cr_expect_eq(at_trace_iter_next(it, &ev), 0, "the empty stream yields nothing");
	at_trace_iter_close(it);
	free(buf);
	at_trace_close(t);
}

Test(container, verify_accepts_a_sound_trace)
{
	char path[128];
	path_in_dir(path, sizeof path, "big.at");
	write_big_trace(path);
	struct at_trace_problem pb = {.code = 1};
	int rc = at_trace_verify(path, &pb);
	cr_expect_eq(rc, 0, "verify: %s", pb.what);
}

Test(container, writer_refuses_an_existing_path)
{
	char path[128];
	path_in_dir(path, sizeof path, "taken.at");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("keep me", f);
	fclose(f);
	at_trace_writer *w = (at_trace_writer *)path; /* not NULL: create must clear it */
	cr_expect_eq(at_trace_writer_create(path, 0, &w), AT_EEXIST);
	cr_expect_null(w);
	char text[16] = {0};
	f = fopen(path, "r");
	cr_assert_not_null(f, "the refused writer removed the existing file");
	cr_expect(fgets(text, sizeof text, f) && !strcmp(text, "keep me"));
	fclose(f);
}

Test(container, writer_abort_removes_the_partial_file)
{
	char path[128];
	path_in_dir(path, sizeof path, "partial.at");
	uint8_t *buf = malloc(BIG_PAYLOAD);
	cr_assert_not_null(buf);
	at_trace_writer *w;
	cr_assert_eq(at_trace_writer_create(path, 0, &w), 0);
	cr_assert_geq(at_trace_writer_begin_stream(w, &stream_defs[0]), 0);
	for (uint64_t i = 0; i < 120000; i++) { /* enough for chunks to reach the disk */
		at_event ev;
		gen_event(0, i, &ev, buf);
		cr_assert_eq(at_trace_writer_append(w, &ev), 0);
	}
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, FILE_HEADER_SIZE, "no chunk was written before the abort");
	cr_expect_eq((uint64_t)st.st_size, at_trace_writer_bytes(w));
	at_trace_writer_abort(w);
	cr_expect_neq(stat(path, &st), 0, "the partial file is still there");
	at_trace_writer_abort(NULL);
	free(buf);
}

/* --- damage ------------------------------------------------------------------------------ */

/* A small trace: two streams, 20 events, short metadata; a few hundred bytes. */
static void write_small_trace(const char *path)
{
	uint8_t buf[64];
	at_trace_writer *w;
	cr_assert_eq(at_trace_writer_create(path, 0, &w), 0);
	unsigned counts[2] = {12, 8};
	for (unsigned s = 0; s < 2; s++) {
		cr_assert_eq(at_trace_writer_begin_stream(w, &stream_defs[s]), (int)s);
		for (uint64_t i = 0; i < counts[s]; i++) {
			at_event ev;
			gen_event(s, i, &ev, buf);
			cr_assert_eq(at_trace_writer_append(w, &ev), 0);
		}
	}
	static const char meta[] = "{\"name\":\"small\"}";
	cr_assert_eq(at_trace_writer_finish(w, meta, strlen(meta)), 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *p = malloc(*len);
	cr_assert(p && fread(p, 1, *len, f) == *len);
	fclose(f);
	return p;
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
	/* A new file each time: ext4 flushes a file truncated and rewritten on close, which
	 * would make the sweeps below take seconds. */
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	close(fd);
}

struct extent {
	uint64_t begin, end;
};

/* Where each chunk (header and compressed bytes) lies, from the sound file's index. */
static unsigned chunk_extents(const char *path, struct extent *out, unsigned cap)
{
	at_trace *t;
	cr_assert_eq(at_trace_open(path, &t, NULL), 0);
	unsigned n = at_trace_chunk_count(t);
	cr_assert_leq(n, cap);
	for (unsigned i = 0; i < n; i++) {
		const struct at_chunk_info *c = at_trace_chunk(t, i);
		out[i] = (struct extent){c->offset, c->offset + CHUNK_HEADER_SIZE + c->zlen};
	}
	at_trace_close(t);
	return n;
}

static void expect_flip_detected(const char *bad_path, const uint8_t *good, size_t len, size_t off,
                                 uint8_t mask, const struct extent *chunks, unsigned nchunks)
{
	uint8_t *bad = malloc(len);
	cr_assert_not_null(bad);
	memcpy(bad, good, len);
	bad[off] ^= mask;
	write_file(bad_path, bad, len);
	free(bad);
	struct at_trace_problem pb = {.code = 0, .chunk = -2, .offset = 0, .what = ""};
	int rc = at_trace_verify(bad_path, &pb);
	cr_assert_lt(rc, 0, "byte %zu of %zu ^ 0x%02x went unnoticed", off, len, mask);
	cr_assert_eq(pb.code, rc, "byte %zu: problem code %d, verify said %d", off, pb.code, rc);
	cr_assert_neq(pb.what[0], '\0', "byte %zu: the problem says nothing", off);
	for (unsigned i = 0; i < nchunks; i++) {
		if (off < chunks[i].begin || off >= chunks[i].end)
			continue;
		cr_assert_eq(pb.chunk, (long)i, "byte %zu is in chunk %u, problem names %ld (%s)",
		             off, i, pb.chunk, pb.what);
		cr_assert(pb.offset >= chunks[i].begin && pb.offset < chunks[i].end,
		          "byte %zu is in chunk %u, problem points at offset %" PRIu64, off, i,
		          pb.offset);
	}
}

Test(container, verify_detects_a_flipped_bit_in_every_byte)
{
	char path[128], bad_path[128];
	path_in_dir(path, sizeof path, "small.at");
	path_in_dir(bad_path, sizeof bad_path, "bad.at");
	write_small_trace(path);
	struct at_trace_problem pb;
	cr_assert_eq(at_trace_verify(path, &pb), 0, "the sound file fails: %s", pb.what);
	struct extent chunks[8];
	unsigned nchunks = chunk_extents(path, chunks, 8);
	cr_assert_eq(nchunks, 2);
	size_t len;
	uint8_t *good = read_file(path, &len);
	cr_assert_lt(len, 8192, "the small trace is %zu bytes", len);
	cr_log_info("flipping bits in each of %zu bytes", len);
	for (size_t off = 0; off < len; off++) {
		expect_flip_detected(bad_path, good, len, off, 0x01, chunks, nchunks);
		if (off % 3 == 0 || off < FILE_HEADER_SIZE || off >= len - TRAILER_SIZE)
			expect_flip_detected(bad_path, good, len, off, 0x80, chunks, nchunks);
	}
	free(good);
}

Test(container, verify_detects_truncation_at_every_length)
{
	char path[128], bad_path[128];
	path_in_dir(path, sizeof path, "small.at");
	path_in_dir(bad_path, sizeof bad_path, "cut.at");
	write_small_trace(path);
	size_t len;
	uint8_t *good = read_file(path, &len);
	for (size_t cut = 0; cut < len; cut++) {
		write_file(bad_path, good, cut);
		struct at_trace_problem pb = {.what = ""};
		int rc = at_trace_verify(bad_path, &pb);
		cr_assert(rc == AT_ETRUNCATED || rc == AT_ECORRUPT,
		          "cut to %zu of %zu bytes: verify says %d (%s)", cut, len, rc, pb.what);
		cr_assert_neq(pb.what[0], '\0', "cut to %zu: the problem says nothing", cut);
	}
	free(good);
}

/* Rewrites a header field of a copy of the sound file and re-seals the header CRC. */
static int verify_with_header_patch(const char *path, const char *bad_path, size_t at,
                                    const uint8_t *bytes, size_t n, struct at_trace_problem *pb)
{
	size_t len;
	uint8_t *p = read_file(path, &len);
	memcpy(p + at, bytes, n);
	put32(p + 60, at_crc32c(0, p, 60));
	write_file(bad_path, p, len);
	free(p);
	return at_trace_verify(bad_path, pb);
}

Test(container, newer_min_reader_is_refused_with_eversion)
{
	char path[128], bad_path[128];
	path_in_dir(path, sizeof path, "small.at");
	path_in_dir(bad_path, sizeof bad_path, "newer.at");
	write_small_trace(path);
	struct at_trace_problem pb = {.what = ""};
	uint8_t min_reader[2] = {(AT_TRACE_VERSION + 1) & 0xFF, (AT_TRACE_VERSION + 1) >> 8};
	cr_expect_eq(verify_with_header_patch(path, bad_path, 10, min_reader, 2, &pb), AT_EVERSION,
	             "%s", pb.what);
	cr_expect_neq(pb.what[0], '\0');
	at_trace *t = NULL;
	cr_expect_eq(at_trace_open(bad_path, &t, NULL), AT_EVERSION);
	cr_expect_null(t);

	/* An unknown required feature bit is refused the same way. */
	uint8_t features[8];
	put64(features, AT_TRACE_FEATURE_DELTA_TIME | (AT_TRACE_FEATURES_KNOWN + 1) << 1);
	cr_expect_eq(verify_with_header_patch(path, bad_path, 16, features, 8, &pb), AT_EVERSION,
	             "%s", pb.what);
}

Test(container, newer_version_readable_by_this_reader_is_accepted)
{
	/* A newer writer that keeps the minimum reader at ours promises we can read it. */
	char path[128], bad_path[128];
	path_in_dir(path, sizeof path, "small.at");
	path_in_dir(bad_path, sizeof bad_path, "newer.at");
	write_small_trace(path);
	struct at_trace_problem pb = {.what = ""};
	uint8_t version[2] = {(AT_TRACE_VERSION + 1) & 0xFF, (AT_TRACE_VERSION + 1) >> 8};
	cr_expect_eq(verify_with_header_patch(path, bad_path, 8, version, 2, &pb), 0, "%s",
	             pb.what);
}

Test(container, a_trace_without_streams_is_sound)
{
	char path[128];
	path_in_dir(path, sizeof path, "empty.at");
	at_trace_writer *w;
	cr_assert_eq(at_trace_writer_create(path, 0, &w), 0);
	cr_assert_eq(at_trace_writer_finish(w, "{}", 2), 0);
	struct at_trace_problem pb = {.what = ""};
	cr_expect_eq(at_trace_verify(path, &pb), 0, "%s", pb.what);
	at_trace *t;
	cr_assert_eq(at_trace_open(path, &t, NULL), 0);
	cr_expect_eq(at_trace_stream_count(t), 0);
	cr_expect_eq(at_trace_chunk_count(t), 0);
	cr_expect_str_eq(at_trace_meta(t, NULL), "{}");
	at_trace_close(t);
}

Test(container, open_reports_a_missing_file)
{
	char path[128];
	path_in_dir(path, sizeof path, "missing.at");
	struct at_trace_problem pb = {.what = ""};
	at_trace *t = (at_trace *)path; /* not NULL: open must clear it */
	cr_expect_eq(at_trace_open(path, &t, &pb), AT_EIO);
	cr_expect_null(t);
	cr_expect_neq(pb.what[0], '\0');
	cr_expect_eq(at_trace_verify(path, &pb), AT_EIO);
}
