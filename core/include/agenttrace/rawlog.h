/* The raw log: the uncompressed, memory-mapped form of one process's events.
 * Two producers write it: the preload while recording (one log per process, appended to
 * from many threads with one atomic add, and never torn by SIGKILL because every byte is
 * in the page cache as soon as it is stored), and the replay preparer, which decodes a
 * sealed stream back into it so the preload can replay without zstd or malloc.
 * Native byte order: a raw log never leaves the machine that wrote it. */
#ifndef AGENTTRACE_RAWLOG_H
#define AGENTTRACE_RAWLOG_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"
#include "agenttrace/proc.h"

#define AT_RAWLOG_MAGIC "ATRAWLOG"
/* Bump when the layout of the header or a record changes: logs never outlive an
 * agenttrace install, so there is no compatibility to keep, only mismatches to catch. */
#define AT_RAWLOG_VERSION 5
/* Records start here in a log the preload writes: right after the header, in its first
 * page, so that a process that logs little touches one page of its log, not two. */
#define AT_RAWLOG_HEADER_SIZE 512u
/* An exec stamp (exec_ns) older than this is left over from an exec into an image without
 * the recorder (static, setuid, LD_PRELOAD removed). */
#define AT_RAWLOG_HANDOVER_MAX_AGE_NS (10ull * 1000000000u)

/* How a recording log grows (preload/log.c): by FIRST_WINDOW, then doubling up to WINDOW
 * at a time, each step reserved with fallocate and mapped with MADV_POPULATE_WRITE. A
 * short-lived process costs one page: a shell script's commands log 1-2 KiB each, and
 * each page more was allocated, zeroed and freed for nothing (docs/performance.md).
 * `agenttrace record` prepares the next step ahead of the writer (cli/prefault.c), so
 * WINDOW also bounds what it allocates beyond the end. */
#define AT_RAWLOG_FIRST_WINDOW (4ull << 10)
#define AT_RAWLOG_WINDOW       (2ull << 20)

/* Header flags. */
#define AT_RAWLOG_INCOMPLETE 0x1u  /* recording stopped early; see the reason bits */
#define AT_RAWLOG_NOSPACE    0x2u  /* reason: the disk was full */
#define AT_RAWLOG_OVERFLOW   0x4u  /* reason: the log reached its mapped capacity */
#define AT_RAWLOG_REPLAY     0x8u  /* a prepared replay stream, not a recording */
#define AT_RAWLOG_TSC        0x10u /* durations are TSC ticks: see tsc0/mono0 */

struct at_rawlog_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size; /* records start here (a multiple of 8) */
	uint64_t tail;        /* next free byte; writers reserve with an atomic add */
	uint64_t allocated;   /* bytes backed by disk blocks: stores below never SIGBUS */
	uint32_t flags;       /* AT_RAWLOG_*, set with atomic or */
	uint32_t next_thread; /* thread numbers handed out (0 is the main thread) */
	int32_t pid;          /* the recorded process */
	int32_t ppid;
	uint64_t start_ns; /* CLOCK_REALTIME at creation */
	uint32_t images;   /* program images that appended (1 + execs) */
	uint32_t reserved;
	/* With AT_RAWLOG_TSC: the TSC and CLOCK_MONOTONIC (ns) read together at creation. The
	 * sealer reads the pair again to turn ticks into nanoseconds. */
	uint64_t tsc0;
	uint64_t mono0;
	/* Replay streams only. */
	uint32_t nthreads;     /* entries in the thread tables */
	int32_t end_signal;    /* the signal that ended the recorded process, or 0 */
	uint64_t nevents;      /* entries in the event table */
	uint64_t threads_off;  /* uint64_t cursor[nthreads]: an event index + 1, 0 at the end */
	uint64_t events_off;   /* struct at_replay_entry[nevents] */
	uint64_t ended;        /* set once the end signal has been delivered */
	uint64_t exclude_hits; /* record: bit i set once pattern i of record --exclude matched */
	/* record: bytes `agenttrace record` has already allocated ahead of the writers
	 * (cli/prefault.c); a writer growing the log below this only maps the pages. */
	uint64_t prepared;
	/* The process's key (proc.h), "" when it could not be learnt. */
	char key[AT_PROC_KEY_MAX];
	/* Children numbered so far (their keys' last part): kept here so that an exec'd image
	 * goes on numbering where the last one stopped. */
	uint32_t children;
	/* record: CLOCK_MONOTONIC (ns) when an image of this process was about to exec, 0
	 * otherwise. The new image finds the log by its pid and goes on with it when this
	 * is set and less than AT_RAWLOG_HANDOVER_MAX_AGE_NS old (preload/log.c); it takes the
	 * log's shared lock (flock), then sets this back to 0. Every writer holds that lock
	 * while it has the log mapped, so a log nobody locks and nobody is taking over is
	 * final (the sealer seals it while the program runs, core/seal.c). */
	uint64_t exec_ns;
	/* Replay streams only: the recorded order across threads (replay/order.c). */
	uint32_t turn;         /* futex word: bumped whenever the frontier moves */
	uint64_t frontier;     /* the first event index not consumed yet */
	uint64_t consumed_off; /* uint8_t consumed[nevents]: 1 once taken (or never ordered) */
	uint64_t relaxed;      /* times a thread went ahead of its turn (bounded waits) */
	uint64_t elastic;      /* clock reads served or passed over out of place */
	uint64_t signals;      /* recorded signals delivered again */
};
_Static_assert(sizeof(struct at_rawlog_header) <= AT_RAWLOG_HEADER_SIZE,
               "the raw log header must fit before the first record");

