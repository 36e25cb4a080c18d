/* The world of one process at a step (world.h). */
#include "agenttrace/world.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "agenttrace/net.h"

#define CLOCKS 16 /* clock ids followed: the fixed ones (CLOCK_REALTIME .. CLOCK_TAI) */

enum fd_kind { FD_CLOSED, FD_FILE, FD_DIR, FD_SOCKET, FD_STD, FD_RANDOM };
static const char *const kind_names[] = {"closed", "file", "directory", "socket", "std", "random"};

struct wfd {
	uint8_t kind; /* enum fd_kind */
	int32_t flags;
	int64_t offset;
	char *path;     /* file, directory: as the program named it (joined to an *at directory) */
	char *peer;     /* socket: the address it connected to or accepted from */
	uint64_t since; /* the step that opened it */
};

struct wfile { /* a file the program wrote, created or truncated */
	char *path;
	uint64_t size;
	uint8_t *content; /* the first `kept` bytes; NULL once over the bounds */
	size_t kept, cap;
	int lost;    /* the content went over AT_WORLD_CONTENT_* */
	int removed; /* unlinked, or renamed away */
	uint64_t writes, since;
};

struct wvalue {
	int have;
	int64_t ns;
	uint64_t step;
};

struct wthread {
	uint64_t events, last;
};

struct wchild {
	uint64_t number, step;
	int64_t pid;
	uint16_t call;
};

struct at_world {
	uint64_t step;
	struct wfd *fds;
	size_t nfds;
	struct wfile *files;
	size_t nfiles, files_cap;
	struct wvalue clocks[CLOCKS], tod, time;
	struct wthread *threads;
	size_t nthreads;
	struct wchild *children;
	size_t nchildren, children_cap;
	size_t content; /* bytes kept over all files */
};

/* ---- building ---- */

static int grow(void **v, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	size_t n = *cap ? *cap : 8;
	while (n < want)
		n *= 2;
	void *p = realloc(*v, n * size);
	if (!p)
		return -1;
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	*v = p;
	*cap = n;
	return 0;
}

static void fd_clear(struct wfd *f)
{
	free(f->path);
	free(f->peer);
	memset(f, 0, sizeof *f);
}

static struct wfd *fd_slot(at_world *w, int64_t fd, int make)
{
	if (fd < 0 || fd > 1 << 20)
		return NULL;
	if ((size_t)fd >= w->nfds) {
		if (!make || grow((void **)&w->fds, &w->nfds, (size_t)fd + 1, sizeof *w->fds))
			return NULL;
	}
	return &w->fds[fd];
}

static struct wfd *fd_open(at_world *w, int64_t fd, int kind, const char *path, int flags)
{
	struct wfd *f = fd_slot(w, fd, 1);
	if (!f)
		return NULL;
	fd_clear(f);
	f->kind = (uint8_t)kind;
	f->flags = flags;
	f->path = path ? strdup(path) : NULL;
	f->since = w->step;
	return f;
}

at_world *at_world_new(void)
{
	at_world *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	for (int fd = 0; fd < 3; fd++)
		if (!fd_open(w, fd, FD_STD, NULL, fd ? O_WRONLY : O_RDONLY)) {
			at_world_free(w);
			return NULL;
		}
	return w;
}

static void reset(at_world *w)
{
	for (size_t i = 0; i < w->nfds; i++)
		fd_clear(&w->fds[i]);
	for (size_t i = 0; i < w->nfiles; i++) {
		free(w->files[i].path);
		free(w->files[i].content);
	}
	free(w->fds);
	free(w->files);
	free(w->threads);
	free(w->children);
	memset(w, 0, sizeof *w);
}

void at_world_free(at_world *w)
{
	if (!w)
		return;
	reset(w);
	free(w);
}

uint64_t at_world_step(const at_world *w)
{
	return w->step;
}

int at_world_fd(const at_world *w, int fd, const char **kind, const char **path, int64_t *offset,
                int *flags)
{
	const struct wfd *f = fd >= 0 && (size_t)fd < w->nfds ? &w->fds[fd] : NULL;
	if (!f || f->kind == FD_CLOSED)
		return 0;
	*kind = kind_names[f->kind];
	*path = f->path;
	*offset = f->offset;
	*flags = f->flags;
	return 1;
}

