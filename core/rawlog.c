/* Reading raw logs (the writer side is preload/log.c and replay/prepare.c).
 * A recording process may die at any instruction, so the reader trusts nothing past the
 * header: every record is bounds-checked and a torn one is skipped by resynchronising on
 * the next commit word. */
#include "agenttrace/rawlog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agenttrace/errors.h"

/* The readable end: the writers' tail, but never past the bytes backed by the file. A live
 * view maps more than the file holds, so the file's size bounds it too: a damaged header
 * must not make the reader touch pages past the end (SIGBUS). */
static uint64_t view_end(const at_rawlog_view *view)
{
	const struct at_rawlog_header *h = (const void *)view->base;
	uint64_t end = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
	uint64_t allocated = __atomic_load_n(&h->allocated, __ATOMIC_ACQUIRE);
	if (!(h->flags & AT_RAWLOG_REPLAY) && allocated < end)
		end = allocated;
	if (end > view->size)
		end = view->size;
	struct stat st;
	if (view->live) {
		uint64_t file = fstat(view->live_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (file < end)
			end = file;
	}
	return end < view->off ? view->off : end;
}

static int open_view(const char *path, at_rawlog_view *view, int live)
{
	memset(view, 0, sizeof *view);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AT_EIO;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return AT_EIO;
	}
	if ((uint64_t)st.st_size < sizeof(struct at_rawlog_header)) {
		close(fd);
		return AT_ETRUNCATED;
	}
	/* A live log grows: map address space for all it may become (only the part below
	 * `allocated`, which the file always holds, is ever read). */
	static const uint64_t live_sizes[] = {64ull << 30, 8ull << 30, 1ull << 30};
	void *p = MAP_FAILED;
	for (size_t i = 0; live && p == MAP_FAILED && i < sizeof live_sizes / sizeof *live_sizes;
	     i++)
		if ((p = mmap(NULL, live_sizes[i], PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 0)) !=
		    MAP_FAILED)
			view->size = live_sizes[i];
	if (!live &&
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0)) != MAP_FAILED)
		view->size = (uint64_t)st.st_size;
	if (p != MAP_FAILED && live) {
		view->live = 1;
		view->live_fd = fd;
	} else {
		close(fd);
	}
	if (p == MAP_FAILED)
		return AT_EIO;
	view->base = p;

	const struct at_rawlog_header *h = p;
	if (memcmp(h->magic, AT_RAWLOG_MAGIC, 8) != 0) {
		at_rawlog_close(view);
		return AT_ECORRUPT;
	}
	if (h->version != AT_RAWLOG_VERSION) {
		at_rawlog_close(view);
		return AT_EVERSION;
	}
	if (h->header_size < sizeof *h || h->header_size % 8 ||
	    h->header_size > (uint64_t)st.st_size) {
		at_rawlog_close(view);
		return AT_ECORRUPT;
	}
	view->off = h->header_size;
	view->end = view_end(view);
	return 0;
}

int at_rawlog_name_pid(const char *name)
{
	size_t len = strlen(name);
	if (strncmp(name, "proc-", 5) || len < 9 || strcmp(name + len - 4, ".log"))
		return 0;
	int pid = 0;
	for (const char *p = name + 5; *p >= '0' && *p <= '9' && pid < 100000000; p++)
		pid = pid * 10 + (*p - '0');
	return pid;
}

int at_rawlog_open(const char *path, at_rawlog_view *view)
{
	return open_view(path, view, 0);
}

int at_rawlog_open_live(const char *path, at_rawlog_view *view)
{
	return open_view(path, view, 1);
}

void at_rawlog_refresh(at_rawlog_view *view)
{
	view->end = view_end(view);
}

void at_rawlog_close(at_rawlog_view *view)
{
	if (view->base)
		munmap((void *)view->base, view->size);
	if (view->live)
		close(view->live_fd);
	memset(view, 0, sizeof *view);
}

void at_rawrec_to_event(const struct at_rawrec *rec, at_event *ev)
{
	const uint8_t *p = (const uint8_t *)(rec + 1);
	ev->seq = 0;
	ev->thread = rec->thread;
	ev->call = rec->call;
	ev->flags = (uint16_t)(rec->flags >> 1);
	ev->ret = rec->ret;
	ev->err = 0;
	ev->fd = -1;
	if (rec->flags & AT_RAWREC_EXT) {
		struct at_rawrec_ext x;
		memcpy(&x, p, sizeof x);
		ev->err = x.err;
		ev->fd = x.fd;
		p += sizeof x;
	}
	ev->dur_ns = rec->dur;
	ev->arg0 = rec->arg0;
	ev->arg1 = rec->arg1;
	ev->len = rec->size - (uint32_t)(p - (const uint8_t *)rec);
	ev->payload = ev->len ? p : NULL;
}

/* A complete record at `off`: its commit word matches a size that fits. */
static int record_ok(const at_rawlog_view *v, uint64_t off)
{
	const struct at_rawrec *r = (const void *)(v->base + off);
	if (v->end - off < sizeof *r)
		return 0;
	uint32_t size = __atomic_load_n(&r->size, __ATOMIC_RELAXED);
	uint32_t commit = __atomic_load_n(&r->commit, __ATOMIC_ACQUIRE);
	if (commit != at_rawrec_commit_word(size) || size < sizeof *r ||
	    at_rawrec_stride(size) > v->end - off)
		return 0;
	return !(r->flags & AT_RAWREC_EXT) || size >= at_rawrec_bytes(0, 1);
}

int at_rawlog_next_live(at_rawlog_view *v, at_event *ev)
{
	if (v->off >= v->end || !record_ok(v, v->off))
		return 0;
	const struct at_rawrec *r = (const void *)(v->base + v->off);
	at_rawrec_to_event(r, ev);
	v->off += at_rawrec_stride(r->size);
	return 1;
}

int at_rawlog_next(at_rawlog_view *v, at_event *ev)
{
	while (v->off < v->end) {
		const struct at_rawrec *r = (const void *)(v->base + v->off);
		if (record_ok(v, v->off)) {
			at_rawrec_to_event(r, ev);
			v->off += at_rawrec_stride(r->size);
			return 1;
		}
		/* Torn: the writer reserved this space and died before committing. If it got as
		 * far as the size, skip exactly that; otherwise scan for the next record. */
		v->torn++;
		uint32_t size = r->size;
		if (size >= sizeof *r && at_rawrec_stride(size) <= v->end - v->off) {
			v->off += at_rawrec_stride(size);
			continue;
		}
		uint64_t off = v->off + 8;
		while (off < v->end && !record_ok(v, off))
			off += 8;
		v->off = off;
	}
	return 0;
}
