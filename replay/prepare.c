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

#include "agenttrace/errors.h"
#include "agenttrace/rawlog.h"
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

int at_replay_prepare(at_trace *t, unsigned stream, int end_signal, const char *run_dir,
                      struct at_trace_problem *pb)
{
	const struct at_stream_info *si = at_trace_stream(t, stream);
	if (!si)
		return AT_EINVAL;
	/* At least one thread, so a program that recorded nothing still has a main cursor. */
	uint32_t nthreads = si->threads ? si->threads : 1;
	size_t threads_off = (sizeof(struct at_rawlog_header) + 7) & ~(size_t)7;
	size_t header_size = threads_off + 2 * sizeof(uint64_t) * nthreads;
	size_t cap = header_size + 4096, len = header_size;
	uint8_t *buf = calloc(1, cap);
	uint64_t *last = calloc(nthreads, sizeof *last);
	at_trace_iter *it = NULL;
	int rc = buf && last ? at_trace_iter_open(t, stream, 0, &it) : AT_ENOMEM;
	at_event ev;
	uint64_t n = 0;
	while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1) {
		rc = 0;
		if (ev.thread >= nthreads) {
			rc = AT_ECORRUPT;
			break;
		}
		size_t size = at_rawrec_size(ev.len);
		if (len + size > cap) {
			while (len + size > cap)
				cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				rc = AT_ENOMEM;
				break;
			}
			buf = nb;
		}
		struct at_rawrec *r = (struct at_rawrec *)(buf + len);
		memset(r, 0, size);
		r->size = (uint32_t)size;
		r->commit = at_rawrec_commit_word(r->size);
		r->seq = ev.seq;
		r->ret = ev.ret;
		r->arg0 = ev.arg0;
		r->arg1 = ev.arg1;
		r->dur_ns = ev.dur_ns;
		r->thread = ev.thread;
		r->err = ev.err;
		r->fd = ev.fd;
		r->call = ev.call;
		r->flags = ev.flags;
		r->len = ev.len;
		if (ev.len)
			memcpy(r + 1, ev.payload, ev.len);
		uint64_t *first = (uint64_t *)(buf + threads_off);
		if (last[ev.thread])
			((struct at_rawrec *)(buf + last[ev.thread]))->link = len;
		else
			first[ev.thread] = len;
		last[ev.thread] = len;
		len += size;
		n++;
	}
	if (rc < 0 && pb && it)
		*pb = *at_trace_last_problem(t);
	at_trace_iter_close(it);
	free(last);
	if (rc < 0) {
		free(buf);
		return rc;
	}

	struct at_rawlog_header *h = (struct at_rawlog_header *)buf;
	memcpy(h->magic, AT_RAWLOG_MAGIC, 8);
	h->version = AT_RAWLOG_VERSION;
	h->header_size = (uint32_t)header_size;
	h->tail = len;
	h->allocated = len;
	h->flags =
	    AT_RAWLOG_REPLAY | ((si->flags & AT_STREAM_INCOMPLETE) ? AT_RAWLOG_INCOMPLETE : 0);
	h->pid = si->pid;
	h->ppid = si->ppid;
	h->start_ns = si->start_ns;
	h->nthreads = nthreads;
	h->nevents = n;
	h->end_signal = end_signal;
	h->threads_off = (uint32_t)threads_off;
	memcpy(buf + threads_off + sizeof(uint64_t) * nthreads, buf + threads_off,
	       sizeof(uint64_t) * nthreads); /* cursors start at each thread's first event */

	char path[4096];
	snprintf(path, sizeof path, "%s/" AT_REPLAY_STREAM, run_dir);
	rc = write_file(path, buf, len);
	free(buf);
	return rc;
}

int at_replay_write_ctl(const char *run_dir, int root_pid)
{
	char path[4096], text[64];
	snprintf(path, sizeof path, "%s/" AT_REPLAY_CTL, run_dir);
	int n = snprintf(text, sizeof text, "root_pid=%d\n", root_pid);
	return write_file(path, text, (size_t)n);
}

static void copy_value(char *dst, size_t cap, const char *line, const char *key)
{
	size_t k = strlen(key);
	if (!strncmp(line, key, k) && line[k] == '=')
		snprintf(dst, cap, "%s", line + k + 1);
}

int at_replay_divergence(const char *run_dir, struct at_divergence *d)
{
	char path[4096], line[512], num[32];
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
		num[0] = '\0';
		copy_value(num, sizeof num, line, "pid");
		if (num[0])
			d->pid = atoi(num);
		num[0] = '\0';
		copy_value(num, sizeof num, line, "thread");
		if (num[0])
			d->thread = (unsigned)strtoul(num, NULL, 10);
		num[0] = '\0';
		copy_value(num, sizeof num, line, "step");
		if (num[0])
			d->step = strtoull(num, NULL, 10);
	}
	fclose(f);
	return 1;
}

int at_replay_outcome(const char *run_dir, struct at_replay_outcome *o)
{
	char path[4096];
	memset(o, 0, sizeof *o);
	DIR *dir = opendir(run_dir);
	if (dir) {
		struct dirent *e;
		while ((e = readdir(dir)))
			if (!strncmp(e->d_name, "live-", 5))
				o->live_processes++;
		closedir(dir);
	}
	snprintf(path, sizeof path, "%s/" AT_REPLAY_STREAM, run_dir);
	at_rawlog_view v;
	int rc = at_rawlog_open(path, &v);
	if (rc)
		return rc;
	const struct at_rawlog_header *h = at_rawlog_header(&v);
	const uint64_t *cursor = (const uint64_t *)(v.base + h->threads_off) + h->nthreads;
	o->first_unused_step = UINT64_MAX;
	for (uint32_t i = 0; i < h->nthreads; i++) {
		/* bounded by the event count, in case a damaged chain loops */
		for (uint64_t off = cursor[i]; off && off + sizeof(struct at_rawrec) <= v.size &&
		                               o->unused_events <= h->nevents;) {
			const struct at_rawrec *r = (const void *)(v.base + off);
			if (r->seq < o->first_unused_step) {
				o->first_unused_step = r->seq;
				o->first_unused_thread = i;
			}
			o->unused_events++;
			off = r->link;
		}
	}
	o->end_delivered = h->ended != 0;
	at_rawlog_close(&v);
	return 0;
}
