/* A trace's one-line facts, read from its sealed file or, for a recording that was never
 * sealed, from its pending file. Shared by list and show. */
#ifndef AGENTTRACE_CLI_SUMMARY_H
#define AGENTTRACE_CLI_SUMMARY_H

#include <jansson.h>
#include <stdint.h>

#include "cli.h"

enum trace_state { STATE_SEALED, STATE_RECORDING, STATE_UNSEALED, STATE_DAMAGED };

struct trace_summary {
	char id[AT_REF_MAX];
	enum trace_state state;
	json_t *meta; /* owned; NULL when damaged */
	uint64_t sealed_bytes;
	char problem[200];
};

/* Reads what can be read about trace `id`; never fails (a damaged trace says so). */
void summary_load(at_store *s, const char *id, struct trace_summary *out);
void summary_free(struct trace_summary *t);
const char *summary_state_name(enum trace_state st);

#endif