/* A record: this 48-byte header, an at_rawrec_ext when flags has AT_RAWREC_EXT, the
 * payload, and zero padding to a multiple of 8. Recordings and replay streams share it. */
struct at_rawrec {
	uint32_t size;   /* header + extension + payload (unpadded); written first */
	uint32_t commit; /* at_rawrec_commit_word(size) once complete, written last */
	int64_t ret;
	uint64_t arg0;
	uint64_t arg1;
	uint64_t dur; /* ns, or TSC ticks in a log with AT_RAWLOG_TSC */
	uint16_t call;
	uint16_t flags; /* AT_RAWREC_EXT, plus the event's own flags << 1 */
	uint32_t thread;
};

/* Most calls succeed and have no descriptor: errno and fd only take room when needed. */
#define AT_RAWREC_EXT 0x1u
struct at_rawrec_ext {
	int32_t err;
	int32_t fd;
};

/* A replay stream's event table entry: where event `seq` is, and its thread's next event
 * (an index + 1; 0 at the end). */
struct at_replay_entry {
	uint64_t offset;
	uint64_t seq;
	uint64_t next;
};

/* The commit word ties the marker to the size, so a stray marker in payload bytes is not
 * mistaken for a record when the reader resynchronises after a torn one. */
static inline uint32_t at_rawrec_commit_word(uint32_t size)
{
	return 0xA7C0FFEEu ^ (size * 0x9E3779B1u);
}

/* The size field of a record holding `len` payload bytes. */
static inline uint32_t at_rawrec_bytes(uint32_t len, int ext)
{
	return (uint32_t)sizeof(struct at_rawrec) +
	       (ext ? (uint32_t)sizeof(struct at_rawrec_ext) : 0) + len;
}

/* The space a record of that size takes in the log. */
static inline uint32_t at_rawrec_stride(uint32_t size)
{
	return (size + 7u) & ~7u;
}

/* Whether a record of `ev` carries the errno/fd extension, and the bytes it takes. */
static inline int at_rawrec_has_ext(const at_event *ev)
{
	return ev->err != 0 || ev->fd != -1;
}

static inline uint32_t at_rawrec_stride_for(const at_event *ev)
{
	return at_rawrec_stride(at_rawrec_bytes(ev->len, at_rawrec_has_ext(ev)));
}

/* Fills the record at `r` (which must have at_rawrec_stride(size) bytes) from `ev`, all
 * but the commit word; `dur` replaces ev->dur_ns. Returns the size. Not the hot path's
 * only user: tests and the replay preparer build records with it too. */
