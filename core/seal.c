/* Sealing raw logs into a trace (see seal.h): the streams, their events, the blobs and the
 * counts in meta; meta "tree" is built by seal_tree.c from the events streamed past it. The
 * raw logs are only read, never changed, so a seal that fails (a full disk, say) can simply
 * be run again. */
#include "agenttrace/seal.h"
#include "agenttrace/world.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "agenttrace/rawlog.h"
#include "seal_tree_internal.h"

struct log_entry {
	char path[4096];
	at_rawlog_view view;
	int root;
};

static int by_start(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;
	const struct at_rawlog_header *hx = at_rawlog_header(&x->view),
	                              *hy = at_rawlog_header(&y->view);
	if (x->root != y->root)
		return y->root - x->root;
	if (hx->start_ns != hy->start_ns)
		return hx->start_ns < hy->start_ns ? -1 : 1;
	return hx->pid - hy->pid;
}

/* The run directory's logs, opened, the root's first and the others by start time. Those
 * in `sealed` (names) are left out. */
static int open_logs(const char *run_dir, int root_pid, json_t *sealed, struct log_entry **out,
                     size_t *count)
{
	DIR *d = opendir(run_dir);
	if (!d)
		return AT_EIO;
	struct log_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (!at_rawlog_name_pid(e->d_name) || json_object_get(sealed, e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct log_entry *nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				rc = AT_ENOMEM;
				break;
			}
			v = nv;
		}
		snprintf(v[n].path, sizeof v[n].path, "%s/%s", run_dir, e->d_name);
		/* A log that cannot be read (its process died before writing the header) holds
		 * no events: leave it out. */
		if (at_rawlog_open(v[n].path, &v[n].view) != 0)
			continue;
		v[n].root = at_rawlog_header(&v[n].view)->pid == root_pid;
		n++;
	}
	closedir(d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			at_rawlog_close(&v[i].view);
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, by_start);
	*out = v;
	*count = n;
	return 0;
}

static const char *reason_of(uint32_t flags)
{
	if (flags & AT_STREAM_NOSPACE)
		return "the disk was full while recording";
	if (flags & AT_STREAM_OVERFLOW)
		return "a process's log reached its size limit";
	return "recording stopped early";
}

/* Nanoseconds per TSC tick for a log whose durations are ticks: the log's (tsc0, mono0)
 * pair and one read now, on the same machine, moments after the program ended. 0 when
 * that cannot be trusted (the machine rebooted in between, say). */
static double ns_per_tick(const struct at_rawlog_header *h)
{
#if defined(__x86_64__)
	struct timespec now;
	uint64_t tsc = __builtin_ia32_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t mono = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	if (tsc <= h->tsc0 || mono <= h->mono0)
		return 0;
	double r = (double)(mono - h->mono0) / (double)(tsc - h->tsc0);
	return r > 0.01 && r < 100 ? r : 0; /* a 10 MHz to 100 GHz counter */
#else
	(void)h;
	return 0;
#endif
}

/* Calls whose payload is the content of something read: large ones go to the blob store,
 * where every trace that read the same bytes shares them. */
static int content_call(uint16_t call)
{
	switch (call) {
	case AT_CALL_read:
	case AT_CALL_pread:
	case AT_CALL_readv:
	case AT_CALL_preadv:
	case AT_CALL_preadv2:
	case AT_CALL_mmap:
	case AT_CALL_getdents64: return 1;
	default: return 0;
	}
}

int at_blob_ref_resolve(const char *home, at_event *ev, void **content, at_blob_id *id)
{
	uint32_t want;
	size_t len;
	*content = NULL;
	if (!(ev->flags & AT_EVF_BLOB) || ev->len != AT_BLOB_REF_LEN)
		return AT_ECORRUPT;
	memcpy(id->b, ev->payload, AT_BLOB_ID_LEN);
	memcpy(&want, ev->payload + AT_BLOB_ID_LEN, 4);
	int rc = at_blob_get(home, id, content, &len);
	if (!rc && len != want) {
		free(*content);
		*content = NULL;
		rc = AT_ECORRUPT;
	}
	if (rc)
		return rc;
	ev->payload = *content;
	ev->len = want;
	ev->flags &= (uint16_t)~AT_EVF_BLOB;
	return 0;
}

