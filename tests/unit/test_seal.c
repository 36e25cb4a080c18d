/* Unit tests for sealing (core/seal.c), above all for sealing the root process's log while
 * the program still writes it (at_sealer_pump): whatever the pumps saw, finishing must give
 * the trace at_seal gives from the same logs once the program has ended (but for the place
 * of the streams of processes that ended early: pumps seal those whole, tested last). The
 * logs are written by hand as rawlog.h lays them out, through a shared mapping of a file
 * that grows, so that records can be appended, and left uncommitted, between pumps. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "agenttrace/container.h"
#include "agenttrace/errors.h"
#include "agenttrace/rawlog.h"
#include "agenttrace/seal.h"

#define ROOT  1000
#define CHILD 1001
/* Pids of processes that run until the test ends (this one and its parent), and of one
 * that has ended: a pump seals a log whole once no process has its pid and no writer holds
 * it (log_close lets go). */
#define RUNNING   ((int)getpid())
#define RUNNING_2 ((int)getppid())
#define LOG_SPACE (16u << 20) /* address space a hand-written log may grow into */

static char run_dir[128], home[128], live_path[128], ref_path[128];

static void make_dirs(void)
{
	scratch_create("seal");
	snprintf(run_dir, sizeof run_dir, "%s/run", dir);
	snprintf(home, sizeof home, "%s/home", dir);
	snprintf(live_path, sizeof live_path, "%s/live.at", dir);
	snprintf(ref_path, sizeof ref_path, "%s/ref.at", dir);
	cr_assert_eq(mkdir(run_dir, 0755), 0);
}

TestSuite(seal, .init = make_dirs, .fini = scratch_remove);

/* One process's raw log, written as the preload writes it: the file grows before `tail`
 * moves past its end, a record is reserved by moving `tail`, then filled, then committed. */
struct wlog {
	int fd;
	uint8_t *base;
	struct at_rawlog_header *h;
	uint64_t file_size;
};

