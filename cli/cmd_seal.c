/* agenttrace seal <id>: seal a recording whose agenttrace did not get to (killed, or the
 * disk was full). The raw logs are still in the run directory; nothing else is needed. */
#include <stdio.h>
#include <string.h>

#include "finish.h"
#include "summary.h"

static const char usage[] =
    "usage: agenttrace seal <id>\n"
    "\n"
    "Seals a recording that was not sealed when its program ended: agenttrace itself was\n"
    "killed, or the disk was full. 'agenttrace list' shows such traces as 'unsealed'.\n";

int cmd_seal(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		cli_error("seal: %s\n%s", argc < 2 ? "no trace given" : "unexpected arguments",
		          usage);
		return AT_EXIT_USAGE;
	}
	at_store *s;
	char id[AT_REF_MAX], pending[4096];
	int rc = cli_open_store(&s);
	if (!rc)
		rc = cli_resolve(s, argv[1], id, sizeof id);
	if (rc) {
		at_store_close(s);
		return rc;
	}
	struct trace_summary sum;
	summary_load(s, id, &sum);
	if (sum.state == STATE_SEALED) {
		fprintf(stderr, "agenttrace: trace %s is already sealed\n", id);
	} else if (sum.state == STATE_RECORDING) {
		cli_error("trace %s is still being recorded; it is sealed when its program ends",
		          id);
		rc = AT_EXIT_USAGE;
	} else {
		at_store_path(s, id, AT_PENDING_FILE, pending, sizeof pending);
		json_t *p = json_load_file(pending, 0, NULL);
		json_t *meta = json_object_get(p, "meta");
		const char *run = json_string_value(json_object_get(p, "run_dir"));
		if (!json_is_object(meta) || !run) {
			cli_error("trace %s cannot be sealed: %s is missing or damaged", id,
			          pending);
			rc = AT_EXIT_DAMAGED;
		} else {
			if (!json_object_get(meta,
			                     "end_ns")) /* agenttrace died before the program */
				json_object_set_new(meta, "end_ns",
				                    json_integer((json_int_t)cli_now_ns()));
			rc = finish_recording(s, id, run, meta, NULL);
		}
		json_decref(p);
	}
	summary_free(&sum);
	at_store_close(s);
	return rc;
}