const uint8_t *at_world_content(const at_world *w, const char *path, size_t *len)
{
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct wfile *f = &w->files[i];
		if (!strcmp(f->path, path) && !f->lost && !f->removed) {
			*len = f->kept;
			return f->content ? f->content : (const uint8_t *)"";
		}
	}
	*len = 0;
	return NULL;
}

static struct wfile *file_of(at_world *w, const char *path, int make)
{
	if (!path)
		return NULL;
	for (size_t i = 0; i < w->nfiles; i++)
		if (!strcmp(w->files[i].path, path))
			return &w->files[i];
	if (!make || grow((void **)&w->files, &w->files_cap, w->nfiles + 1, sizeof *w->files))
		return NULL;
	struct wfile *f = &w->files[w->nfiles];
	if (!(f->path = strdup(path)))
		return NULL;
	f->since = w->step;
	w->nfiles++;
	return f;
}

static void lose_content(at_world *w, struct wfile *f)
{
	w->content -= f->kept;
	free(f->content);
	f->content = NULL;
	f->kept = f->cap = 0;
	f->lost = 1;
}

static void file_truncate(at_world *w, struct wfile *f, uint64_t size)
{
	f->size = size;
	f->removed = 0;
	if (f->lost)
		return;
	if (size < f->kept) {
		w->content -= f->kept - (size_t)size;
		f->kept = (size_t)size;
	} else if (size > f->kept) { /* grows with zeros, which the content then holds */
		if (size > AT_WORLD_CONTENT_MAX ||
		    w->content + (size - f->kept) > AT_WORLD_CONTENT_ALL ||
		    grow((void **)&f->content, &f->cap, (size_t)size, 1)) {
			lose_content(w, f);
			return;
		}
		memset(f->content + f->kept, 0, (size_t)size - f->kept);
		w->content += (size_t)size - f->kept;
		f->kept = (size_t)size;
	}
}

static void file_write(at_world *w, struct wfile *f, uint64_t at, const uint8_t *data, size_t len)
{
	f->writes++;
	f->removed = 0;
	uint64_t end = at + len;
	if (end > f->size && !f->lost)
		file_truncate(w, f, end);
	if (end > f->size)
		f->size = end;
	if (!f->lost && data && len)
		memcpy(f->content + at, data, len);
	else if (!f->lost) /* the bytes are not in the trace (a blob reference) */
		lose_content(w, f);
}

/* An *at call's path, joined to its directory descriptor's when relative. */
static void joined_path(at_world *w, const at_event *ev, const char *path, char *out, size_t cap)
{
	struct wfd *dir = ev->fd >= 0 ? fd_slot(w, ev->fd, 0) : NULL;
	if (path && path[0] != '/' && dir && dir->path)
		snprintf(out, cap, "%s/%s", dir->path, path);
	else
		snprintf(out, cap, "%s", path ? path : "");
}

static int kind_for_path(const char *path, int directory)
{
	if (!strcmp(path, "/dev/urandom") || !strcmp(path, "/dev/random"))
		return FD_RANDOM;
	if (!strcmp(path, "/dev/tty") || !strncmp(path, "/dev/pts/", 9) ||
	    !strncmp(path, "/dev/std", 8))
		return FD_STD;
	return directory ? FD_DIR : FD_FILE;
}

static void opened(at_world *w, const at_event *ev, int flags, int directory)
{
	const char *p1 = NULL;
	char path[4096];
	at_event_paths(ev, &p1, NULL);
	if (ev->call == AT_CALL_open || ev->call == AT_CALL_creat || ev->call == AT_CALL_opendir)
		snprintf(path, sizeof path, "%s", p1 ? p1 : "");
	else
		joined_path(w, ev, p1, path, sizeof path);
	int kind = kind_for_path(path, directory || (flags & O_DIRECTORY));
	if (!fd_open(w, ev->ret, kind, path, flags) || kind != FD_FILE)
		return;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
		struct wfile *f = file_of(w, path, 1);
		if (f)
			file_truncate(w, f, 0);
	} else if (flags & O_CREAT) {
		file_of(w, path, 1); /* made, maybe: listed with the size it has so far */
	}
}

