/* Unit tests for reading raw logs (core/rawlog.c): logs are built by hand here, byte by
 * byte as rawlog.h lays them out, including the damage a killed writer leaves behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "agenttrace/errors.h"
#include "agenttrace/rawlog.h"

static char log_path[128];

static void make_dir(void)
{
	scratch_create("rawlog");
	snprintf(log_path, sizeof log_path, "%s/log", dir);
}

TestSuite(rawlog, .init = make_dir, .fini = scratch_remove);

/* A log being built in memory: the header, then records appended at `off`. */
struct builder {
	uint8_t *bytes;
	size_t cap, off;
	struct at_rawlog_header header;
};

static void builder_init(struct builder *b)
{
	b->cap = 1 << 20;
	b->bytes = calloc(1, b->cap);
	cr_assert_not_null(b->bytes);
	b->off = AT_RAWLOG_HEADER_SIZE;
	b->header = (struct at_rawlog_header){.version = AT_RAWLOG_VERSION,
	                                      .header_size = AT_RAWLOG_HEADER_SIZE,
	                                      .pid = 4242,
	                                      .ppid = 1,
	                                      .images = 1};
	memcpy(b->header.magic, AT_RAWLOG_MAGIC, 8);
}

/* A distinct event for index `i`, its payload `len` bytes of a pattern of `i`. */
static at_event sample_event(unsigned i, uint32_t len, uint8_t *payload)
{
	for (uint32_t k = 0; k < len; k++)
		payload[k] = (uint8_t)(i * 31 + k);
	return (at_event){.seq = 0,
	                  .thread = i % 3,
	                  .call = (uint16_t)(i % 2 ? AT_CALL_getrandom : AT_CALL_clock_gettime),
	                  .flags = (uint16_t)(i & 1),
	                  .ret = -(int64_t)i,
	                  .err = (int32_t)i * 2,
	                  .fd = (int32_t)i - 1,
	                  .dur_ns = 1000 + i,
	                  .arg0 = i * 7,
	                  .arg1 = i * 11,
	                  .len = len,
	                  .payload = len ? payload : NULL};
}

enum commit_state { COMMITTED, SIZE_ONLY };

/* Appends a record, laid out by at_rawrec_fill as the preload does; returns its offset. A
 * SIZE_ONLY record is what a writer killed after storing the size (and maybe the fields)
 * but before the commit word leaves. */
static size_t add_record(struct builder *b, const at_event *ev, enum commit_state state)
{
	size_t stride = at_rawrec_stride_for(ev);
	cr_assert_leq(b->off + stride, b->cap);
	size_t at = b->off;
	struct at_rawrec *r = (struct at_rawrec *)(b->bytes + at);
	uint32_t size = at_rawrec_fill(r, ev, ev->dur_ns);
	if (state == COMMITTED)
		at_rawrec_commit(r, size);
	b->off += stride;
	return at;
}

/* Space a writer reserved and never wrote: zeros. */
static void add_hole(struct builder *b, size_t len)
{
	cr_assert_eq(len % 8, 0);
	b->off += len;
}

/* Writes the log with tail = allocated = the end of what was added, unless set already. */
static void write_log(struct builder *b, size_t file_size)
{
	if (!b->header.tail)
		b->header.tail = b->off;
	if (!b->header.allocated)
		b->header.allocated = b->off;
	memcpy(b->bytes, &b->header, sizeof b->header);
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	size_t len = file_size ? file_size : b->off;
	cr_assert_eq(write(fd, b->bytes, len), (ssize_t)len);
	close(fd);
	free(b->bytes);
	b->bytes = NULL;
}

static void expect_event(at_rawlog_view *v, const at_event *want, const char *what)
{
	at_event got;
	memset(&got, 0xA5, sizeof got);
	cr_assert_eq(at_rawlog_next(v, &got), 1, "%s: no record", what);
	cr_assert_eq(got.thread, want->thread, "%s: thread", what);
	cr_assert_eq(got.call, want->call, "%s: call", what);
	cr_assert_eq(got.flags, want->flags, "%s: flags", what);
	cr_assert_eq(got.ret, want->ret, "%s: ret %ld, want %ld", what, (long)got.ret,
	             (long)want->ret);
	cr_assert_eq(got.err, want->err, "%s: err", what);
	cr_assert_eq(got.fd, want->fd, "%s: fd", what);
	cr_assert_eq(got.dur_ns, want->dur_ns, "%s: dur", what);
	cr_assert_eq(got.arg0, want->arg0, "%s: arg0", what);
	cr_assert_eq(got.arg1, want->arg1, "%s: arg1", what);
	cr_assert_eq(got.len, want->len, "%s: len", what);
	if (want->len)
		cr_assert(memcmp(got.payload, want->payload, want->len) == 0, "%s: payload", what);
}

