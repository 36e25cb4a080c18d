/* Sealing: turning the raw logs a recording left in its run directory into one sealed
 * trace file. Runs in `agenttrace` after the program has ended, however it ended. */
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
	uint64_t sealed_bytes;
	unsigned streams;
	unsigned incomplete; /* streams whose recording stopped early */
	uint64_t torn;
	int root_found; /* 0: the program never loaded the recorder */
};

/* Seals every raw log in `run_dir` into `trace_path`: the root process (pid `root_pid`)
 * first, then the others in the order they started. Adds the counts ("events", "families",
 * "calls", "payload_bytes", "processes", "complete", "incomplete_reason") to `meta` and
 * stores it in the trace. The file is written under a temporary name and renamed, so
 * `trace_path` is either absent or whole. On failure fills `problem` when given. */
int at_seal(const char *run_dir, int root_pid, json_t *meta, const char *trace_path,
            struct at_seal_stats *stats, struct at_trace_problem *problem);

#endif