static int written_data(const at_event *ev, const uint8_t **data, size_t *len)
{
	int sent;
	if (at_event_io_data(ev, &sent, data, len) == 1 && sent)
		return 1;
	*data = NULL;
	*len = ev->ret > 0 ? (size_t)ev->ret : 0;
	return 0;
}

static void child_made(at_world *w, const at_event *ev, int64_t pid)
{
	if (grow((void **)&w->children, &w->children_cap, w->nchildren + 1, sizeof *w->children))
		return;
	w->children[w->nchildren++] =
	    (struct wchild){.number = ev->arg0, .step = ev->seq, .pid = pid, .call = ev->call};
}

static void files_event(at_world *w, const at_event *ev, struct wfd *f)
{
	const char *p1 = NULL, *p2 = NULL;
	switch (ev->call) {
	case AT_CALL_open:
	case AT_CALL_openat: opened(w, ev, (int)ev->arg0, 0); return;
	case AT_CALL_creat: opened(w, ev, O_CREAT | O_WRONLY | O_TRUNC, 0); return;
	case AT_CALL_opendir: opened(w, ev, O_RDONLY | O_DIRECTORY, 1); return;
	case AT_CALL_mkstemp:
	case AT_CALL_mkostemp:
	case AT_CALL_mkstemps:
	case AT_CALL_mkostemps: {
		char name[4096];
		if (!ev->len || (ev->flags & AT_EVF_BLOB))
			return;
		snprintf(name, sizeof name, "%.*s", (int)ev->len, (const char *)ev->payload);
		fd_open(w, ev->ret, FD_FILE, name, O_RDWR | O_CREAT | O_EXCL);
		file_of(w, name, 1);
		return;
	}
	case AT_CALL_dup:
	case AT_CALL_dup2:
	case AT_CALL_dup3:
	case AT_CALL_fcntl:
		if (ev->call == AT_CALL_fcntl && ev->arg0 != F_DUPFD && ev->arg0 != F_DUPFD_CLOEXEC)
			return;
		if (f && f->kind != FD_CLOSED && ev->ret != ev->fd) {
			struct wfd copy = *f;
			struct wfd *d = fd_open(w, ev->ret, copy.kind, copy.path, copy.flags);
			if (d) {
				d->offset = copy.offset;
				d->peer = copy.peer ? strdup(copy.peer) : NULL;
			}
		}
		return;
	case AT_CALL_close:
	case AT_CALL_closedir:
		if (f)
			fd_clear(f);
		return;
	case AT_CALL_close_range:
		for (uint64_t fd = ev->arg0; fd <= ev->arg1 && fd < w->nfds; fd++)
			fd_clear(&w->fds[fd]);
		return;
	case AT_CALL_lseek:
		if (f)
			f->offset = ev->ret;
		return;
	case AT_CALL_ftruncate: {
		struct wfile *wf = f ? file_of(w, f->path, 1) : NULL;
		if (wf)
			file_truncate(w, wf, ev->arg0);
		return;
	}
	case AT_CALL_rename:
	case AT_CALL_renameat:
	case AT_CALL_renameat2: {
		at_event_paths(ev, &p1, &p2);
		struct wfile *from = file_of(w, p1, 0);
		if (from && p2 && !from->removed) {
			struct wfile *to = file_of(w, p2, 1);
			from = file_of(w, p1, 0); /* file_of may have moved the array */
			if (to && from) {
				file_truncate(w, to, 0);
				if (from->lost)
					lose_content(w, to);
				else
					file_write(w, to, 0, from->content, from->kept);
				to->size = from->size;
				from->removed = 1;
			}
		}
		return;
	}
	case AT_CALL_unlink:
	case AT_CALL_unlinkat: {
		at_event_paths(ev, &p1, NULL);
		struct wfile *wf = file_of(w, p1, 0);
		if (wf)
			wf->removed = 1;
		return;
	}
	default: break;
	}
}

