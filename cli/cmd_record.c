/* agenttrace record [--name NAME] [--] PROGRAM [ARGS...] */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agenttrace/errors.h"
#include "agenttrace/seal.h"
#include "cli.h"
#include "finish.h"

extern char **environ;

static const char usage[] =
    "usage: agenttrace record [--name NAME] [--exclude GLOB]... [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with the recorder preloaded and stores everything it learns from the\n"
    "clock, the random number sources and the files it reads as a trace. Prints the trace\n"
    "id and a summary on stderr, then exits with the program's own status (128+N if signal\n"
    "N killed it).\n"
    "\n"
    "  --name NAME     a name to find the trace by, besides its id\n"
    "  --exclude GLOB  do not record files whose absolute path matches GLOB ('*' matches\n"
    "                  anything, '/' included; '?' one character): replay reads them live.\n"
    "                  For smaller traces, e.g. --exclude '/usr/lib/python3*'. Repeatable\n"
    "                  (up to 64); a pattern that matched nothing is reported.\n"
    "\n"
    "Traces are kept in $AGENTTRACE_HOME (default ~/.local/share/agenttrace).\n";

#define MAX_EXCLUDE 64 /* one bit each in the log header */

int cmd_record(int argc, char **argv)
{
	const char *name = NULL, *patterns[MAX_EXCLUDE];
	size_t npatterns = 0;
	int i = 1;
	if (cli_wants_help(argc, argv) && (argc < 2 || argv[1][0] == '-')) {
		fputs(usage, stdout);
		return 0;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			name = argv[++i];
		} else if (!strncmp(argv[i], "--name=", 7)) {
			name = argv[i] + 7;
		} else if ((!strcmp(argv[i], "--exclude") && i + 1 < argc) ||
		           !strncmp(argv[i], "--exclude=", 10)) {
			const char *g = argv[i][9] == '=' ? argv[i] + 10 : argv[++i];
			if (!g[0] || strchr(g, '\n') || npatterns >= MAX_EXCLUDE) {
				cli_error(
				    "record: --exclude takes a non-empty pattern on one line, "
				    "at most %d of them",
				    MAX_EXCLUDE);
				return AT_EXIT_USAGE;
			}
			patterns[npatterns++] = g;
		} else {
			cli_error("record: unknown option '%s'\n%s", argv[i], usage);
			return AT_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_error("record: no program given\n%s", usage);
		return AT_EXIT_USAGE;
	}
	if (name && !at_store_valid_ref(name)) {
		cli_error("record: the name '%s' must be printable, without spaces or '/'", name);
		return AT_EXIT_USAGE;
	}

	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd)) {
		cli_error("record: cannot read the working directory: %s", strerror(errno));
		return AT_EXIT_INTERNAL;
	}
	struct cli_program prog;
	int rc = spawn_find_program(argv[i], getenv("PATH"), cwd, &prog);
	if (!rc)
		rc = spawn_check_linkage(prog.path);
	if (rc)
		return rc;

	at_store *s;
	if ((rc = cli_open_store(&s)))
		return rc;
	char id[AT_ID_LEN + 1], run_dir[4096];
	int arc = at_store_create_trace(s, id);
	if (!arc)
		arc = at_store_create_run(s, run_dir, sizeof run_dir);
	if (arc) {
		cli_error("cannot create a trace in %s: %s", at_store_home(s),
		          arc == AT_ENOSPC ? "the disk is full" : strerror(errno));
		at_store_close(s);
		return cli_exit_for(arc);
	}

	struct stat st = {0};
	stat(prog.path, &st);
	json_t *meta = json_object();
	json_object_set_new(meta, "format", json_integer(1));
	json_object_set_new(meta, "id", json_string(id));
	json_object_set_new(meta, "name", name ? json_string(name) : json_null());
	json_object_set_new(meta, "argv", cli_json_strings(argv + i));
	json_object_set_new(meta, "env", cli_json_strings(environ));
	json_object_set_new(meta, "cwd", json_string(cwd));
	json_object_set_new(meta, "exe", json_string(prog.path));
	json_object_set_new(meta, "exe_size", json_integer((json_int_t)st.st_size));
	json_object_set_new(
	    meta, "exe_mtime_ns",
	    json_integer((json_int_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec));
	json_object_set_new(meta, "aslr_disabled", json_boolean(spawn_aslr_disabled()));
	json_object_set_new(meta, "agenttrace_version", json_string(AT_VERSION));
	json_object_set_new(meta, "start_ns", json_integer((json_int_t)cli_now_ns()));
	json_t *exclude = json_array();
	for (size_t k = 0; k < npatterns; k++)
		json_array_append_new(exclude, json_string(patterns[k]));
	json_object_set_new(meta, "exclude", exclude);
	if (cli_write_excludes(run_dir, exclude) || write_pending(s, id, run_dir, meta) < 0) {
		cli_error("cannot write to the trace store %s: %s", at_store_home(s),
		          strerror(errno));
		at_store_remove(s, id);
		at_store_remove_run(s, run_dir);
		json_decref(meta);
		at_store_close(s);
		return errno == ENOSPC ? AT_EXIT_NOSPACE : AT_EXIT_IO;
	}

	int status;
	pid_t pid;
	uint64_t end_ns = 0;
	/* "0" turns off the threads that help while the program runs, for benchmarks. */
	const char *helpers = getenv("AGENTTRACE_HELPERS");
	int help = !(helpers && !strcmp(helpers, "0"));
	char trace_path[4096];
	at_sealer *sealer = NULL;
	at_store_path(s, id, AT_TRACE_FILE, trace_path, sizeof trace_path);
	if (help && at_sealer_begin(at_store_home(s), trace_path, &sealer))
		sealer = NULL; /* sealed at the end instead, which will say what is wrong */
	struct cli_spawn sp = {.path = prog.path,
	                       .argv = argv + i,
	                       .envp = environ,
	                       .run_dir = run_dir,
	                       .mode = "record",
	                       .prefault = help,
	                       .sealer = sealer,
	                       .end_ns = &end_ns};
	rc = spawn_run(&sp, &status, &pid);
	if (rc) { /* it never ran: there is nothing to keep */
		at_sealer_abort(sealer);
		at_store_remove(s, id);
		at_store_remove_run(s, run_dir);
		json_decref(meta);
		at_store_close(s);
		return rc;
	}
	json_object_set_new(meta, "end_ns", json_integer((json_int_t)end_ns));
	json_object_set_new(meta, "root_pid", json_integer(pid));
	if (WIFSIGNALED(status))
		json_object_set_new(meta, "exit",
		                    json_pack("{s:i, s:b}", "signal", WTERMSIG(status),
		                              "core_dumped", WCOREDUMP(status) ? 1 : 0));
	else
		json_object_set_new(meta, "exit", json_pack("{s:i}", "code", WEXITSTATUS(status)));

	rc = finish_recording(s, id, run_dir, meta, sealer);
	int program_status = cli_status_of(meta);
	json_decref(meta);
	at_store_close(s);
	return rc ? rc : program_status;
}