/* Moves a large read payload to the blob store: the event then holds its id and length. */
static int to_blob(const char *home, at_event *ev, uint8_t ref[AT_BLOB_REF_LEN], json_t *blobs,
                   struct at_seal_stats *st)
{
	at_blob_id id;
	at_blob_hash(ev->payload, ev->len, &id);
	if (!at_blob_exists(home, &id)) {
		int rc = at_blob_put(home, ev->payload, ev->len, 0, &id);
		if (rc < 0)
			return rc;
		st->blobs_written++;
	}
	char hex[2 * AT_BLOB_ID_LEN + 1];
	at_blob_hex(&id, hex);
	if (!json_object_get(blobs, hex)) {
		json_object_set_new(blobs, hex, json_true());
		st->blob_bytes += ev->len;
	}
	memcpy(ref, id.b, AT_BLOB_ID_LEN);
	memcpy(ref + AT_BLOB_ID_LEN, &ev->len, 4);
	ev->payload = ref;
	ev->len = AT_BLOB_REF_LEN;
	ev->flags |= AT_EVF_BLOB;
	return 0;
}

/* One stream being sealed: the root process's, along while the program runs, or one log
 * sealed whole. */
struct stream_ctx {
	double scale;    /* ns per raw duration unit */
	uint64_t seq;    /* its next event number */
	at_world *world; /* its world, for its keyframes */
	size_t node;     /* its node in the tree, and its stream number */
};

/* A child's log seen while the program runs, not sealed yet: its process may still run. */
struct pending_log {
	char name[64];
	int pid;
};

struct at_sealer {
	char *home; /* NULL: no blob store */
	char *path, *tmp;
	at_trace_writer *w;
	json_t *calls, *blobs;
	struct at_seal_stats st;
	uint32_t incomplete_flags; /* the first stream that stopped early: its flags */
	int failed;                /* the live part failed: at_sealer_finish starts over */
	int wrote_blobs; /* before starting over: the blob store needs syncing all the same */

	/* The root process's log, sealed while the program runs (at_sealer_pump). */
	struct log_entry live;
	int live_open;
	struct stream_ctx live_ctx;
	/* The other processes' logs: those seen and not sealed yet, those sealed (a set of
	 * names), and the run directory's modification time when last listed. */
	struct pending_log *pending;
	size_t npending, pending_cap;
	json_t *sealed;
	struct timespec listed, listed_at; /* the directory's mtime, and when we looked */
	struct at_seal_tree tree; /* what meta "tree" is made of: a node per stream begun */
	unsigned keyframe_every;  /* events between keyframes; 0: none */
};

static int stream_begin(at_sealer *s, struct log_entry *le, struct stream_ctx *ctx)
{
	const struct at_rawlog_header *h = at_rawlog_header(&le->view);
	ctx->scale = h->flags & AT_RAWLOG_TSC ? ns_per_tick(h) : 1.0;
	ctx->seq = 0;
	struct at_stream_info info = {
	    .pid = h->pid, .ppid = h->ppid, .images = h->images, .start_ns = h->start_ns};
	if (le->root)
		info.flags |= AT_STREAM_ROOT;
	at_world_free(ctx->world);
	ctx->world = NULL;
	if (s->keyframe_every && !(ctx->world = at_world_new()))
		return AT_ENOMEM;
	int rc = at_trace_writer_begin_stream(s->w, &info);
	if (rc < 0 || (rc = at_seal_tree_begin(&s->tree, h, le->root)) < 0)
		return rc;
	ctx->node = s->tree.count - 1;
	return 0;
}

/* The stream's world just before step `step`, as a keyframe chunk. */
static int keyframe(at_sealer *s, struct stream_ctx *ctx, uint64_t step)
{
	uint8_t *data;
	size_t len;
	int rc = at_world_save(ctx->world, &data, &len);
	if (!rc)
		rc = at_trace_writer_keyframe(s->w, step, data, len);
	free(data);
	return rc;
}