static void io_event(at_world *w, const at_event *ev, struct wfd *f)
{
	const uint8_t *data;
	size_t len;
	int positional = ev->call == AT_CALL_pwrite || ev->call == AT_CALL_pwritev ||
	                 ev->call == AT_CALL_pwritev2 || ev->call == AT_CALL_pread ||
	                 ev->call == AT_CALL_preadv || ev->call == AT_CALL_preadv2;
	int writes = ev->call == AT_CALL_write || ev->call == AT_CALL_writev ||
	             ev->call == AT_CALL_pwrite || ev->call == AT_CALL_pwritev ||
	             ev->call == AT_CALL_pwritev2;
	int reads = ev->call == AT_CALL_read || ev->call == AT_CALL_readv ||
	            ev->call == AT_CALL_pread || ev->call == AT_CALL_preadv ||
	            ev->call == AT_CALL_preadv2 || ev->call == AT_CALL_getdents64 ||
	            ev->call == AT_CALL_read_random;
	if (!f || ev->ret <= 0 || (!writes && !reads))
		return;
	if (writes && f->kind == FD_FILE && f->path) {
		struct wfile *wf = file_of(w, f->path, 1);
		if (wf) {
			uint64_t at = positional              ? ev->arg1
			              : (f->flags & O_APPEND) ? wf->size
			                                      : (uint64_t)f->offset;
			written_data(ev, &data, &len);
			file_write(w, wf, at, data,
			           (size_t)ev->ret < len || !data ? (size_t)ev->ret : len);
			if (!positional && (f->flags & O_APPEND))
				f->offset = (int64_t)wf->size;
		}
	}
	if (!positional && !(writes && (f->flags & O_APPEND)))
		f->offset += ev->ret;
}

/* Seconds and a fraction (in `unit` ns) as ns, wrapping rather than overflowing on the
 * nonsense a damaged or synthetic payload may hold. */
static int64_t ns_of(int64_t sec, int64_t frac, int64_t unit)
{
	return (int64_t)((uint64_t)sec * 1000000000u + (uint64_t)frac * (uint64_t)unit);
}

void at_world_apply(at_world *w, const at_event *ev)
{
	int ok = ev->ret >= 0 && ev->err == 0;
	struct wfd *f = ev->fd >= 0 ? fd_slot(w, ev->fd, 0) : NULL;
	if (f && f->kind == FD_CLOSED)
		f = NULL;
	if (ev->thread < 1u << 16 &&
	    !grow((void **)&w->threads, &w->nthreads, (size_t)ev->thread + 1, sizeof *w->threads)) {
		w->threads[ev->thread].events++;
		w->threads[ev->thread].last = ev->seq;
	}
	if (ok) {
		const struct at_call_info *ci = at_call_info(ev->call);
		int family = ci ? (int)ci->family : -1;
		switch (ev->call) {
		case AT_CALL_clock_gettime:
			if (ev->arg0 < CLOCKS && ev->len >= 16 && !(ev->flags & AT_EVF_BLOB)) {
				int64_t ts[2];
				memcpy(ts, ev->payload, sizeof ts);
				w->clocks[ev->arg0] =
				    (struct wvalue){1, ns_of(ts[0], ts[1], 1), ev->seq};
			}
			break;
		case AT_CALL_gettimeofday:
			if ((ev->arg0 & 1) && ev->len >= 16 && !(ev->flags & AT_EVF_BLOB)) {
				int64_t tv[2];
				memcpy(tv, ev->payload, sizeof tv);
				w->tod = (struct wvalue){1, ns_of(tv[0], tv[1], 1000), ev->seq};
			}
			break;
		case AT_CALL_time:
			w->time = (struct wvalue){1, ns_of(ev->ret, 0, 1), ev->seq};
			break;
		case AT_CALL_socket: fd_open(w, ev->ret, FD_SOCKET, NULL, (int)ev->arg1); break;
		case AT_CALL_connect:
		case AT_CALL_accept:
		case AT_CALL_accept4: {
			char peer[300] = "";
			if (ev->len && !(ev->flags & AT_EVF_BLOB))
				at_sockaddr_format(ev->payload, ev->len, peer, sizeof peer);
			struct wfd *s = ev->call == AT_CALL_connect
			                    ? f
			                    : fd_open(w, ev->ret, FD_SOCKET, NULL, 0);
			if (s && peer[0]) {
				free(s->peer);
				s->peer = strdup(peer);
			}
			break;
		}
		case AT_CALL_fork:
		case AT_CALL_vfork:
			if (ev->ret > 0)
				child_made(w, ev, ev->ret);
			break;
		case AT_CALL_posix_spawn:
		case AT_CALL_posix_spawnp:
		case AT_CALL_system:
		case AT_CALL_popen: {
			int32_t pid = 0;
			if (ev->len >= 4 && !(ev->flags & AT_EVF_BLOB))
				memcpy(&pid, ev->payload, 4);
			child_made(w, ev, pid);
			break;
		}
		default:
			if (family == AT_FAMILY_FILE) {
				files_event(w, ev, f);
				io_event(w, ev, f);
			} else if (family == AT_FAMILY_SOCKET) {
				io_event(w, ev, f);
			} else if (ev->call == AT_CALL_read_random) {
				io_event(w, ev, f);
			}
		}
	} else if (ev->call == AT_CALL_connect && f && ev->len && !(ev->flags & AT_EVF_BLOB)) {
		char peer[300]; /* a non-blocking connect under way (EINPROGRESS) has a peer too */
		at_sockaddr_format(ev->payload, ev->len, peer, sizeof peer);
		free(f->peer);
		f->peer = strdup(peer);
	}
	w->step = ev->seq + 1;
}

