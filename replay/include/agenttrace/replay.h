/* The replay side that runs in `agenttrace`, around the replayed process: it prepares the
 * run directory the preload replays from, and reads back what happened there. The part
 * that runs inside the program is replay/runtime.c. */
#ifndef AGENTTRACE_REPLAY_H
#define AGENTTRACE_REPLAY_H

#include <stdint.h>

#include "agenttrace/container.h"
#include "agenttrace/proc.h"

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

/* --- replay --step, --then, --mark-stdio (docs/cli.md, "replay") --- */

/* What the process of a step does when it is about to take it. A new mode takes the next
 * number and a name in at_replay_then_name; a runtime that does not know a mode replays
 * on as if no step was asked for. */
enum at_replay_then {
	AT_THEN_NONE = 0, /* no step asked for */
	AT_THEN_STOP,     /* the process writes a report and stops itself (SIGSTOP) */
	AT_THEN_EXIT,     /* the process ends with status 0 there, and the program with it */
	AT_THEN_LIVE,     /* the process makes real calls from the step on (replay/live.c) */
	AT_THEN_COUNT
};

/* "stop", "exit", "live"; "" for AT_THEN_NONE or a number no mode has. Static strings. Inline:
 * the runtime inside the preload reads the names too. */
static inline const char *at_replay_then_name(int then)
{
	static const char *const names[AT_THEN_COUNT] = {"", "stop", "exit", "live"};
	return then > AT_THEN_NONE && then < AT_THEN_COUNT ? names[then] : "";
}

/* --then live: what the process must make real at the step, planned by `agenttrace
 * replay` from the trace's world at the step (cli/live_plan.h has the format; the preload
 * side is replay/live.c). In the run directory. */
#define AT_REPLAY_LIVE_PLAN "live-plan"

/* What `agenttrace replay` asks of a run besides replaying it. */
struct at_replay_options {
	char step_key[AT_PROC_KEY_MAX]; /* the process of the step ("1": the root) */
	uint64_t step;                  /* its step: the event's seq in that process */
	int then;                       /* enum at_replay_then; AT_THEN_NONE: no step */
	int mark_stdio;                 /* prefix each line the program shows with "[KEY:STEP] " */
};

/* Writes `o` where every replayed process reads it as it starts (the run directory's
 * options file). Nothing is written when `o` asks for nothing. 0 or AT_ENOSPC / AT_EIO. */
int at_replay_write_options(const char *run_dir, const struct at_replay_options *o);

/* The report of the process that reached the step asked for. */
struct at_step_report {
	int then; /* enum at_replay_then */
	int pid;  /* the process's real pid, in this replay */
	char key[AT_PROC_KEY_MAX];
	unsigned thread;
	uint64_t step;
	char call[300]; /* the recorded call of the step: "write(fd=1, count=6)" */
	int continued;  /* stop: the process was continued (SIGCONT) and replayed on */
};

/* 1 and the report when a process reached the step asked for, 0 when none did (yet),
 * < 0 on error. Safe to call while the program runs: the report appears whole. */
int at_replay_step_report(const char *run_dir, struct at_step_report *r);

#endif
