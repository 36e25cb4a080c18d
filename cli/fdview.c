/* The file view of a stream (fdview.h). */
#include "fdview.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/errors.h"
#include "cli.h"

int fdview_init(struct fdview *v)
{
	v->closed = NULL;
	v->world = at_world_new();
	return v->world ? 0 : AT_ENOMEM;
}

int fdview_seek(struct fdview *v, at_trace *t, const char *id, unsigned stream, uint64_t step)
{
	uint64_t kf;
	struct cli_keyframe_ctx kc = {t, id, NULL};
	return at_world_seek(t, stream, step, &v->world, &kf, cli_keyframe_damaged, &kc);
}

void fdview_free(struct fdview *v)
{
	at_world_free(v->world);
	free(v->closed);
	memset(v, 0, sizeof *v);
}

/* The name a descriptor goes by: its path, or for an inherited one "<stdout>" & co. */
static const char *name_of(struct fdview *v, int64_t fd, int64_t *offset, int *flags)
{
	const char *kind, *path;
	if (fd < 0 || fd > INT32_MAX ||
	    !at_world_fd(v->world, (int)fd, &kind, &path, offset, flags))
		return NULL;
	if (!path && !strcmp(kind, "std") && fd <= 2)
		return fd == 0 ? "<stdin>" : fd == 1 ? "<stdout>" : "<stderr>";
	return path;
}

static int positional(uint16_t call)
{
	return call == AT_CALL_pread || call == AT_CALL_pwrite || call == AT_CALL_preadv ||
	       call == AT_CALL_pwritev || call == AT_CALL_preadv2 || call == AT_CALL_pwritev2;
}

static int streaming(uint16_t call)
{
	return call == AT_CALL_read || call == AT_CALL_write || call == AT_CALL_readv ||
	       call == AT_CALL_writev || call == AT_CALL_read_random || call == AT_CALL_getdents64;
}

void fdview_apply(struct fdview *v, const at_event *ev, struct fdview_note *note)
{
	int64_t offset = 0;
	int flags = 0;
	memset(note, 0, sizeof *note);
	free(v->closed);
	v->closed = NULL;
	const char *path = name_of(v, ev->fd, &offset, &flags);
	note->path = path;
	int ok = ev->ret >= 0 && ev->err == 0;
	const char *p1;
	switch (ev->call) {
	case AT_CALL_open:
	case AT_CALL_openat:
	case AT_CALL_creat:
	case AT_CALL_opendir:
		at_event_paths(ev, &p1, NULL);
		note->path = p1;
		break;
	case AT_CALL_close:
	case AT_CALL_closedir:
		if (path) /* the note still names the file, which the world forgets */
			note->path = v->closed = strdup(path);
		break;
	case AT_CALL_mmap:
		note->has_offset = 1;
		note->offset = (int64_t)ev->arg1;
		note->bytes = ok ? (int64_t)ev->arg0 : 0;
		break;
	default:
		if (positional(ev->call)) {
			note->has_offset = 1;
			note->offset = (int64_t)ev->arg1;
			note->bytes = ev->ret > 0 ? ev->ret : 0;
		} else if (streaming(ev->call)) {
			note->bytes = ev->ret > 0 ? ev->ret : 0;
			if (path && !(flags & O_APPEND) && ev->fd > 2) {
				note->has_offset = 1;
				note->offset = offset;
			}
		}
	}
	at_world_apply(v->world, ev);
	if (ok && (ev->call == AT_CALL_mkstemp || ev->call == AT_CALL_mkostemp ||
	           ev->call == AT_CALL_mkstemps || ev->call == AT_CALL_mkostemps))
		note->path = name_of(v, ev->ret, &offset, &flags);
}