/* ---- keyframes: typed sections ----
 * "ATKF", u32 version 1, then sections: u16 type, u16 reserved, u32 length, the bytes.
 * A reader skips types it does not know. Type 1: the world as JSON (at_world_json without
 * the hashes, with each file's "content" section number); type 2: one file's kept content. */
#define KF_MAGIC   "ATKF"
#define KF_WORLD   1
#define KF_CONTENT 2

struct buf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->failed || grow((void **)&b->p, &b->cap, b->len + len, 1)) {
		b->failed = 1;
		return;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put_section(struct buf *b, uint16_t type, const void *data, size_t len)
{
	uint8_t h[8];
	uint32_t n = (uint32_t)len;
	memcpy(h, &type, 2);
	memset(h + 2, 0, 2);
	memcpy(h + 4, &n, 4);
	put(b, h, sizeof h);
	put(b, data, len);
}

static json_t *world_json(const at_world *w, int hashes)
{
	json_t *o = json_object(), *fds = json_array(), *files = json_array(),
	       *clocks = json_array(), *threads = json_array(), *children = json_array();
	json_object_set_new(o, "step", json_integer((json_int_t)w->step));
	for (size_t i = 0; i < w->nfds; i++) {
		const struct wfd *f = &w->fds[i];
		if (f->kind == FD_CLOSED)
			continue;
		json_t *d = json_pack("{s:i, s:s, s:i, s:I, s:I}", "fd", (int)i, "kind",
		                      kind_names[f->kind], "flags", f->flags, "offset",
		                      (json_int_t)f->offset, "since", (json_int_t)f->since);
		if (f->path)
			json_object_set_new(d, "path", json_string(f->path));
		if (f->peer)
			json_object_set_new(d, "peer", json_string(f->peer));
		json_array_append_new(fds, d);
	}
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct wfile *f = &w->files[i];
		json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:b}", "path", f->path, "size",
		                      (json_int_t)f->size, "writes", (json_int_t)f->writes, "since",
		                      (json_int_t)f->since, "removed", f->removed);
		if (hashes && !f->lost) {
			at_blob_id id;
			char hex[2 * AT_BLOB_ID_LEN + 1];
			at_blob_hash(f->content, f->kept, &id);
			at_blob_hex(&id, hex);
			json_object_set_new(d, "sha256", json_string(hex));
		} else if (f->lost) {
			json_object_set_new(d, "content", json_string("not kept (over the bound)"));
		}
		json_array_append_new(files, d);
	}
	for (int c = 0; c < CLOCKS; c++) {
		char name[32];
		if (!w->clocks[c].have)
			continue;
		snprintf(name, sizeof name, "%s",
		         at_clock_name((uint64_t)c) ? at_clock_name((uint64_t)c) : "");
		if (!name[0])
			snprintf(name, sizeof name, "clock %d", c);
		json_array_append_new(clocks, json_pack("{s:s, s:i, s:I, s:I}", "clock", name, "id",
		                                        c, "ns", (json_int_t)w->clocks[c].ns,
		                                        "step", (json_int_t)w->clocks[c].step));
	}
	if (w->tod.have)
		json_array_append_new(clocks,
		                      json_pack("{s:s, s:i, s:I, s:I}", "clock", "gettimeofday",
		                                "id", -1, "ns", (json_int_t)w->tod.ns, "step",
		                                (json_int_t)w->tod.step));
	if (w->time.have)
		json_array_append_new(clocks, json_pack("{s:s, s:i, s:I, s:I}", "clock", "time",
		                                        "id", -2, "ns", (json_int_t)w->time.ns,
		                                        "step", (json_int_t)w->time.step));
	for (size_t t = 0; t < w->nthreads; t++)
		if (w->threads[t].events)
			json_array_append_new(
			    threads, json_pack("{s:I, s:I, s:I}", "thread", (json_int_t)t, "events",
			                       (json_int_t)w->threads[t].events, "last_step",
			                       (json_int_t)w->threads[t].last));
	for (size_t i = 0; i < w->nchildren; i++) {
		const struct wchild *c = &w->children[i];
		const struct at_call_info *ci = at_call_info(c->call);
		json_array_append_new(
		    children, json_pack("{s:I, s:I, s:s, s:I}", "number", (json_int_t)c->number,
		                        "pid", (json_int_t)c->pid, "call", ci ? ci->name : "?",
		                        "step", (json_int_t)c->step));
	}
	json_object_set_new(o, "descriptors", fds);
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "clocks", clocks);
	json_object_set_new(o, "threads", threads);
	json_object_set_new(o, "children", children);
	return o;
}

