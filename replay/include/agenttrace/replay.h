/* The replay side that runs in `agenttrace`, around the replayed process: it prepares the
 * run directory the preload replays from, and reads back what happened there. The part
 * that runs inside the program is replay/runtime.c. */
#ifndef AGENTTRACE_REPLAY_H
#define AGENTTRACE_REPLAY_H

#include <stdint.h>

#include "agenttrace/container.h"

/* Decodes stream `stream` of `t` into the run directory's replay stream, taking the
 * content of large reads from the blob store of the agenttrace home `home`. `end_signal` is
 * the signal that ended the recorded process (0 if it exited): replay delivers it again
 * once the process has used every event. Fills `problem` on damage (a missing or damaged
 * blob is AT_ECORRUPT too). */
int at_replay_prepare(at_trace *t, unsigned stream, int end_signal, const char *run_dir,
                      const char *home, struct at_trace_problem *problem);

/* Names the process to replay (the others run live). Call in the child, before exec. */
int at_replay_write_ctl(const char *run_dir, int root_pid);

struct at_divergence {
	char
	    kind[16]; /* "mismatch", "end" (a call after the last event), "thread",
	               * "unsupported" (a call the recording cannot serve, e.g. a shared mapping) */
	int pid;
	unsigned thread;
	uint64_t step;
	char expected[200];
	char got[200];
	char detail[1200]; /* what differed within a matching call: a path, written bytes */
};

/* 1 and the report if the replayed process diverged, 0 if not, < 0 on error. */
int at_replay_divergence(const char *run_dir, struct at_divergence *d);

/* After the process ended: events it never used (the first one's step in *first_step), and
 * whether the recorded end signal was delivered. */
struct at_replay_outcome {
	uint64_t unused_events;
	uint64_t first_unused_step;
	unsigned first_unused_thread;
	int end_delivered;
	unsigned live_processes; /* processes that were not replayed and ran for real */
};
int at_replay_outcome(const char *run_dir, struct at_replay_outcome *o);

#endif
