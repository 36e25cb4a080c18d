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

#define AT_RAWLOG_MAGIC "ATRAWLOG"
/* Bump when the layout of the header or a record changes: logs never outlive an
 * agenttrace install, so there is no compatibility to keep, only mismatches to catch. */
#define AT_RAWLOG_VERSION     1
#define AT_RAWLOG_HEADER_SIZE 4096u

/* Header flags. */
#define AT_RAWLOG_INCOMPLETE 0x1u /* recording stopped early; see the reason bits */
#define AT_RAWLOG_NOSPACE    0x2u /* reason: the disk was full */
#define AT_RAWLOG_OVERFLOW   0x4u /* reason: the log reached its mapped capacity */
#define AT_RAWLOG_REPLAY     0x8u /* a prepared replay stream, not a recording */

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
	/* Replay streams only. */
	uint32_t nthreads; /* entries in the thread tables */
	uint64_t nevents;
	int32_t end_signal;   /* the signal that ended the recorded process, or 0 */
	uint32_t threads_off; /* uint64_t first[nthreads] then uint64_t cursor[nthreads] */
	uint64_t ended;       /* replay: set once the end signal has been delivered */
};

/* A record: this header, `len` payload bytes, zero padding to a multiple of 8. */
struct at_rawrec {
	uint32_t size;   /* the whole record, written first */
	uint32_t commit; /* at_rawrec_commit_word(size) once complete, written last */
	uint64_t seq;    /* replay streams: the step; recordings: 0 (the log order is the order) */
	int64_t ret;
	uint64_t arg0;
	uint64_t arg1;
	uint64_t dur_ns;
	uint64_t link; /* replay streams: offset of this thread's next record, 0 at the end */
	uint32_t thread;
	int32_t err;
	int32_t fd;
	uint16_t call;
	uint16_t flags;
	uint32_t len;
	uint32_t reserved;
};

/* The commit word ties the marker to the size, so a stray marker in payload bytes is not
 * mistaken for a record when the reader resynchronises after a torn one. */
static inline uint32_t at_rawrec_commit_word(uint32_t size)
{
	return 0xA7C0FFEEu ^ (size * 0x9E3779B1u);
}

static inline uint32_t at_rawrec_size(uint32_t payload_len)
{
	return (uint32_t)((sizeof(struct at_rawrec) + payload_len + 7u) & ~7u);
}

/* A read-only view of a raw log file. */
typedef struct at_rawlog_view {
	const uint8_t *base;
	uint64_t size; /* bytes mapped */
	uint64_t off;  /* the next record to read */
	uint64_t end;  /* min(tail, allocated, size) */
	uint64_t torn; /* reserved records that were never completed (killed mid-write) */
} at_rawlog_view;

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

/* Fills the event from a record (payload borrowed from the record). */
void at_rawrec_to_event(const struct at_rawrec *rec, at_event *ev);

#endif
