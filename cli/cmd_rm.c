/* agenttrace rm <id>...: delete traces. */
#include <stdio.h>
#include <string.h>

#include "agenttrace/errors.h"
#include "summary.h"

static const char usage[] =
    "usage: agenttrace rm [--force] <id>...\n"
    "\n"
    "Removes traces from the store. A trace that is still being recorded is kept unless\n"
    "--force is given.\n";

int cmd_rm(int argc, char **argv)
{
	int force = 0, nrefs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (argv[i][0] == '-') {
			cli_error("rm: unknown option '%s'\n%s", argv[i], usage);
			return AT_EXIT_USAGE;
		} else
			nrefs++;
	}
	if (!nrefs) {
		cli_error("rm: no trace given\n%s", usage);
		return AT_EXIT_USAGE;
	}
	at_store *s;
	int rc = cli_open_store(&s), worst = 0;
	for (int i = 1; !rc && i < argc; i++) {
		char id[AT_REF_MAX];
		if (argv[i][0] == '-')
			continue;
		int r = cli_resolve(s, argv[i], id, sizeof id);
		if (!r) {
			struct trace_summary sum;
			summary_load(s, id, &sum);
			if (sum.state == STATE_RECORDING && !force) {
				cli_error(
				    "trace %s is still being recorded; stop the program first, or "
				    "use --force",
				    id);
				r = AT_EXIT_USAGE;
			} else if (sum.state != STATE_SEALED && sum.meta) {
				/* an unsealed recording keeps its raw logs in run/: remove those
				 * too */
				char pending[4096];
				at_store_path(s, id, AT_PENDING_FILE, pending, sizeof pending);
				json_t *p = json_load_file(pending, 0, NULL);
				const char *run = json_string_value(json_object_get(p, "run_dir"));
				if (run)
					at_store_remove_run(s, run);
				json_decref(p);
			}
			summary_free(&sum);
		}
		if (!r && (r = at_store_remove(s, id))) {
			cli_error("cannot remove trace %s: %s", id, at_strerror(r));
			r = cli_exit_for(r);
		}
		if (!r)
			fprintf(stderr, "agenttrace: removed %s\n", id);
		if (r && !worst)
			worst = r;
	}
	at_store_close(s);
	return rc ? rc : worst;
}