/* Seals the stream's next records: all of them, or only those committed so far (live). */
static int stream_events(at_sealer *s, struct log_entry *le, struct stream_ctx *ctx, int live)
{
	at_event ev;
	uint8_t ref[AT_BLOB_REF_LEN];
	struct at_seal_stats *st = &s->st;
	int rc;
	while ((live ? at_rawlog_next_live(&le->view, &ev) : at_rawlog_next(&le->view, &ev)) == 1) {
		ev.seq = ctx->seq++; /* the log order is the process's order of events */
		ev.dur_ns = (uint64_t)((double)ev.dur_ns * ctx->scale + 0.5);
		uint32_t len = ev.len;
		if (s->home && ev.len >= AT_BLOB_MIN && content_call(ev.call) &&
		    (rc = to_blob(s->home, &ev, ref, s->blobs, st)) < 0)
			return rc;
		if (ctx->world && ev.seq && ev.seq % s->keyframe_every == 0 &&
		    (rc = keyframe(s, ctx, ev.seq)) < 0)
			return rc;
		if ((rc = at_trace_writer_append(s->w, &ev)) < 0 ||
		    (rc = at_seal_tree_event(&s->tree, ctx->node, &ev)) < 0)
			return rc;
		if (ctx->world)
			at_world_apply(ctx->world, &ev);
		const struct at_call_info *ci = at_call_info(ev.call);
		if (ci) {
			st->family[ci->family]++;
			json_t *c = json_object_get(s->calls, ci->name);
			json_object_set_new(s->calls, ci->name,
			                    json_integer(c ? json_integer_value(c) + 1 : 1));
		}
		st->events++;
		st->payload_bytes += len;
	}
	return 0;
}

/* What the header says once the writers are gone: how the recording ended. */
static void stream_end(at_sealer *s, struct log_entry *le, struct stream_ctx *ctx)
{
	at_world_free(ctx->world);
	ctx->world = NULL;
	const struct at_rawlog_header *h = at_rawlog_header(&le->view);
	struct at_stream_info *si = at_trace_writer_stream(s->w);
	if (h->flags & AT_RAWLOG_INCOMPLETE)
		si->flags |= AT_STREAM_INCOMPLETE;
	if (h->flags & AT_RAWLOG_NOSPACE)
		si->flags |= AT_STREAM_NOSPACE;
	if (h->flags & AT_RAWLOG_OVERFLOW)
		si->flags |= AT_STREAM_OVERFLOW;
	si->images = h->images;
	si->torn = le->view.torn;
	at_seal_tree_end(&s->tree, ctx->node, h, (si->flags & AT_STREAM_INCOMPLETE) != 0);
	s->st.torn += le->view.torn;
	s->st.exclude_hits |= h->exclude_hits;
	s->st.streams++;
	if (le->root)
		s->st.root_found = 1;
	if ((si->flags & AT_STREAM_INCOMPLETE) && !s->st.incomplete++)
		s->incomplete_flags = si->flags;
}

static int seal_stream(at_sealer *s, struct log_entry *le)
{
	struct stream_ctx ctx = {0};
	int rc = stream_begin(s, le, &ctx);
	if (!rc)
		rc = stream_events(s, le, &ctx, 0);
	if (!rc)
		stream_end(s, le, &ctx);
	at_world_free(ctx.world);
	return rc;
}

/* The blob store's writes reach the disk before the trace that names them is renamed into
 * place: one syncfs for all of them instead of an fsync each. */
static void sync_blobs(const char *home)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/blobs", home);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
}

static int writer_open(at_sealer *s)
{
	unlink(s->tmp); /* left by an earlier seal that was interrupted, or our live part */
	s->calls = json_object();
	s->blobs = json_object();
	s->sealed = json_object();
	memset(&s->st, 0, sizeof s->st);
	s->incomplete_flags = 0;
	if (!s->calls || !s->blobs || !s->sealed)
		return AT_ENOMEM;
	return at_trace_writer_create(s->tmp, 0, &s->w);
}

static void writer_drop(at_sealer *s)
{
	if (s->st.blobs_written)
		s->wrote_blobs = 1;
	at_trace_writer_abort(s->w); /* removes the temporary file */
	s->w = NULL;
	json_decref(s->calls);
	json_decref(s->blobs);
	json_decref(s->sealed);
	s->calls = s->blobs = s->sealed = NULL;
	if (s->live_open)
		at_rawlog_close(&s->live.view);
	s->live_open = 0;
	at_world_free(s->live_ctx.world);
	s->live_ctx.world = NULL;
	s->npending = 0;
	memset(&s->listed, 0, sizeof s->listed);
	memset(&s->listed_at, 0, sizeof s->listed_at);
	at_seal_tree_reset(&s->tree);
}

