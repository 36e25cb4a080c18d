/* agenttrace show <id> --step N (show_step.c). */
#ifndef AGENTTRACE_CLI_SHOW_STEP_H
#define AGENTTRACE_CLI_SHOW_STEP_H

#include <jansson.h>
#include <stdint.h>

#include "agenttrace/container.h"
#include "show.h"

/* Prints the world of process `key` (NULL: the root) just before step `step`, and the
 * events around it: from the keyframe before the step, or with `keyframes` 0 from step 0.
 * Returns an exit status, after saying what went wrong. */
int show_step(at_trace *t, const char *id, const char *home, json_t *tree, const char *key,
              uint64_t step, int keyframes, int json);

#endif