static void expect_end(at_rawlog_view *v)
{
	at_event ev;
	cr_assert_eq(at_rawlog_next(v, &ev), 0, "a record after the end");
	cr_assert_eq(at_rawlog_next(v, &ev), 0, "the end does not stay the end");
}

Test(rawlog, reads_committed_records_in_order)
{
	static const uint32_t lens[] = {16, 0, 1, 7, 8, 100, 4096, 24};
	enum { N = sizeof lens / sizeof lens[0] };
	static uint8_t pay[N][4096];
	at_event evs[N];
	struct builder b;
	builder_init(&b);
	for (unsigned i = 0; i < N; i++) {
		evs[i] = sample_event(i, lens[i], pay[i]);
		add_record(&b, &evs[i], COMMITTED);
	}
	write_log(&b, 0);
	at_rawlog_view v;
	cr_assert_eq(at_rawlog_open(log_path, &v), 0);
	cr_expect_eq(at_rawlog_header(&v)->pid, 4242);
	for (unsigned i = 0; i < N; i++) {
		char what[32];
		snprintf(what, sizeof what, "record %u", i);
		expect_event(&v, &evs[i], what);
	}
	expect_end(&v);
	cr_expect_eq(v.torn, 0);
	at_rawlog_close(&v);
}

Test(rawlog, skips_a_record_whose_commit_never_came)
{
	uint8_t pa[16], pb[40], pc[3];
	at_event a = sample_event(1, sizeof pa, pa), torn = sample_event(2, sizeof pb, pb),
	         c = sample_event(3, sizeof pc, pc);
	struct builder b;
	builder_init(&b);
	add_record(&b, &a, COMMITTED);
	add_record(&b, &torn, SIZE_ONLY);
	add_record(&b, &c, COMMITTED);
	add_record(&b, &torn, SIZE_ONLY); /* the last record torn too */
	write_log(&b, 0);
	at_rawlog_view v;
	cr_assert_eq(at_rawlog_open(log_path, &v), 0);
	expect_event(&v, &a, "before the torn record");
	expect_event(&v, &c, "after the torn record");
	expect_end(&v);
	cr_expect_eq(v.torn, 2, "torn = %lu", (unsigned long)v.torn);
	at_rawlog_close(&v);
}

Test(rawlog, a_torn_record_payload_that_looks_like_a_record_is_not_read)
{
	/* The torn record's payload holds a whole committed record: skipping the torn one by
	 * its size must not land inside it. */
	uint8_t inner_pay[8], outer_pay[256], pc[8];
	at_event inner = sample_event(7, sizeof inner_pay, inner_pay);
	struct builder fake;
	builder_init(&fake);
	size_t at = add_record(&fake, &inner, COMMITTED);
	memset(outer_pay, 0, sizeof outer_pay);
	memcpy(outer_pay + 8, fake.bytes + at, at_rawrec_stride_for(&inner));
	free(fake.bytes);

	at_event outer = sample_event(8, sizeof outer_pay, outer_pay), c = sample_event(9, 8, pc);
	struct builder b;
	builder_init(&b);
	add_record(&b, &outer, SIZE_ONLY);
	add_record(&b, &c, COMMITTED);
	write_log(&b, 0);
	at_rawlog_view v;
	cr_assert_eq(at_rawlog_open(log_path, &v), 0);
	expect_event(&v, &c, "the record after the torn one");
	expect_end(&v);
	cr_expect_eq(v.torn, 1);
	at_rawlog_close(&v);
}

Test(rawlog, resynchronises_over_a_zero_hole)
{
	uint8_t pa[16], pc[16], pd[64];
	at_event a = sample_event(1, sizeof pa, pa), c = sample_event(3, sizeof pc, pc),
	         d = sample_event(4, sizeof pd, pd);
	static const size_t holes[] = {8, 80, 88, 96, 4000};
	for (size_t h = 0; h < sizeof holes / sizeof holes[0]; h++) {
		struct builder b;
		builder_init(&b);
		add_record(&b, &a, COMMITTED);
		add_hole(&b, holes[h]);
		add_record(&b, &c, COMMITTED);
		add_record(&b, &d, COMMITTED);
		write_log(&b, 0);
		at_rawlog_view v;
		cr_assert_eq(at_rawlog_open(log_path, &v), 0);
		char what[64];
		snprintf(what, sizeof what, "after a %zu-byte hole", holes[h]);
		expect_event(&v, &a, "before the hole");
		expect_event(&v, &c, what);
		expect_event(&v, &d, what);
		expect_end(&v);
		cr_expect_geq(v.torn, 1, "the hole was not counted as torn");
		at_rawlog_close(&v);
	}
}