int at_sealer_begin(const char *home, const char *trace_path, at_sealer **out)
{
	*out = NULL;
	at_sealer *s = calloc(1, sizeof *s);
	if (!s)
		return AT_ENOMEM;
	if ((home && !(s->home = strdup(home))) || !(s->path = strdup(trace_path)) ||
	    asprintf(&s->tmp, "%s.tmp", trace_path) < 0) {
		s->tmp = NULL;
		at_sealer_abort(s);
		return AT_ENOMEM;
	}
	int rc = writer_open(s);
	if (rc) {
		at_sealer_abort(s);
		return rc;
	}
	s->keyframe_every = AT_KEYFRAME_EVERY;
	*out = s;
	return 0;
}

void at_sealer_keyframes(at_sealer *s, unsigned every)
{
	s->keyframe_every = every;
}

/* The root process's log, once its TSC pairing is old enough to convert durations: the
 * tick rate is measured over the log's life so far, and 5 ms of it already pins the rate
 * to about 1e-5. */
#define LIVE_MIN_AGE_NS 5000000u

static int open_live(at_sealer *s, const char *run_dir, int root_pid)
{
	DIR *d = opendir(run_dir);
	if (!d)
		return 0;
	struct dirent *e;
	while (!s->live_open && (e = readdir(d))) {
		if (at_rawlog_name_pid(e->d_name) != root_pid)
			continue;
		struct log_entry *le = &s->live;
		snprintf(le->path, sizeof le->path, "%s/%s", run_dir, e->d_name);
		if (at_rawlog_open_live(le->path, &le->view) != 0)
			continue; /* its header is not written yet */
		const struct at_rawlog_header *h = at_rawlog_header(&le->view);
		if (h->pid != root_pid) { /* a name that lies: leave it to finish */
			at_rawlog_close(&le->view);
			continue;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t mono = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
		if ((h->flags & AT_RAWLOG_TSC) && mono < h->mono0 + LIVE_MIN_AGE_NS) {
			at_rawlog_close(&le->view);
			continue;
		}
		le->root = 1;
		s->live_open = 1;
	}
	closedir(d);
	if (s->live_open && stream_begin(s, &s->live, &s->live_ctx) < 0)
		return -1;
	return 0;
}

#define LIST_EVERY_MS 25

/* Adds the logs made since the last look to s->pending: only when the run directory has
 * changed, so that a program that has made thousands of processes is not listed again
 * every few milliseconds. */
static int find_new_logs(at_sealer *s, const char *run_dir, int root_pid)
{
	/* Not more often than every LIST_EVERY_MS: listing a directory of hundreds of logs
	 * is most of what sealing along costs a fork/exec-heavy program, and a process found
	 * a little later is sealed a little later (docs/performance.md). */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - s->listed_at.tv_sec) * 1000 +
	        (now.tv_nsec - s->listed_at.tv_nsec) / 1000000 <
	    LIST_EVERY_MS)
		return 0;
	s->listed_at = now;
	struct stat sb;
	if (stat(run_dir, &sb) < 0)
		return 0;
	if (sb.st_mtim.tv_sec == s->listed.tv_sec && sb.st_mtim.tv_nsec == s->listed.tv_nsec)
		return 0;
	s->listed = sb.st_mtim;
	DIR *d = opendir(run_dir);
	if (!d)
		return 0;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		int pid = at_rawlog_name_pid(e->d_name);
		if (!pid || pid == root_pid || strlen(e->d_name) >= sizeof s->pending->name ||
		    json_object_get(s->sealed, e->d_name))
			continue;
		size_t i = 0;
		while (i < s->npending && strcmp(s->pending[i].name, e->d_name))
			i++;
		if (i < s->npending)
			continue;
		if (s->npending == s->pending_cap) {
			size_t cap = s->pending_cap ? 2 * s->pending_cap : 64;
			struct pending_log *np = realloc(s->pending, cap * sizeof *np);
			if (!np) {
				rc = AT_ENOMEM;
				break;
			}
			s->pending = np;
			s->pending_cap = cap;
		}
		struct pending_log *pl = &s->pending[s->npending++];
		snprintf(pl->name, sizeof pl->name, "%s", e->d_name);
		pl->pid = pid;
	}
	closedir(d);
	return rc;
}

/* Whether nothing writes to the log at `path` any more, nor will: no process holds the
 * shared lock every writer takes for as long as it has the log mapped (preload/log.c), and
 * no image is between an exec and taking it over (its stamp, exec_ns). A proof, unlike the
 * pid: the log's pid may be one of another pid namespace. */