static inline uint32_t at_rawrec_fill(struct at_rawrec *r, const at_event *ev, uint64_t dur)
{
	int ext = at_rawrec_has_ext(ev);
	uint32_t size = at_rawrec_bytes(ev->len, ext);
	__atomic_store_n(&r->size, size, __ATOMIC_RELAXED);
	r->ret = ev->ret;
	r->arg0 = ev->arg0;
	r->arg1 = ev->arg1;
	r->dur = dur;
	r->call = ev->call;
	r->flags = (uint16_t)((ev->flags << 1) | (ext ? AT_RAWREC_EXT : 0));
	r->thread = ev->thread;
	uint8_t *p = (uint8_t *)(r + 1);
	if (ext) {
		struct at_rawrec_ext x = {ev->err, ev->fd};
		__builtin_memcpy(p, &x, sizeof x);
		p += sizeof x;
	}
	if (!ev->payload) /* the caller copies the payload itself */
		;
	else if (ev->len == 16) /* a timespec: a fixed-size copy the compiler inlines */
		__builtin_memcpy(p, ev->payload, 16);
	else if (ev->len)
		__builtin_memcpy(p, ev->payload, ev->len);
	return size;
}

/* The payload of a complete record, and its length. */
static inline const uint8_t *at_rawrec_payload(const struct at_rawrec *r, uint32_t *len)
{
	uint32_t head = at_rawrec_bytes(0, r->flags & AT_RAWREC_EXT);
	*len = r->size - head;
	return (const uint8_t *)r + head;
}

/* errno as recorded (0 when the call succeeded). */
static inline int32_t at_rawrec_err(const struct at_rawrec *r)
{
	struct at_rawrec_ext x = {0, -1};
	if (r->flags & AT_RAWREC_EXT)
		__builtin_memcpy(&x, r + 1, sizeof x);
	return x.err;
}

/* The descriptor as recorded (-1: none). */
static inline int32_t at_rawrec_fd(const struct at_rawrec *r)
{
	struct at_rawrec_ext x = {0, -1};
	if (r->flags & AT_RAWREC_EXT)
		__builtin_memcpy(&x, r + 1, sizeof x);
	return x.fd;
}

static inline void at_rawrec_commit(struct at_rawrec *r, uint32_t size)
{
	__atomic_store_n(&r->commit, at_rawrec_commit_word(size), __ATOMIC_RELEASE);
}

/* A read-only view of a raw log file. */
typedef struct at_rawlog_view {
	const uint8_t *base;
	uint64_t size; /* bytes mapped */
	uint64_t off;  /* the next record to read */
	uint64_t end;  /* min(tail, allocated, size, the file's size) */
	uint64_t torn; /* reserved records that were never completed (killed mid-write) */
	int live_fd;   /* a live view: the open log, to learn its size (else unused) */
	int live;
} at_rawlog_view;

/* The pid in a log's file name, proc-<pid>-<n>.log; 0 when the name is not a log's. */
int at_rawlog_name_pid(const char *name);

/* Maps `path` read-only and checks its header. AT_ECORRUPT / AT_EVERSION / AT_EIO. */
int at_rawlog_open(const char *path, at_rawlog_view *view);
void at_rawlog_close(at_rawlog_view *view);
static inline const struct at_rawlog_header *at_rawlog_header(const at_rawlog_view *view)
{
	return (const struct at_rawlog_header *)view->base;
}
/* The next complete record as an event (payload borrowed from the mapping): 1, 0 at the
 * end. Skips torn records, counting them in view->torn. */
int at_rawlog_next(at_rawlog_view *view, at_event *ev);

/* A log that is still being written (the sealer reading along while the program runs):
 * open maps room for the log to grow, refresh takes in what was appended since, and
 * next_live returns the next record only once it is committed, never skipping one (a
 * record not committed yet is being written). at_rawlog_next, after the writers are gone,
 * goes on from there. */
int at_rawlog_open_live(const char *path, at_rawlog_view *view);
void at_rawlog_refresh(at_rawlog_view *view);
int at_rawlog_next_live(at_rawlog_view *view, at_event *ev);

/* Fills the event from a complete record (payload borrowed from the record; seq 0;
 * dur_ns is the record's raw duration). */
void at_rawrec_to_event(const struct at_rawrec *rec, at_event *ev);

#endif