Test(rawlog, resync_ignores_a_marker_whose_word_does_not_match_its_size)
{
	uint8_t pa[16], pc[16];
	at_event a = sample_event(1, sizeof pa, pa), c = sample_event(3, sizeof pc, pc);
	struct builder b;
	builder_init(&b);
	add_record(&b, &a, COMMITTED);
	size_t hole = b.off;
	add_hole(&b, 256);
	/* Inside the hole, 8-aligned: a size with the commit word of another size. */
	uint32_t stray[2] = {96, at_rawrec_commit_word(104)};
	memcpy(b.bytes + hole + 64, stray, sizeof stray);
	add_record(&b, &c, COMMITTED);
	write_log(&b, 0);
	at_rawlog_view v;
	cr_assert_eq(at_rawlog_open(log_path, &v), 0);
	expect_event(&v, &a, "before the hole");
	expect_event(&v, &c, "after the hole");
	expect_end(&v);
	at_rawlog_close(&v);
}

/* Three records; returns the end offset of each in `ends`. */
static void build_three(struct builder *b, at_event *evs, uint8_t (*pay)[32], size_t *ends)
{
	builder_init(b);
	for (unsigned i = 0; i < 3; i++) {
		evs[i] = sample_event(i, 20 + i, pay[i]);
		add_record(b, &evs[i], COMMITTED);
		ends[i] = b->off;
	}
}

static unsigned count_records(void)
{
	at_rawlog_view v;
	at_event ev;
	unsigned n = 0;
	cr_assert_eq(at_rawlog_open(log_path, &v), 0);
	cr_assert_leq(v.end, v.size);
	while (at_rawlog_next(&v, &ev) == 1)
		n++;
	at_rawlog_close(&v);
	return n;
}

Test(rawlog, stops_at_the_lesser_of_tail_and_allocated)
{
	at_event evs[3];
	uint8_t pay[3][32];
	size_t ends[3];
	struct builder b;

	/* allocated below tail: stores past allocated may never have reached the disk */
	build_three(&b, evs, pay, ends);
	b.header.tail = ends[2];
	b.header.allocated = ends[1];
	write_log(&b, 0);
	cr_expect_eq(count_records(), 2, "tail %zu, allocated %zu", ends[2], ends[1]);

	/* tail below allocated: nothing was reserved past the tail */
	build_three(&b, evs, pay, ends);
	b.header.tail = ends[0];
	b.header.allocated = ends[2];
	write_log(&b, 0);
	cr_expect_eq(count_records(), 1, "tail %zu, allocated %zu", ends[0], ends[2]);

	/* tail inside the third record: it is not read, even though it is committed */
	build_three(&b, evs, pay, ends);
	b.header.tail = ends[2] - 8;
	b.header.allocated = ends[2];
	write_log(&b, 0);
	cr_expect_eq(count_records(), 2, "tail inside a record");

	/* both past the end of the file: the file's size bounds the view */
	build_three(&b, evs, pay, ends);
	b.header.tail = b.header.allocated = 1 << 30;
	write_log(&b, 0);
	cr_expect_eq(count_records(), 3, "tail past the file");

	/* a prepared replay stream has no allocation to wait for: tail alone bounds it */
	build_three(&b, evs, pay, ends);
	b.header.flags = AT_RAWLOG_REPLAY;
	b.header.tail = ends[2];
	b.header.allocated = AT_RAWLOG_HEADER_SIZE;
	write_log(&b, 0);
	cr_expect_eq(count_records(), 3, "replay stream");
}

Test(rawlog, an_empty_log_has_no_records)
{
	struct builder b;
	builder_init(&b);
	write_log(&b, 0);
	cr_expect_eq(count_records(), 0);
}

Test(rawlog, open_rejects_bad_magic)
{
	struct builder b;
	builder_init(&b);
	memcpy(b.header.magic, "ATRAWLOg", 8);
	write_log(&b, 0);
	at_rawlog_view v;
	cr_expect_eq(at_rawlog_open(log_path, &v), AT_ECORRUPT);
	cr_expect_null(v.base, "a refused log stays mapped");
}

Test(rawlog, open_rejects_other_versions)
{
	static const uint32_t versions[] = {0, AT_RAWLOG_VERSION + 1, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		struct builder b;
		builder_init(&b);
		b.header.version = versions[i];
		write_log(&b, 0);
		at_rawlog_view v;
		cr_expect_eq(at_rawlog_open(log_path, &v), AT_EVERSION, "version %u", versions[i]);
	}
}

Test(rawlog, open_rejects_impossible_headers)
{
	struct builder b;
	at_rawlog_view v;
	static const uint32_t sizes[] = {0, 8, 4100, 1u << 30};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		builder_init(&b);
		b.header.header_size = sizes[i];
		write_log(&b, 0);
		cr_expect_eq(at_rawlog_open(log_path, &v), AT_ECORRUPT, "header_size %u", sizes[i]);
	}
	builder_init(&b);
	write_log(&b, 20); /* shorter than a header */
	cr_expect_eq(at_rawlog_open(log_path, &v), AT_ETRUNCATED);
	unlink(log_path);
	cr_expect_eq(at_rawlog_open(log_path, &v), AT_EIO);
}