static int log_ended(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct at_rawlog_header h;
	/* Locked, the stamp is read after any writer has let go: one taking the log over locks
	 * before it clears the stamp. */
	int ended = flock(fd, LOCK_EX | LOCK_NB) == 0 && pread(fd, &h, sizeof h, 0) == sizeof h;
	if (ended && h.exec_ns) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t mono = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
		ended =
		    mono - h.exec_ns > AT_RAWLOG_HANDOVER_MAX_AGE_NS; /* into an unrecorded image */
	}
	close(fd); /* and with it the lock */
	return ended;
}

/* Seals, whole, the logs of the processes that have ended, while the root's stream is held:
 * most of a fork/exec-heavy program's streams are then sealed before it ends, on a core
 * it leaves idle. */
static int seal_ended(at_sealer *s, const char *run_dir, int root_pid)
{
	int rc = find_new_logs(s, run_dir, root_pid);
	struct log_entry *ended = NULL;
	size_t n = 0;
	for (size_t i = 0; !rc && i < s->npending;) {
		/* A pid some process still has is not even looked at. */
		if (kill(s->pending[i].pid, 0) == 0 || errno != ESRCH) {
			i++;
			continue;
		}
		struct log_entry *ne = realloc(ended, (n + 1) * sizeof *ne);
		if (!ne) {
			rc = AT_ENOMEM;
			break;
		}
		ended = ne;
		struct log_entry *le = &ended[n];
		snprintf(le->path, sizeof le->path, "%s/%s", run_dir, s->pending[i].name);
		if (!log_ended(le->path)) {
			i++;
			continue;
		}
		le->root = 0;
		if (at_rawlog_open(le->path, &le->view) == 0)
			n++; /* else it holds no events: finish leaves it out too */
		s->pending[i] = s->pending[--s->npending];
	}
	if (n > 1)
		qsort(ended, n, sizeof *ended, by_start);
	for (size_t i = 0; i < n; i++) {
		if (!rc && !(rc = at_trace_writer_hold(s->w))) {
			rc = seal_stream(s, &ended[i]);
			int resumed = at_trace_writer_resume(s->w);
			if (!rc)
				rc = resumed;
		}
		const char *base = strrchr(ended[i].path, '/') + 1;
		if (!rc && json_object_set_new(s->sealed, base, json_true()) < 0)
			rc = AT_ENOMEM;
		at_rawlog_close(&ended[i].view);
	}
	free(ended);
	return rc;
}

int at_sealer_pump(at_sealer *s, const char *run_dir, int root_pid)
{
	if (s->failed)
		return s->failed;
	int rc = 0;
	if (!s->live_open && open_live(s, run_dir, root_pid) < 0)
		rc = AT_EIO;
	if (!rc && s->live_open) {
		at_rawlog_refresh(&s->live.view);
		rc = stream_events(s, &s->live, &s->live_ctx, 1);
		/* Only behind the root's stream: it comes first in the trace. */
		if (!rc)
			rc = seal_ended(s, run_dir, root_pid);
	}
	if (rc)
		s->failed = rc;
	return rc;
}

void at_sealer_abort(at_sealer *s)
{
	if (!s)
		return;
	writer_drop(s);
	free(s->pending);
	free(s->home);
	free(s->path);
	free(s->tmp);
	free(s);
}

int at_sealer_finish(at_sealer *s, const char *run_dir, int root_pid, json_t *meta,
                     struct at_seal_stats *st, struct at_trace_problem *pb)
{
	struct log_entry *logs = NULL;
	size_t nlogs = 0;
	int rc = open_logs(run_dir, root_pid, s->sealed, &logs, &nlogs);
	if (rc) {
		if (pb)
			snprintf(pb->what, sizeof pb->what, "cannot read the raw recording in %s",
			         run_dir);
		memset(st, 0, sizeof *st);
		at_sealer_abort(s);
		return rc;
	}
	/* The live part must be the trace's first stream, whole: else start over. */
	int live = s->live_open && nlogs && logs[0].root && !strcmp(logs[0].path, s->live.path);
	if (s->failed || (s->live_open && !live)) {
		writer_drop(s);
		s->failed = 0;
		live = 0;
		rc = writer_open(s);
		if (!rc) { /* the logs sealed along, left out above, must be sealed again */
			for (size_t i = 0; i < nlogs; i++)
				at_rawlog_close(&logs[i].view);
			free(logs);
			logs = NULL;
			nlogs = 0;
			rc = open_logs(run_dir, root_pid, NULL, &logs, &nlogs);
		}
	}
	for (size_t i = 0; !rc && i < nlogs; i++) {
		if (i == 0 && live) {
			at_rawlog_refresh(
			    &s->live.view); /* the writers are gone: read to the end */
			rc = stream_events(s, &s->live, &s->live_ctx, 0);
			if (!rc)
				stream_end(s, &s->live, &s->live_ctx);
		} else {
			rc = seal_stream(s, &logs[i]);
		}
	}
	const char *reason = s->st.incomplete ? reason_of(s->incomplete_flags) : NULL;
	for (size_t i = 0; i < nlogs; i++)
		at_rawlog_close(&logs[i].view);
	free(logs);
	if (!rc && !s->st.root_found)
		reason = "the program never loaded the recorder (statically linked, setuid, or "
		         "LD_PRELOAD removed)";