json_t *at_world_json(const at_world *w)
{
	return world_json(w, 1);
}

int at_world_save(const at_world *w, uint8_t **out, size_t *len)
{
	struct buf b = {0};
	uint32_t version = 1;
	put(&b, KF_MAGIC, 4);
	put(&b, &version, 4);
	json_t *o = world_json(w, 0);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text) {
		free(b.p);
		return AT_ENOMEM;
	}
	put_section(&b, KF_WORLD, text, strlen(text));
	free(text);
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct wfile *f = &w->files[i];
		if (f->lost)
			continue;
		uint32_t index = (uint32_t)i;
		struct buf s = {0};
		put(&s, &index, 4);
		put(&s, f->content, f->kept);
		if (!s.failed)
			put_section(&b, KF_CONTENT, s.p, s.len);
		b.failed |= s.failed;
		free(s.p);
	}
	if (b.failed) {
		free(b.p);
		return AT_ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

static int kind_of(const char *name)
{
	for (int k = 1; k < (int)(sizeof kind_names / sizeof kind_names[0]); k++)
		if (name && !strcmp(name, kind_names[k]))
			return k;
	return FD_CLOSED;
}

static int load_json(at_world *w, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL), *v;
	size_t i;
	if (!json_is_object(o)) {
		json_decref(o);
		return AT_ECORRUPT;
	}
	w->step = (uint64_t)json_integer_value(json_object_get(o, "step"));
	json_array_foreach(json_object_get(o, "descriptors"), i, v)
	{
		struct wfd *f = fd_open(w, json_integer_value(json_object_get(v, "fd")),
		                        kind_of(json_string_value(json_object_get(v, "kind"))),
		                        json_string_value(json_object_get(v, "path")),
		                        (int)json_integer_value(json_object_get(v, "flags")));
		if (!f)
			continue;
		f->offset = json_integer_value(json_object_get(v, "offset"));
		f->since = (uint64_t)json_integer_value(json_object_get(v, "since"));
		const char *peer = json_string_value(json_object_get(v, "peer"));
		f->peer = peer ? strdup(peer) : NULL;
	}
	json_array_foreach(json_object_get(o, "files"), i, v)
	{
		struct wfile *f = file_of(w, json_string_value(json_object_get(v, "path")), 1);
		if (!f)
			continue;
		f->size = (uint64_t)json_integer_value(json_object_get(v, "size"));
		f->writes = (uint64_t)json_integer_value(json_object_get(v, "writes"));
		f->since = (uint64_t)json_integer_value(json_object_get(v, "since"));
		f->removed = json_is_true(json_object_get(v, "removed"));
		f->lost = 1; /* until a content section gives it back */
	}
	json_array_foreach(json_object_get(o, "clocks"), i, v)
	{
		json_int_t id = json_integer_value(json_object_get(v, "id"));
		struct wvalue val = {1, json_integer_value(json_object_get(v, "ns")),
		                     (uint64_t)json_integer_value(json_object_get(v, "step"))};
		if (id >= 0 && id < CLOCKS)
			w->clocks[id] = val;
		else if (id == -1)
			w->tod = val;
		else if (id == -2)
			w->time = val;
	}
	json_array_foreach(json_object_get(o, "threads"), i, v)
	{
		json_int_t t = json_integer_value(json_object_get(v, "thread"));
		if (t < 0 || t >= 1 << 16 ||
		    grow((void **)&w->threads, &w->nthreads, (size_t)t + 1, sizeof *w->threads))
			continue;
		w->threads[t].events = (uint64_t)json_integer_value(json_object_get(v, "events"));
		w->threads[t].last = (uint64_t)json_integer_value(json_object_get(v, "last_step"));
	}
	json_array_foreach(json_object_get(o, "children"), i, v)
	{
		if (grow((void **)&w->children, &w->children_cap, w->nchildren + 1,
		         sizeof *w->children))
			break;
		const char *name = json_string_value(json_object_get(v, "call"));
		uint16_t call = 0;
		for (unsigned id = 0; name && id < AT_CALL_MAX; id++)
			if (at_call_info(id) && !strcmp(at_call_info(id)->name, name))
				call = (uint16_t)id;
		w->children[w->nchildren++] = (struct wchild){
		    .number = (uint64_t)json_integer_value(json_object_get(v, "number")),
		    .step = (uint64_t)json_integer_value(json_object_get(v, "step")),
		    .pid = json_integer_value(json_object_get(v, "pid")),
		    .call = call};
	}
	json_decref(o);
	return 0;
}

