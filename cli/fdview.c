/* The file view of a stream (fdview.h). */
#include "fdview.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fdview_init(struct fdview *v)
{
	memset(v, 0, sizeof *v);
	v->fd[0].path = strdup("<stdin>");
	v->fd[1].path = strdup("<stdout>");
	v->fd[2].path = strdup("<stderr>");
}

void fdview_free(struct fdview *v)
{
	for (int i = 0; i < FDVIEW_FDS; i++)
		free(v->fd[i].path);
	free(v->closed);
	memset(v, 0, sizeof *v);
}

static struct fdview_entry *entry(struct fdview *v, int64_t fd)
{
	return fd >= 0 && fd < FDVIEW_FDS ? &v->fd[fd] : NULL;
}

static void set(struct fdview *v, int64_t fd, const char *path, int append)
{
	struct fdview_entry *e = entry(v, fd);
	if (!e)
		return;
	free(e->path);
	e->path = path ? strdup(path) : NULL;
	e->offset = 0;
	e->append = append;
}

/* A path relative to an *at call's directory descriptor, joined to that directory's. */
static void opened(struct fdview *v, const at_event *ev, const char *path, int flags)
{
	struct fdview_entry *dir = entry(v, ev->fd);
	char joined[8192];
	if (path && path[0] != '/' && dir && dir->path && ev->fd >= 0) {
		snprintf(joined, sizeof joined, "%s/%s", dir->path, path);
		path = joined;
	}
	set(v, ev->ret, path, (flags & O_APPEND) != 0);
}

static int positional(uint16_t call)
{
	return call == AT_CALL_pread || call == AT_CALL_pwrite || call == AT_CALL_preadv ||
	       call == AT_CALL_pwritev || call == AT_CALL_preadv2 || call == AT_CALL_pwritev2;
}

static int streaming(uint16_t call)
{
	return call == AT_CALL_read || call == AT_CALL_write || call == AT_CALL_readv ||
	       call == AT_CALL_writev || call == AT_CALL_read_random;
}

void fdview_apply(struct fdview *v, const at_event *ev, struct fdview_note *note)
{
	const char *p1;
	memset(note, 0, sizeof *note);
	free(v->closed);
	v->closed = NULL;
	struct fdview_entry *e = entry(v, ev->fd);
	if (e && e->path)
		note->path = e->path;
	int ok = ev->ret >= 0 && ev->err == 0;
	switch (ev->call) {
	case AT_CALL_open:
	case AT_CALL_openat:
	case AT_CALL_creat:
	case AT_CALL_opendir:
		at_event_paths(ev, &p1, NULL);
		note->path = p1;
		if (ok)
			opened(v, ev, p1, (int)ev->arg0);
		return;
	case AT_CALL_mkstemp:
	case AT_CALL_mkostemp:
	case AT_CALL_mkstemps:
	case AT_CALL_mkostemps:
		if (ok && ev->len && !(ev->flags & AT_EVF_BLOB)) {
			char name[4096];
			snprintf(name, sizeof name, "%.*s", (int)ev->len,
			         (const char *)ev->payload);
			set(v, ev->ret, name, 0);
			note->path = v->fd[ev->ret < FDVIEW_FDS ? ev->ret : 0].path;
		}
		return;
	case AT_CALL_dup:
	case AT_CALL_dup2:
	case AT_CALL_dup3:
		if (ok && ev->ret != ev->fd && e)
			set(v, ev->ret, e->path, e->append);
		return;
	case AT_CALL_fcntl:
		if (ok && (ev->arg0 == F_DUPFD || ev->arg0 == F_DUPFD_CLOEXEC) && e)
			set(v, ev->ret, e->path, e->append);
		return;
	case AT_CALL_close:
	case AT_CALL_closedir:
		if (e) { /* the note still names the file */
			v->closed = e->path;
			e->path = NULL;
			set(v, ev->fd, NULL, 0);
		}
		return;
	case AT_CALL_lseek:
		if (ok && e)
			e->offset = ev->ret;
		return;
	case AT_CALL_mmap:
		note->has_offset = 1;
		note->offset = (int64_t)ev->arg1;
		note->bytes = ok ? (int64_t)ev->arg0 : 0;
		return;
	default: break;
	}
	if (positional(ev->call)) {
		note->has_offset = 1;
		note->offset = (int64_t)ev->arg1;
		note->bytes = ev->ret > 0 ? ev->ret : 0;
	} else if (streaming(ev->call) || ev->call == AT_CALL_getdents64) {
		note->bytes = ev->ret > 0 ? ev->ret : 0;
		if (e && !e->append && ev->fd > 2) {
			note->has_offset = 1;
			note->offset = e->offset;
		}
		if (e)
			e->offset += note->bytes;
	}
}
