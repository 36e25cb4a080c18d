/* replay --step, --then and --mark-stdio inside the preload (replay/runtime.c): what
 * `agenttrace replay` asked, read from the run directory as each replayed image starts. */
#ifndef AGENTTRACE_STEP_H
#define AGENTTRACE_STEP_H

#include <stdint.h>

#include "agenttrace/rawlog.h"

/* Whether each line the program shows on its standard output and error is to be prefixed
 * with the step of the write that printed it ("[KEY:STEP] "). */
int at_replay_mark_stdio(void);
/* The step (seq) of a record taken from this process's replay stream. */
uint64_t at_replay_step_of(const struct at_rawrec *ev);

#endif
