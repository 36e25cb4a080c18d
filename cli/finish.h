/* Sealing a finished recording and reporting it: shared by `record` (right after the
 * program ends) and `seal` (for a recording whose agenttrace was itself interrupted). */
#ifndef AGENTTRACE_CLI_FINISH_H
#define AGENTTRACE_CLI_FINISH_H

#include <jansson.h>

#include "agenttrace/seal.h"
#include "cli.h"

/* Seals the run directory into trace `id`, with `meta` (which gains the counts), finishing
 * `sealer` when the recording was sealed along as it ran (NULL: seal it all now). Prints
 * the one-line summary, or what failed and how to retry. Returns an exit status: 0 when
 * sealed. On failure the raw recording and the pending file are kept for `seal`. */
int finish_recording(at_store *s, const char *id, const char *run_dir, json_t *meta,
                     at_sealer *sealer);

/* Writes the pending file (recording.json) of trace `id`: the run directory and metadata
 * so far, so an interrupted recording can be sealed later. */
int write_pending(at_store *s, const char *id, const char *run_dir, json_t *meta);

#endif
