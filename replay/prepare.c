/* Preparing a replay: decode one stream of a sealed trace into the raw layout the preload
 * reads (rawlog.h), chaining each thread's events and setting every thread's cursor to its
 * first event. Runs in `agenttrace`, so it may allocate and use stdio freely. */
#include "agenttrace/replay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "agenttrace/rawlog.h"
#include "agenttrace/seal.h"
#include "replay_internal.h"

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == ENOSPC ? AT_ENOSPC : AT_EIO;
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int code = errno == ENOSPC || errno == EDQUOT ? AT_ENOSPC : AT_EIO;
			close(fd);
			return code;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) < 0 ? AT_EIO : 0;
}

/* A growing byte buffer. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void *buf_grow(struct buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (b->len + n > cap)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			return NULL;
		b->p = np;
		b->cap = cap;
	}
	void *at = b->p + b->len;
	b->len += n;
	return at;
}

/* Layout: header | cursor[nthreads] | entry[nevents] | records (rawlog.h). */
/* at_blob_ref_resolve, with a problem report that names the blob store. */
static int resolve_blob(const char *home, at_event *ev, void **content, struct at_trace_problem *pb)
{
	at_blob_id id;
	memset(&id, 0, sizeof id);
	int rc = home ? at_blob_ref_resolve(home, ev, content, &id) : AT_EIO;
	if (!rc)
		return 0;
	int missing = rc == AT_EIO && errno == ENOENT;
	char hex[2 * AT_BLOB_ID_LEN + 1];
	at_blob_hex(&id, hex);
	if (pb) {
		pb->code = rc == AT_ENOMEM ? rc : AT_ECORRUPT;
		pb->chunk = -1;
		snprintf(
		    pb->what, sizeof pb->what,
		    "step %" PRIu64 " reads content %.16s... that the blob store %s (%s/blobs)",
		    ev->seq, hex, missing ? "does not have" : "holds damaged", home ? home : "?");
	}
	return rc == AT_ENOMEM ? rc : AT_ECORRUPT;
}