static void log_create(struct wlog *l, int pid, int ppid, uint64_t start_ns)
{
	char path[256];
	snprintf(path, sizeof path, "%s/proc-%d-1.log", run_dir, pid);
	l->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(l->fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(flock(l->fd, LOCK_SH), 0); /* as every writer holds it (preload/log.c) */
	l->file_size = AT_RAWLOG_HEADER_SIZE;
	cr_assert_eq(ftruncate(l->fd, (off_t)l->file_size), 0);
	l->base = mmap(NULL, LOG_SPACE, PROT_READ | PROT_WRITE, MAP_SHARED, l->fd, 0);
	cr_assert_neq(l->base, MAP_FAILED);
	l->h = (struct at_rawlog_header *)l->base;
	/* No AT_RAWLOG_TSC: durations are nanoseconds already, and the sealer need not wait
	 * for a tick rate it can trust. */
	*l->h = (struct at_rawlog_header){.version = AT_RAWLOG_VERSION,
	                                  .header_size = AT_RAWLOG_HEADER_SIZE,
	                                  .tail = AT_RAWLOG_HEADER_SIZE,
	                                  .allocated = AT_RAWLOG_HEADER_SIZE,
	                                  .pid = pid,
	                                  .ppid = ppid,
	                                  .start_ns = start_ns,
	                                  .images = 1};
	memcpy(l->h->magic, AT_RAWLOG_MAGIC, 8);
}

static void log_close(struct wlog *l)
{
	munmap(l->base, LOG_SPACE);
	close(l->fd);
}

/* The shape of event `id`: every record layout in turn, from no payload to payloads the
 * blob store takes (reads of AT_BLOB_MIN bytes and more) and large ones it does not. */
static const struct {
	uint16_t call;
	uint32_t len;
} shapes[] = {{AT_CALL_clock_gettime, 16}, {AT_CALL_getrandom, 0},  {AT_CALL_read, 7},
              {AT_CALL_read, 4095},        {AT_CALL_read, 4096},    {AT_CALL_getrandom, 1},
              {AT_CALL_getrandom, 5000},   {AT_CALL_read, 20000},   {AT_CALL_read, 0},
              {AT_CALL_clock_gettime, 24}, {AT_CALL_getrandom, 100}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

/* Event `id`: every field follows from the id, so a sealed event is checked by its arg0.
 * The payload is valid until the next call. */
static at_event event_of(unsigned id)
{
	static uint8_t payload[20000];
	uint32_t len = shapes[id % NSHAPES].len;
	for (uint32_t k = 0; k < len; k++)
		payload[k] = (uint8_t)(id * 31 + k);
	int failed = len == 0 && id % 2;
	return (at_event){.thread = id % 3,
	                  .call = shapes[id % NSHAPES].call,
	                  .ret = failed ? -1 : (int64_t)len,
	                  .err = failed ? 11 : 0,
	                  .fd = shapes[id % NSHAPES].call == AT_CALL_read ? 3 + (int)(id % 4) : -1,
	                  .dur_ns = 1000 + id * 13,
	                  .arg0 = id,
	                  .arg1 = id * 11,
	                  .len = len,
	                  .payload = len ? payload : NULL};
}

/* Reserves and fills the record of event `id`, all but its commit word. */
static struct at_rawrec *log_reserve(struct wlog *l, unsigned id)
{
	at_event ev = event_of(id);
	uint64_t at = l->h->tail, end = at + at_rawrec_stride_for(&ev);
	cr_assert_leq(end, LOG_SPACE);
	if (end > l->file_size) {
		l->file_size = (end + 65535) & ~65535ull;
		cr_assert_eq(ftruncate(l->fd, (off_t)l->file_size), 0);
		__atomic_store_n(&l->h->allocated, l->file_size, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&l->h->tail, end, __ATOMIC_RELEASE);
	struct at_rawrec *r = (struct at_rawrec *)(l->base + at);
	at_rawrec_fill(r, &ev, ev.dur_ns);
	return r;
}

static void log_commit(struct at_rawrec *r)
{
	at_rawrec_commit(r, r->size);
}

static void log_append(struct wlog *l, unsigned first, unsigned count)
{
	for (unsigned id = first; id < first + count; id++)
		log_commit(log_reserve(l, id));
}

static at_sealer *begin(const char *blob_home)
{
	at_sealer *s;
	cr_assert_eq(at_sealer_begin(blob_home, live_path, &s), 0);
	return s;
}

static void pump(at_sealer *s, int root_pid)
{
	cr_assert_eq(at_sealer_pump(s, run_dir, root_pid), 0);
}

static void finish(at_sealer *s, int root_pid)
{
	json_t *meta = json_object();
	struct at_seal_stats st;
	struct at_trace_problem pb = {0};
	int rc = at_sealer_finish(s, run_dir, root_pid, meta, &st, &pb);
	cr_assert_eq(rc, 0, "at_sealer_finish: %d %s", rc, pb.what);
	json_decref(meta);
}

/* The reference: the same logs sealed in one go, after the fact. */
static void seal_reference(const char *blob_home, int root_pid)
{
	json_t *meta = json_object();
	struct at_seal_stats st;
	struct at_trace_problem pb = {0};
	int rc = at_seal(run_dir, root_pid, blob_home, meta, ref_path, &st, &pb);
	cr_assert_eq(rc, 0, "at_seal: %d %s", rc, pb.what);
	json_decref(meta);
}

static at_trace *open_trace(const char *path)
{
	at_trace *t;
	struct at_trace_problem pb = {0};
	cr_assert_eq(at_trace_open(path, &t, &pb), 0, "%s: %s", path, pb.what);
	return t;
}

static json_int_t meta_int(at_trace *t, const char *key)
{
	json_t *meta = json_loads(at_trace_meta(t, NULL), 0, NULL);
	cr_assert_not_null(meta);
	json_t *v = json_object_get(meta, key);
	cr_assert(json_is_integer(v), "meta has no integer \"%s\"", key);
	json_int_t n = json_integer_value(v);
	json_decref(meta);
	return n;
}

static void expect_same_event(const at_event *a, const at_event *b, const char *what)
{
	cr_assert_eq(a->seq, b->seq, "%s: seq", what);
	cr_assert_eq(a->thread, b->thread, "%s: thread", what);
	cr_assert_eq(a->call, b->call, "%s: call", what);
	cr_assert_eq(a->flags, b->flags, "%s: flags", what);
	cr_assert_eq(a->ret, b->ret, "%s: ret", what);
	cr_assert_eq(a->err, b->err, "%s: err", what);
	cr_assert_eq(a->fd, b->fd, "%s: fd", what);
	cr_assert_eq(a->arg0, b->arg0, "%s: arg0", what);
	cr_assert_eq(a->arg1, b->arg1, "%s: arg1", what);
	cr_assert_eq(a->dur_ns, b->dur_ns, "%s: dur_ns", what);
	cr_assert_eq(a->len, b->len, "%s: len", what);
	cr_assert(!a->len || !memcmp(a->payload, b->payload, a->len), "%s: payload", what);
}

/* The live trace holds what the reference holds: streams, events and metadata. */
static void expect_same_as_reference(void)
{
	at_trace *got = open_trace(live_path), *want = open_trace(ref_path);
	cr_assert_str_eq(at_trace_meta(got, NULL), at_trace_meta(want, NULL));
	cr_assert_eq(meta_int(got, "events"), meta_int(want, "events"));
	cr_assert_eq(at_trace_stream_count(got), at_trace_stream_count(want));
	for (unsigned i = 0; i < at_trace_stream_count(want); i++) {
		const struct at_stream_info *a = at_trace_stream(got, i),
		                            *b = at_trace_stream(want, i);
		cr_assert_eq(a->pid, b->pid, "stream %u: pid", i);
		cr_assert_eq(a->flags, b->flags, "stream %u: flags", i);
		cr_assert_eq(a->events, b->events, "stream %u: events", i);
		cr_assert_eq(a->torn, b->torn, "stream %u: torn", i);
		at_trace_iter *ia, *ib;
		cr_assert_eq(at_trace_iter_open(got, i, 0, &ia), 0);
		cr_assert_eq(at_trace_iter_open(want, i, 0, &ib), 0);
		for (uint64_t n = 0;; n++) {
			at_event ea, eb;
			int ra = at_trace_iter_next(ia, &ea), rb = at_trace_iter_next(ib, &eb);
			char what[64];
			snprintf(what, sizeof what, "stream %u event %lu", i, (unsigned long)n);
			cr_assert_eq(ra, rb, "%s: %d in the live trace, %d in the reference", what,
			             ra, rb);
			if (ra != 1)
				break;
			expect_same_event(&ea, &eb, what);
		}
		at_trace_iter_close(ia);
		at_trace_iter_close(ib);
	}
	at_trace_close(got);
	at_trace_close(want);
}

/* Stream `stream` of the live trace is process `pid`'s events `ids`, in that order. */
static void expect_stream(at_trace *t, unsigned stream, int pid, const unsigned *ids, size_t n)
{
	const struct at_stream_info *si = at_trace_stream(t, stream);
	cr_assert_eq(si->pid, pid, "stream %u is pid %d", stream, si->pid);
	cr_assert_eq(si->events, n, "stream %u has %lu events", stream, (unsigned long)si->events);
	at_trace_iter *it;
	cr_assert_eq(at_trace_iter_open(t, stream, 0, &it), 0);
	at_event got;
	for (size_t k = 0; k < n; k++) {
		char what[64];
		snprintf(what, sizeof what, "stream %u event %zu (id %u)", stream, k, ids[k]);
		cr_assert_eq(at_trace_iter_next(it, &got), 1, "%s: missing", what);
		at_event want = event_of(ids[k]);
		want.seq = k;
		expect_same_event(&got, &want, what);
	}
	cr_assert_eq(at_trace_iter_next(it, &got), 0, "stream %u: more events", stream);
	at_trace_iter_close(it);
}

/* Appends between pumps, in growing batches that push the file past the size it had when
 * the sealer mapped it, then compares with at_seal. */
static void live_then_compare(const char *blob_home)
{
	struct wlog root;
	log_create(&root, ROOT, 1, 100);
	at_sealer *s = begin(blob_home);
	pump(s, ROOT); /* a log with nothing in it yet */
	unsigned id = 0;
	for (unsigned batch = 1; batch <= 25; batch += 4) {
		log_append(&root, id, batch);
		id += batch;
		pump(s, ROOT);
	}
	log_append(&root, id, 30); /* written after the last pump: finish takes them */
	finish(s, ROOT);
	log_close(&root);
	seal_reference(blob_home, ROOT);
	expect_same_as_reference();
	at_trace *t = open_trace(live_path);
	cr_expect_eq(meta_int(t, "events"), id + 30);
	cr_expect_eq(meta_int(t, "torn_events"), 0);
	json_t *meta = json_loads(at_trace_meta(t, NULL), 0, NULL);
	cr_expect_eq(json_array_size(json_object_get(meta, "blobs")) > 0, blob_home != NULL,
	             "blobs used only with a blob store");
	json_decref(meta);
	at_trace_close(t);
}

Test(seal, live_sealing_gives_the_trace_at_seal_gives)
{
	live_then_compare(NULL);
}

Test(seal, live_sealing_with_a_blob_store_gives_the_trace_at_seal_gives)
{
	live_then_compare(home);
}

Test(seal, records_sealed_by_a_pump_are_not_read_again_at_finish)
{
	/* The point of pumping: finish goes on from where the pumps stopped. Spoiling the
	 * sealed records' commit words (which no writer does) shows that finish never looks at
	 * them again: at_seal, which does, counts them torn. */
	struct wlog root;
	log_create(&root, ROOT, 1, 100);
	at_sealer *s = begin(NULL);
	pump(s, ROOT); /* maps the log while it is empty */
	log_append(&root, 0, 5);
	pump(s, ROOT);
	for (uint64_t off = AT_RAWLOG_HEADER_SIZE; off < root.h->tail;) {
		struct at_rawrec *r = (struct at_rawrec *)(root.base + off);
		off += at_rawrec_stride(r->size);
		r->commit = 0;
	}
	log_append(&root, 5, 2);
	finish(s, ROOT);
	log_close(&root);
	at_trace *t = open_trace(live_path);
	expect_stream(t, 0, ROOT, (const unsigned[]){0, 1, 2, 3, 4, 5, 6}, 7);
	cr_expect_eq(meta_int(t, "torn_events"), 0);
	at_trace_close(t);
}

Test(seal, a_record_being_written_at_pump_time_is_waited_for)
{
	/* Event 1 is reserved (its size is there) but not committed when the pump runs, and
	 * event 2, reserved after it by another thread, is committed already. */
	struct wlog root;
	log_create(&root, ROOT, 1, 100);
	at_sealer *s = begin(NULL);
	log_append(&root, 0, 1);
	struct at_rawrec *pending = log_reserve(&root, 1);
	log_append(&root, 2, 1);
	pump(s, ROOT);
	log_commit(pending);
	pump(s, ROOT);
	log_append(&root, 3, 1);
	finish(s, ROOT);
	log_close(&root);
	at_trace *t = open_trace(live_path);
	expect_stream(t, 0, ROOT, (const unsigned[]){0, 1, 2, 3}, 4);
	cr_expect_eq(meta_int(t, "torn_events"), 0);
	cr_expect_eq(at_trace_stream(t, 0)->torn, 0);
	at_trace_close(t);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
}

Test(seal, a_record_never_committed_is_torn_and_the_rest_sealed)
{
	/* The writer of event 1 was killed mid-record: finish skips it, and seals what other
	 * threads committed after it, before and after the pump. */
	struct wlog root;
	log_create(&root, ROOT, 1, 100);
	at_sealer *s = begin(NULL);
	log_append(&root, 0, 1);
	log_reserve(&root, 1);
	log_append(&root, 2, 1);
	pump(s, ROOT);
	log_append(&root, 3, 2);
	finish(s, ROOT);
	log_close(&root);
	at_trace *t = open_trace(live_path);
	expect_stream(t, 0, ROOT, (const unsigned[]){0, 2, 3, 4}, 4);
	cr_expect_eq(meta_int(t, "torn_events"), 1);
	cr_expect_eq(at_trace_stream(t, 0)->torn, 1);
	at_trace_close(t);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
}

Test(seal, pumping_before_any_root_log_exists_changes_nothing)
{
	at_sealer *s = begin(NULL);
	pump(s, ROOT); /* the program has not started: no log at all */
	struct wlog root, child;
	log_create(&child, CHILD, ROOT, 200);
	log_append(&child, 100, 3);
	pump(s, ROOT + 7); /* a pid with no log: nothing to seal live */
	log_create(&root, ROOT, 1, 100);
	log_append(&root, 0, 4);
	finish(s, ROOT);
	log_close(&root);
	log_close(&child);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
}

Test(seal, finishing_with_no_log_at_all_matches_at_seal)
{
	at_sealer *s = begin(NULL);
	pump(s, ROOT);
	finish(s, ROOT);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
	at_trace *t = open_trace(live_path);
	cr_expect_eq(at_trace_stream_count(t), 0);
	at_trace_close(t);
}

Test(seal, a_live_stream_that_cannot_come_first_is_sealed_over_again)
{
	/* Pumped as the root, the child's log is no root at finish: its live part, flagged
	 * root and sealed first, cannot be used. */
	struct wlog root, child;
	log_create(&root, ROOT, 1, 100);
	log_create(&child, CHILD, ROOT, 200);
	log_append(&root, 0, 3);
	log_append(&child, 100, 3);
	at_sealer *s = begin(NULL);
	pump(s, CHILD);
	log_append(&child, 103, 2);
	pump(s, CHILD);
	finish(s, ROOT);
	log_close(&root);
	log_close(&child);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
	at_trace *t = open_trace(live_path);
	cr_expect(at_trace_stream(t, 0)->flags & AT_STREAM_ROOT);
	cr_expect(!(at_trace_stream(t, 1)->flags & AT_STREAM_ROOT));
	at_trace_close(t);
}

Test(seal, a_failed_pump_is_made_good_by_finish)
{
	/* A blob store that cannot take blobs (its directory is a file) fails the pump; by
	 * finish it works again, and finish seals everything from the raw logs. */
	char blobs[256];
	snprintf(blobs, sizeof blobs, "%s/blobs", home);
	cr_assert_eq(mkdir(home, 0700), 0);
	FILE *f = fopen(blobs, "w");
	cr_assert_not_null(f);
	fclose(f);
	struct wlog root;
	log_create(&root, ROOT, 1, 100);
	log_append(&root, 0, NSHAPES);
	at_sealer *s = begin(home);
	cr_assert_lt(at_sealer_pump(s, run_dir, ROOT), 0, "a blob could be stored");
	cr_assert_lt(at_sealer_pump(s, run_dir, ROOT), 0, "the failure was forgotten");
	cr_assert_eq(unlink(blobs), 0);
	log_append(&root, NSHAPES, 3);
	finish(s, ROOT);
	log_close(&root);
	seal_reference(home, ROOT);
	expect_same_as_reference();
}

Test(seal, other_processes_follow_the_live_root_stream_in_start_order)
{
	struct wlog root, late, early;
	log_create(&root, ROOT, 1, 100);
	log_append(&root, 0, 2);
	at_sealer *s = begin(NULL);
	pump(s, ROOT);
	log_create(&late, RUNNING, ROOT, 300);
	log_append(&late, 100, 2);
	log_create(&early, RUNNING_2, ROOT, 200); /* created later, but started earlier */
	log_append(&early, 200, 1);
	log_append(&root, 2, 1);
	pump(s, ROOT);
	log_append(&root, 3, 1);
	finish(s, ROOT);
	log_close(&root);
	log_close(&late);
	log_close(&early);
	at_trace *t = open_trace(live_path);
	cr_assert_eq(at_trace_stream_count(t), 3);
	expect_stream(t, 0, ROOT, (const unsigned[]){0, 1, 2, 3}, 4);
	expect_stream(t, 1, RUNNING_2, (const unsigned[]){200}, 1);
	expect_stream(t, 2, RUNNING, (const unsigned[]){100, 101}, 2);
	cr_expect(at_trace_stream(t, 0)->flags & AT_STREAM_ROOT);
	cr_expect(!(at_trace_stream(t, 1)->flags & AT_STREAM_ROOT));
	cr_expect(!(at_trace_stream(t, 2)->flags & AT_STREAM_ROOT));
	at_trace_close(t);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
}

/* A pid no process has: a child that has ended and been waited for. */
static int ended_pid(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return (int)pid;
}

static void log_path_of(int pid, char *out, size_t cap)
{
	snprintf(out, cap, "%s/proc-%d-1.log", run_dir, pid);
}

Test(seal, a_process_that_has_ended_is_sealed_while_the_program_runs)
{
	struct wlog root, done, running;
	int done_pid = ended_pid();
	log_create(&root, ROOT, 1, 100);
	log_append(&root, 0, 2);
	log_create(&done, done_pid, ROOT, 200);
	log_append(&done, 100, 3);
	log_create(&running, RUNNING, ROOT, 300);
	log_append(&running, 200, 1);
	log_close(&done); /* its process has ended */
	at_sealer *s = begin(NULL);
	pump(s, ROOT); /* the root's stream begins: the ended process's log is sealed after it */
	pump(s, ROOT);
	/* Gone before finish: only what the pumps sealed can hold its events. */
	char path[256];
	log_path_of(done_pid, path, sizeof path);
	cr_assert_eq(unlink(path), 0);
	log_append(&running, 201, 1); /* still running: left for finish */
	log_append(&root, 2, 1);
	finish(s, ROOT);
	log_close(&root);
	log_close(&running);
	at_trace *t = open_trace(live_path);
	cr_assert_eq(at_trace_stream_count(t), 3);
	expect_stream(t, 0, ROOT, (const unsigned[]){0, 1, 2}, 3);
	expect_stream(t, 1, done_pid, (const unsigned[]){100, 101, 102}, 3);
	expect_stream(t, 2, RUNNING, (const unsigned[]){200, 201}, 2);
	at_trace_close(t);
}

Test(seal, a_log_still_held_by_a_writer_is_not_sealed_along)
{
	/* Its pid is free, yet a process writes on (a pid of another pid namespace): the
	 * writer's lock keeps the pumps off it, and finish seals it whole. */
	struct wlog root, child;
	int child_pid = ended_pid();
	log_create(&root, ROOT, 1, 100);
	log_append(&root, 0, 2);
	log_create(&child, child_pid, ROOT, 200);
	log_append(&child, 100, 2);
	at_sealer *s = begin(NULL);
	pump(s, ROOT);
	pump(s, ROOT);
	log_append(&child, 102, 2);
	finish(s, ROOT);
	log_close(&root);
	log_close(&child);
	at_trace *t = open_trace(live_path);
	expect_stream(t, 1, child_pid, (const unsigned[]){100, 101, 102, 103}, 4);
	at_trace_close(t);
	seal_reference(NULL, ROOT);
	expect_same_as_reference();
}