	json_t *families = json_object();
	for (int f = 0; f < AT_FAMILY_COUNT; f++)
		json_object_set_new(families, at_family_name(f),
		                    json_integer((json_int_t)s->st.family[f]));
	json_object_set_new(meta, "events", json_integer((json_int_t)s->st.events));
	json_object_set_new(meta, "families", families);
	json_object_set_new(meta, "calls", s->calls ? json_incref(s->calls) : json_object());
	json_object_set_new(meta, "payload_bytes", json_integer((json_int_t)s->st.payload_bytes));
	json_object_set_new(meta, "processes", json_integer((json_int_t)s->st.streams));
	json_object_set_new(meta, "torn_events", json_integer((json_int_t)s->st.torn));
	json_object_set_new(meta, "complete", json_boolean(reason == NULL));
	json_object_set_new(meta, "incomplete_reason", reason ? json_string(reason) : json_null());
	/* The blobs this trace uses, for verify and gc: sorted, so the meta is reproducible. */
	json_t *ids = json_array();
	const char *hex;
	json_t *v;
	if (s->blobs)
		json_object_foreach(s->blobs, hex, v) json_array_append_new(ids, json_string(hex));
	json_object_set_new(meta, "blobs", ids);
	json_object_set_new(meta, "blob_bytes", json_integer((json_int_t)s->st.blob_bytes));
	if (!rc)
		rc = at_seal_tree_finish(&s->tree, meta);
	if (s->home && (s->st.blobs_written || s->wrote_blobs))
		sync_blobs(s->home);

	if (!rc) {
		char *text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text) {
			rc = AT_ENOMEM;
		} else {
			rc = at_trace_writer_finish(s->w, text, strlen(text));
			s->w = NULL; /* finish frees it, whatever happened */
			free(text);
		}
	}
	if (!rc && rename(s->tmp, s->path) < 0)
		rc = errno == ENOSPC ? AT_ENOSPC : AT_EIO;
	if (!rc) {
		int fd = open(s->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			off_t end = lseek(fd, 0, SEEK_END);
			s->st.sealed_bytes = end > 0 ? (uint64_t)end : 0;
			close(fd);
		}
	}
	if (rc && pb) {
		pb->code = rc;
		pb->chunk = -1;
		snprintf(pb->what, sizeof pb->what, "cannot write %s: %s", s->path,
		         at_strerror(rc));
	}
	if (rc)
		unlink(s->tmp);
	*st = s->st;
	at_sealer_abort(s);
	return rc;
}

int at_seal(const char *run_dir, int root_pid, const char *home, json_t *meta,
            const char *trace_path, struct at_seal_stats *st, struct at_trace_problem *pb)
{
	at_sealer *s;
	int rc = at_sealer_begin(home, trace_path, &s);
	if (rc) {
		memset(st, 0, sizeof *st);
		if (pb) {
			pb->code = rc;
			pb->chunk = -1;
			snprintf(pb->what, sizeof pb->what, "cannot write %s: %s", trace_path,
			         at_strerror(rc));
		}
		return rc;
	}
	json_t *every = json_object_get(meta, "keyframe_every");
	if (json_is_integer(every) && json_integer_value(every) >= 0 &&
	    json_integer_value(every) <= UINT32_MAX)
		at_sealer_keyframes(s, (unsigned)json_integer_value(every));
	return at_sealer_finish(s, run_dir, root_pid, meta, st, pb);
}