int at_replay_prepare(at_trace *t, unsigned stream, const char *key, int end_signal,
                      const char *run_dir, const char *home, struct at_trace_problem *pb)
{
	int blob_problem = 0;
	const struct at_stream_info *si = at_trace_stream(t, stream);
	if (!si)
		return AT_EINVAL;
	/* At least one thread, so a program that recorded nothing still has a main cursor. */
	uint32_t nthreads = si->threads ? si->threads : 1;
	struct buf records = {0}, entries = {0}, order = {0};
	uint64_t *first = calloc(nthreads, sizeof *first), *last = calloc(nthreads, sizeof *last);
	at_trace_iter *it = NULL;
	int rc = first && last ? at_trace_iter_open(t, stream, 0, &it) : AT_ENOMEM;
	at_event ev;
	uint64_t n = 0;
	while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1) {
		rc = 0;
		if (ev.thread >= nthreads) {
			rc = AT_ECORRUPT;
			break;
		}
		void *content = NULL;
		if ((ev.flags & AT_EVF_BLOB) && (rc = resolve_blob(home, &ev, &content, pb))) {
			blob_problem = 1;
			break;
		}
		uint32_t stride = at_rawrec_stride_for(&ev);
		size_t off = records.len;
		struct at_rawrec *r = buf_grow(&records, stride);
		struct at_replay_entry *e = buf_grow(&entries, sizeof *e);
		if (!r || !e) {
			free(content);
			rc = AT_ENOMEM;
			break;
		}
		memset(r, 0, stride);
		at_rawrec_commit(r, at_rawrec_fill(r, &ev, ev.dur_ns));
		free(content);
		*e = (struct at_replay_entry){.offset = off, .seq = ev.seq, .next = 0};
		uint8_t *taken = buf_grow(&order, 1);
		if (!taken) {
			rc = AT_ENOMEM;
			break;
		}
		*taken = !at_call_ordered(ev.call); /* never waited for */
		if (last[ev.thread])
			((struct at_replay_entry *)entries.p)[last[ev.thread] - 1].next = n + 1;
		else
			first[ev.thread] = n + 1;
		last[ev.thread] = ++n;
	}
	if (rc < 0 && pb && it && !blob_problem)
		*pb = *at_trace_last_problem(t);
	at_trace_iter_close(it);

	struct buf out = {0};
	size_t threads_off = (sizeof(struct at_rawlog_header) + 7) & ~(size_t)7;
	size_t events_off = threads_off + sizeof(uint64_t) * nthreads;
	size_t consumed_off = events_off + entries.len;
	size_t header_size = (consumed_off + order.len + 7) & ~(size_t)7;
	if (!rc && !buf_grow(&out, header_size + records.len))
		rc = AT_ENOMEM;
	if (!rc) {
		struct at_rawlog_header *h = (struct at_rawlog_header *)out.p;
		memset(h, 0, header_size);
		memcpy(h->magic, AT_RAWLOG_MAGIC, 8);
		h->version = AT_RAWLOG_VERSION;
		h->header_size = (uint32_t)header_size;
		h->tail = h->allocated = out.len;
		h->flags = AT_RAWLOG_REPLAY |
		           ((si->flags & AT_STREAM_INCOMPLETE) ? AT_RAWLOG_INCOMPLETE : 0);
		h->pid = si->pid;
		h->ppid = si->ppid;
		h->start_ns = si->start_ns;
		h->nthreads = nthreads;
		h->nevents = n;
		h->end_signal = end_signal;
		h->threads_off = threads_off;
		h->events_off = events_off;
		h->consumed_off = consumed_off;
		snprintf(h->key, sizeof h->key, "%s", key);
		memcpy(out.p + consumed_off, order.p, order.len);
		while (h->frontier < n && out.p[consumed_off + h->frontier])
			h->frontier++;
		/* the cursors start at each thread's first event */
		memcpy(out.p + threads_off, first, sizeof(uint64_t) * nthreads);
		struct at_replay_entry *e = (struct at_replay_entry *)(out.p + events_off);
		memcpy(e, entries.p, entries.len);
		for (uint64_t k = 0; k < n; k++)
			e[k].offset += header_size;
		memcpy(out.p + header_size, records.p, records.len);

		char path[4096];
		at_replay_stream_path(run_dir, key, path, sizeof path);
		rc = write_file(path, out.p, out.len);
		/* the stand-in for every directory the program opens (preload/files.c) */
		snprintf(path, sizeof path, "%s/" AT_REPLAY_EMPTY_DIR, run_dir);
		if (!rc && mkdir(path, 0500) < 0 && errno != EEXIST)
			rc = errno == ENOSPC ? AT_ENOSPC : AT_EIO;
	}
	free(out.p);
	free(records.p);
	free(entries.p);
	free(order.p);
	free(first);
	free(last);
	return rc;
}

int at_replay_write_ctl(const char *run_dir, int root_pid, int replayer_pid)
{
	char path[4096], text[96];
	snprintf(path, sizeof path, "%s/" AT_REPLAY_CTL, run_dir);
	int n = snprintf(text, sizeof text, "root_pid=%d\nreplayer=%d\n", root_pid, replayer_pid);
	return write_file(path, text, (size_t)n);
}

static void copy_value(char *dst, size_t cap, const char *line, const char *key)
{
	size_t k = strlen(key);
	if (!strncmp(line, key, k) && line[k] == '=')
		snprintf(dst, cap, "%s", line + k + 1);
}

/* The pid=, thread= and step= lines that divergence and step reports share. */
static void copy_place(const char *line, int *pid, unsigned *thread, uint64_t *step)
{
	char num[32] = "";
	copy_value(num, sizeof num, line, "pid");
	if (num[0])
		*pid = atoi(num);
	num[0] = '\0';
	copy_value(num, sizeof num, line, "thread");
	if (num[0])
		*thread = (unsigned)strtoul(num, NULL, 10);
	num[0] = '\0';
	copy_value(num, sizeof num, line, "step");
	if (num[0])
		*step = strtoull(num, NULL, 10);
}

int at_replay_divergence(const char *run_dir, struct at_divergence *d)
{
	char path[4096], line[2048];
	memset(d, 0, sizeof *d);
	snprintf(path, sizeof path, "%s/" AT_REPLAY_DIVERGENCE, run_dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : AT_EIO;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		copy_value(d->kind, sizeof d->kind, line, "kind");
		copy_value(d->expected, sizeof d->expected, line, "expected");
		copy_value(d->got, sizeof d->got, line, "got");
		copy_value(d->detail, sizeof d->detail, line, "detail");
		copy_value(d->key, sizeof d->key, line, "key");
		copy_place(line, &d->pid, &d->thread, &d->step);
	}
	fclose(f);
	return 1;
}

