/* Loading trace summaries for list and show. */
#include "summary.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void summary_load(at_store *s, const char *id, struct trace_summary *out)
{
	char path[4096];
	struct at_trace_problem pb = {0};
	at_trace *t;
	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", id);
	at_store_path(s, id, AT_TRACE_FILE, path, sizeof path);
	if (at_trace_open(path, &t, &pb) == 0) {
		out->meta = json_loads(at_trace_meta(t, NULL), 0, NULL);
		out->sealed_bytes = at_trace_file_size(t);
		out->state = json_is_object(out->meta) ? STATE_SEALED : STATE_DAMAGED;
		if (out->state == STATE_DAMAGED)
			snprintf(out->problem, sizeof out->problem,
			         "its metadata is not valid JSON");
		at_trace_close(t);
		return;
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		out->state = STATE_DAMAGED;
		snprintf(out->problem, sizeof out->problem, "%s", pb.what);
		return;
	}
	at_store_path(s, id, AT_PENDING_FILE, path, sizeof path);
	json_t *pending = json_load_file(path, 0, NULL);
	if (!pending) {
		out->state = STATE_DAMAGED;
		snprintf(out->problem, sizeof out->problem, "no trace file");
		return;
	}
	out->meta = json_incref(json_object_get(pending, "meta"));
	pid_t owner = (pid_t)json_integer_value(json_object_get(pending, "agenttrace_pid"));
	out->state =
	    owner > 0 && (kill(owner, 0) == 0 || errno == EPERM) ? STATE_RECORDING : STATE_UNSEALED;
	json_decref(pending);
}

void summary_free(struct trace_summary *t)
{
	json_decref(t->meta);
	t->meta = NULL;
}

const char *summary_state_name(enum trace_state st)
{
	switch (st) {
	case STATE_SEALED: return "sealed";
	case STATE_RECORDING: return "recording";
	case STATE_UNSEALED: return "unsealed";
	default: return "damaged";
	}
}
