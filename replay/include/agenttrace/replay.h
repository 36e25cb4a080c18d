/* The replay side that runs in `agenttrace`, around the replayed process: it prepares the
 * run directory the preload replays from, and reads back what happened there. The part
 * that runs inside the program is replay/runtime.c. */
#ifndef AGENTTRACE_REPLAY_H
#define AGENTTRACE_REPLAY_H

#include <stdint.h>

#include "agenttrace/container.h"

/* Decodes stream `stream` of `t` into the run directory's replay stream for the process of
 * key `key` (stream-<key>.raw), taking the content of large reads from the blob store of
 * the agenttrace home `home`. `end_signal` is the signal that ended the recorded process
 * (0 if it exited): replay delivers it again once the process has used every event. Fills
 * `problem` on damage (a missing or damaged blob is AT_ECORRUPT too). */
int at_replay_prepare(at_trace *t, unsigned stream, const char *key, int end_signal,
                      const char *run_dir, const char *home, struct at_trace_problem *problem);

/* Names the process agenttrace started (key "1") and the agenttrace process that watches
 * the run (told of a divergence). Call in the child, before exec. */
int at_replay_write_ctl(const char *run_dir, int root_pid, int replayer_pid);

struct at_divergence {
	char
	    kind[16]; /* "mismatch", "end" (a call after the last event), "thread",
	               * "unsupported" (a call the recording cannot serve, e.g. a shared mapping) */
	int pid;
	char key[128]; /* the process's key (proc.h) */
	unsigned thread;
	uint64_t step;
	char expected[200];
	char got[200];
	char detail[1200]; /* what differed within a matching call: a path, written bytes */
};

/* 1 and the report if the replayed process diverged, 0 if not, < 0 on error. */
int at_replay_divergence(const char *run_dir, struct at_divergence *d);

/* After the program ended, over every replayed process: events never used (the first
 * one's process, step and thread), whether the recorded end signal was delivered, and how
 * the replay had to bend (order.c, runtime.c). */
struct at_replay_outcome {
	uint64_t unused_events;
	uint64_t first_unused_step;
	unsigned first_unused_thread;
	char first_unused_key[128];
	int end_delivered;
	unsigned live_processes;     /* processes that were not replayed and ran for real */
	unsigned replayed_processes; /* streams a process replayed from */
	uint64_t relaxed;            /* times a thread went ahead of the recorded order */
	uint64_t elastic;            /* clock reads served or passed over out of place */
	uint64_t signals;            /* recorded signals delivered again */
};
int at_replay_outcome(const char *run_dir, struct at_replay_outcome *o);

#endif