/* Adds one replayed stream's leftovers and counters to `o`. */
static int add_stream(const char *path, struct at_replay_outcome *o)
{
	at_rawlog_view v;
	int rc = at_rawlog_open(path, &v);
	if (rc)
		return rc;
	const struct at_rawlog_header *h = at_rawlog_header(&v);
	const uint64_t *cursor = (const uint64_t *)(v.base + h->threads_off);
	const struct at_replay_entry *e = (const void *)(v.base + h->events_off);
	uint64_t unused = 0;
	for (uint32_t i = 0; i < h->nthreads; i++) {
		/* bounded by the event count, in case a damaged chain loops */
		for (uint64_t c = cursor[i]; c && c <= h->nevents && unused <= h->nevents;
		     c = e[c - 1].next) {
			/* In a process with threads, clock reads are elastic (runtime.c): some
			 * the recording has are not made again. */
			const struct at_rawrec *r = (const void *)(v.base + e[c - 1].offset);
			if (h->nthreads > 1 && at_call_clock_read(r->call)) {
				o->elastic++;
				continue;
			}
			unused++;
			if (o->unused_events + unused == 1 || e[c - 1].seq < o->first_unused_step) {
				o->first_unused_step = e[c - 1].seq;
				o->first_unused_thread = i;
				snprintf(o->first_unused_key, sizeof o->first_unused_key, "%s",
				         h->key);
			}
		}
	}
	o->unused_events += unused;
	if (!strcmp(h->key, AT_PROC_ROOT_KEY))
		o->end_delivered = h->ended != 0;
	o->relaxed += h->relaxed;
	o->elastic += h->elastic;
	o->signals += h->signals;
	o->replayed_processes++;
	at_rawlog_close(&v);
	return 0;
}

int at_replay_outcome(const char *run_dir, struct at_replay_outcome *o)
{
	memset(o, 0, sizeof *o);
	DIR *dir = opendir(run_dir);
	if (!dir)
		return AT_EIO;
	struct dirent *d;
	int rc = 0;
	while ((d = readdir(dir))) {
		size_t n = strlen(d->d_name);
		if (!strncmp(d->d_name, "live-", 5)) {
			o->live_processes++;
		} else if (!strncmp(d->d_name, "stream-", 7) && n > 11 &&
		           !strcmp(d->d_name + n - 4, ".raw")) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", run_dir, d->d_name);
			int r = add_stream(path, o);
			if (r && !rc)
				rc = r;
		}
	}
	closedir(dir);
	return rc;
}

int at_replay_write_options(const char *run_dir, const struct at_replay_options *o)
{
	char path[4096], text[AT_PROC_KEY_MAX + 128];
	int n = 0;
	if (o->then != AT_THEN_NONE)
		n += snprintf(text + n, sizeof text - (size_t)n,
		              "step_key=%s\nstep=%" PRIu64 "\nstep_then=%s\n", o->step_key, o->step,
		              at_replay_then_name(o->then));
	if (o->mark_stdio)
		n += snprintf(text + n, sizeof text - (size_t)n, "mark_stdio=1\n");
	if (!n)
		return 0;
	snprintf(path, sizeof path, "%s/" AT_REPLAY_OPTIONS, run_dir);
	return write_file(path, text, (size_t)n);
}

int at_replay_step_report(const char *run_dir, struct at_step_report *r)
{
	char path[4096], line[512], then[16];
	memset(r, 0, sizeof *r);
	snprintf(path, sizeof path, "%s/" AT_REPLAY_STEP, run_dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : AT_EIO;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		then[0] = '\0';
		copy_value(then, sizeof then, line, "then");
		for (int m = AT_THEN_NONE + 1; then[0] && m < AT_THEN_COUNT; m++)
			if (!strcmp(then, at_replay_then_name(m)))
				r->then = m;
		copy_value(r->key, sizeof r->key, line, "key");
		copy_value(r->call, sizeof r->call, line, "call");
		copy_place(line, &r->pid, &r->thread, &r->step);
	}
	fclose(f);
	snprintf(path, sizeof path, "%s/" AT_REPLAY_CONTINUED, run_dir);
	r->continued = access(path, F_OK) == 0;
	return 1;
}
