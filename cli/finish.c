/* Sealing and the summary line, for record and seal. */
#include "finish.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agenttrace/errors.h"
#include "agenttrace/seal.h"

int write_pending(at_store *s, const char *id, const char *run_dir, json_t *meta)
{
	char path[4096], tmp[4200];
	at_store_path(s, id, AT_PENDING_FILE, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	json_t *p = json_pack("{s:s, s:i, s:O}", "run_dir", run_dir, "agenttrace_pid",
	                      (json_int_t)getpid(), "meta", meta);
	/* Mode 0600, like the trace it becomes (json_dump_file would leave it to the umask).
	 * Written in one piece: json_dumpfd makes a system call per token, and this runs
	 * before the program starts. */
	char *text = p ? json_dumps(p, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	int rc = fd >= 0 ? 0 : -1;
	for (size_t done = 0, len = text ? strlen(text) : 0; !rc && done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno != EINTR)
			rc = -1;
		else if (n > 0)
			done += (size_t)n;
	}
	free(text);
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (!rc && rename(tmp, path) < 0)
		rc = -1;
	json_decref(p);
	if (rc)
		unlink(tmp);
	return rc;
}

int finish_recording(at_store *s, const char *id, const char *run_dir, json_t *meta,
                     at_sealer *sealer)
{
	char path[4096], pending[4096];
	struct at_seal_stats st;
	struct at_trace_problem pb = {0};
	at_store_path(s, id, AT_TRACE_FILE, path, sizeof path);
	at_store_path(s, id, AT_PENDING_FILE, pending, sizeof pending);
	int root_pid = (int)json_integer_value(json_object_get(meta, "root_pid"));

	int rc = sealer ? at_sealer_finish(sealer, run_dir, root_pid, meta, &st, &pb)
	                : at_seal(run_dir, root_pid, at_store_home(s), meta, path, &st, &pb);
	if (rc) {
		write_pending(s, id, run_dir, meta); /* now with the exit status */
		if (rc == AT_ENOSPC)
			cli_error(
			    "trace %s: the disk is full, so the recording could not be sealed "
			    "(%s). Nothing is lost: the raw recording is kept in %s; free some "
			    "space and run 'agenttrace seal %s'",
			    id, pb.what, run_dir, id);
		else
			cli_error(
			    "trace %s: the recording could not be sealed: %s. The raw recording "
			    "is kept in %s; run 'agenttrace seal %s' to try again",
			    id, pb.what, run_dir, id);
		return cli_exit_for(rc);
	}
	unlink(pending);
	at_store_remove_run(s, run_dir);

	char status[64], size[32], cmd[256];
	uint64_t start = (uint64_t)json_integer_value(json_object_get(meta, "start_ns"));
	uint64_t end = (uint64_t)json_integer_value(json_object_get(meta, "end_ns"));
	fprintf(stderr,
	        "agenttrace: recorded %s (%s): %s, %" PRIu64 " events (time %" PRIu64
	        ", random %" PRIu64 ", file %" PRIu64 ", socket %" PRIu64 "), %s, %.2f s\n",
	        id, cli_command_line(meta, cmd, sizeof cmd),
	        cli_describe_status(meta, status, sizeof status), st.events,
	        st.family[AT_FAMILY_TIME], st.family[AT_FAMILY_RANDOM], st.family[AT_FAMILY_FILE],
	        st.family[AT_FAMILY_SOCKET], cli_bytes(st.sealed_bytes, size, sizeof size),
	        end > start ? (double)(end - start) / 1e9 : 0.0);
	size_t i;
	json_t *pat;
	json_array_foreach(json_object_get(meta, "exclude"), i,
	                   pat) if (!(st.exclude_hits >> i & 1))
	    cli_error("warning: --exclude '%s' matched no file the program opened",
	              json_string_value(pat));
	json_t *reason = json_object_get(meta, "incomplete_reason");
	if (json_is_string(reason))
		cli_error("warning: trace %s is incomplete: %s; replay stops where the recording "
		          "stopped",
		          id, json_string_value(reason));
	return 0;
}