int at_world_load(at_world *w, const uint8_t *data, size_t len)
{
	reset(w);
	if (len < 8 || memcmp(data, KF_MAGIC, 4))
		return AT_ECORRUPT;
	size_t pos = 8;
	int rc = 0, have_world = 0;
	while (!rc && pos < len) {
		uint16_t type;
		uint32_t n;
		if (len - pos < 8)
			return AT_ECORRUPT;
		memcpy(&type, data + pos, 2);
		memcpy(&n, data + pos + 4, 4);
		pos += 8;
		if (n > len - pos)
			return AT_ECORRUPT;
		const uint8_t *p = data + pos;
		if (type == KF_WORLD) {
			rc = load_json(w, (const char *)p, n);
			have_world = 1;
		} else if (type == KF_CONTENT && have_world && n >= 4) {
			uint32_t index;
			memcpy(&index, p, 4);
			if (index < w->nfiles) {
				struct wfile *f = &w->files[index];
				f->lost = 0;
				f->kept = 0;
				if (n - 4 && grow((void **)&f->content, &f->cap, n - 4, 1))
					return AT_ENOMEM;
				if (n > 4)
					memcpy(f->content, p + 4, n - 4);
				f->kept = n - 4;
				w->content += f->kept;
			}
		}
		pos += n;
	}
	return rc ? rc : have_world ? 0 : AT_ECORRUPT;
}
