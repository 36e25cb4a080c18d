/* Names of the files in a replay's run directory, shared by the preparer (cli side) and
 * the runtime (inside the preload). */
#ifndef AGENTTRACE_REPLAY_INTERNAL_H
#define AGENTTRACE_REPLAY_INTERNAL_H

#define AT_REPLAY_CTL        "ctl"        /* root_pid=<pid>, replayer=<pid of agenttrace replay> */
#define AT_REPLAY_DIVERGENCE "divergence" /* written by the runtime when replay diverges */
#define AT_REPLAY_EMPTY_DIR  "empty"      /* stands in for the directories the program opens */
#define AT_RUN_EXCLUDE       "exclude"    /* record --exclude patterns, one per line */
/* replay --step/--then/--mark-stdio: step_key=<key>, step=<n>, step_then=<mode name>,
 * mark_stdio=1 lines, written by agenttrace replay before the program starts */
#define AT_REPLAY_OPTIONS "options"
/* written whole (renamed into place) by the process that reached the step: then=, pid=,
 * key=, thread=, step=, call= lines */
#define AT_REPLAY_STEP      "step-reached"
#define AT_REPLAY_CONTINUED "step-continued" /* then stop: the process was continued */

#include <stdio.h>

/* The replay stream of the process with key `key`: stream-<key>.raw. */
static inline void at_replay_stream_path(const char *run_dir, const char *key, char *out,
                                         size_t cap)
{
	snprintf(out, cap, "%s/stream-%s.raw", run_dir, key);
}

#endif
