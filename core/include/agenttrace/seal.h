/* Sealing: turning the raw logs a recording left in its run directory into one sealed
 * trace file. Runs in `agenttrace` after the program has ended, however it ended; the root
 * process's log can also be sealed along while the program runs (at_sealer_pump), so that
 * little is left to do at the end. */
#ifndef AGENTTRACE_SEAL_H
#define AGENTTRACE_SEAL_H

#include <jansson.h>
#include <stdint.h>

#include "agenttrace/container.h"
#include "agenttrace/event.h"

struct at_seal_stats {
	uint64_t events;
	uint64_t family[AT_FAMILY_COUNT];
	uint64_t payload_bytes;
	uint64_t blob_bytes;    /* distinct content moved to the blob store */
	uint64_t blobs_written; /* blobs the store did not have yet */
	uint64_t exclude_hits;  /* bit i: pattern i of record --exclude matched a path */
	uint64_t sealed_bytes;
	unsigned streams;
	unsigned incomplete; /* streams whose recording stopped early */
	uint64_t torn;
	int root_found; /* 0: the program never loaded the recorder */
};

/* Read payloads of at least this many bytes are kept in the blob store (blobs.h); the
 * event then holds AT_BLOB_REF_LEN bytes: the blob id and the payload's length (u32).
 * Smaller reads stay in the trace: a file per blob costs an inode, and creating thousands
 * of them dominated sealing a program that reads many small files (bench/). */
#define AT_BLOB_MIN     4096
#define AT_BLOB_REF_LEN 36

/* Puts a blob's content back in place of the reference a sealed event holds (AT_EVF_BLOB).
 * *id gets the blob's id; *content is the caller's to free (NULL on failure, when the
 * event is left as it was). 0, or at_blob_get's error, or AT_ECORRUPT for a malformed
 * reference or content of another length. */
struct at_blob_id;
int at_blob_ref_resolve(const char *home, at_event *ev, void **content, struct at_blob_id *id);

/* Seals every raw log in `run_dir` into `trace_path`: the root process (pid `root_pid`)
 * first, then the others in the order they started. Large read payloads go to the blob
 * store of the agenttrace home `home` (NULL: none, everything stays in the trace). Adds
 * the counts ("events", "families", "calls", "payload_bytes", "processes", "complete",
 * "incomplete_reason", "blobs", "blob_bytes") and the process tree ("tree", made from the
 * logs' headers and process events; the root's exit from meta "exit", its arguments from
 * meta "argv" when it has no image event, masked by meta "mask") to `meta` and stores it
 * in the trace. The file is written under a temporary name and renamed, so `trace_path`
 * is either absent or whole. On failure fills `problem` when given. */
int at_seal(const char *run_dir, int root_pid, const char *home, json_t *meta,
            const char *trace_path, struct at_seal_stats *stats, struct at_trace_problem *problem);

/* at_seal in steps: begin creates the temporary file; pump (any number of times, from one
 * thread at a time, while the program runs) seals the records the root process (pid
 * `root_pid`) has committed so far, then, whole, the logs of the processes that have
 * ended (no writer holds them: rawlog.h, exec_ns); finish seals everything left, once
 * every process has ended, as at_seal would (the streams of processes that ended early
 * come before the others), and frees the sealer. A pump that fails (a full disk) is not
 * fatal: finish starts over from the raw logs, which pumping never changes. */
typedef struct at_sealer at_sealer;
int at_sealer_begin(const char *home, const char *trace_path, at_sealer **out);
/* A keyframe every `every` events of each stream (0: none; default AT_KEYFRAME_EVERY,
 * world.h). at_seal takes it from meta "keyframe_every". */
void at_sealer_keyframes(at_sealer *s, unsigned every);
int at_sealer_pump(at_sealer *s, const char *run_dir, int root_pid);
int at_sealer_finish(at_sealer *s, const char *run_dir, int root_pid, json_t *meta,
                     struct at_seal_stats *stats, struct at_trace_problem *problem);
void at_sealer_abort(at_sealer *s); /* frees, removes the temporary file; accepts NULL */

#endif
