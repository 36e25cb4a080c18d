/* `replay --step N --then live`: what the process must make real when it reaches step N,
 * computed from the trace (core/world.c) and written to the run directory, where the
 * preload reads it (replay/live.c). One line per descriptor the replayed past left open,
 * besides the standard ones, which are real already:
 *
 *     FD KIND FLAGS OFFSET PATH
 *
 * KIND: "file" (reopen PATH with FLAGS, at OFFSET), "dir", "copy" (a file the program
 * wrote: PATH is a private copy in the run directory holding what it wrote), "socket"
 * (its peer is gone: made a socket whose other end is closed), "random" (/dev/urandom). */
#ifndef AGENTTRACE_CLI_LIVE_PLAN_H
#define AGENTTRACE_CLI_LIVE_PLAN_H

#include <stdint.h>

#include "agenttrace/container.h"
#include "agenttrace/replay.h"

/* Writes the plan for `stream` at `step` (and the copies it names) into `run_dir`; damaged
 * keyframes are reported through `damaged` (at_world_seek). Returns 0 or an AT_E* code. */
int live_plan_write(at_trace *t, unsigned stream, uint64_t step, const char *run_dir,
                    void (*damaged)(void *ctx, uint64_t at, int rc), void *ctx);

#endif
