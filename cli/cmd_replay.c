/* agenttrace replay <id>: run the recorded program again, fed from its trace. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agenttrace/errors.h"
#include "agenttrace/proc.h"
#include "agenttrace/replay.h"
#include "cli.h"

static const char usage[] =
    "usage: agenttrace replay <id>\n"
    "\n"
    "Runs the recorded program again with its recorded arguments, environment and working\n"
    "directory. Every intercepted call returns what it returned when recorded; a call that\n"
    "does not match the recording is a divergence: the program is stopped and the step,\n"
    "thread and the two calls are reported. Sleeps return at once.\n"
    "\n"
    "Exits with the recorded program's status, or 201 when the replay diverged (202 if the\n"
    "recorded program itself exited with 201). <id> may be any unique prefix, or a name.\n";

static int diverged_status(json_t *meta)
{
	return cli_status_of(meta) == AT_EXIT_DIVERGED ? AT_EXIT_DIVERGED + 1 : AT_EXIT_DIVERGED;
}

/* The signal that ended a process, from its "exit" object, or 0. */
static int end_signal(json_t *exit)
{
	json_t *sig = json_object_get(exit, "signal");
	return json_is_integer(sig) ? (int)json_integer_value(sig) : 0;
}

/* Writes a replay stream for every recorded process under its key (meta "tree"); a trace
 * without a tree replays its root process only. */
static int prepare_streams(at_trace *t, json_t *meta, int root, const char *run_dir,
                           const char *home, struct at_trace_problem *pb)
{
	json_t *tree = json_object_get(meta, "tree"), *p;
	size_t i;
	if (!json_array_size(tree))
		return at_replay_prepare(t, (unsigned)root, AT_PROC_ROOT_KEY,
		                         end_signal(json_object_get(meta, "exit")), run_dir, home,
		                         pb);
	json_array_foreach(tree, i, p)
	{
		const char *key = json_string_value(json_object_get(p, "key"));
		json_t *stream = json_object_get(p, "stream");
		if (!key || !json_is_integer(stream) || key[0] == '?' || strchr(key, '/'))
			continue; /* a process without a key runs live */
		int is_root = json_integer_value(stream) == root;
		json_t *exit = json_object_get(is_root ? meta : p, "exit");
		int rc = at_replay_prepare(t, (unsigned)json_integer_value(stream), key,
		                           end_signal(exit), run_dir, home, pb);
		if (rc)
			return rc;
	}
	return 0;
}

/* The recorded arguments of the process of key `key`, for reports: "bash -c ...". */
static void argv_of(json_t *meta, const char *key, char *out, size_t cap)
{
	json_t *p, *a;
	size_t i, j;
	out[0] = '\0';
	json_array_foreach(json_object_get(meta, "tree"), i, p)
	{
		const char *k = json_string_value(json_object_get(p, "key"));
		if (!k || strcmp(k, key))
			continue;
		size_t n = 0;
		json_array_foreach(json_object_get(p, "argv"), j, a)
		{
			int w = snprintf(out + n, cap - n, "%s%s", j ? " " : "",
			                 json_string_value(a) ? json_string_value(a) : "");
			if (w < 0 || (size_t)w >= cap - n)
				break;
			n += (size_t)w;
		}
		if (n > 60)
			memcpy(out + 57, "...", 4);
		return;
	}
}

static void report_divergence(const char *id, const struct at_divergence *d, json_t *meta)
{
	char who[300], args[80];
	argv_of(meta, d->key, args, sizeof args);
	if (d->key[0] && strcmp(d->key, AT_PROC_ROOT_KEY))
		snprintf(who, sizeof who, "thread %u of process %s (pid %d%s%s)", d->thread, d->key,
		         d->pid, args[0] ? ": " : "", args);
	else
		snprintf(who, sizeof who, "thread %u of process %d", d->thread, d->pid);
	const char *incomplete = json_string_value(json_object_get(meta, "incomplete_reason"));
	if (!strcmp(d->kind, "end") && incomplete)
		cli_error("replay of %s reached the end of an incomplete recording (%s): %s went "
		          "on with %s, which was never recorded",
		          id, incomplete, who, d->got);
	else if (!strcmp(d->kind, "end"))
		cli_error("replay of %s diverged: %s made a call after the last recorded event:\n"
		          "  recorded: (the program made no further calls)\n  replayed: %s",
		          id, who, d->got);
	else if (!strcmp(d->kind, "thread"))
		cli_error("replay of %s diverged: %s is not in the recording:\n  replayed: %s", id,
		          who, d->got);
	else if (!strcmp(d->kind, "unsupported"))
		cli_error("replay of %s stopped at step %" PRIu64 " (%s):\n  call: %s\n  %s", id,
		          d->step, who, d->expected, d->detail);
	else if (d->detail[0]) /* the same call, given something else */
		cli_error("replay of %s diverged at step %" PRIu64 " (%s):\n  call: %s\n  %s\n"
		          "The program no longer does what it did when recorded; see the "
		          "recording with 'agenttrace show %s --events'",
		          id, d->step, who, d->expected, d->detail, id);
	else
		cli_error("replay of %s diverged at step %" PRIu64 " (%s):\n  recorded: %s\n"
		          "  replayed: %s\n"
		          "The program no longer makes the calls it made when recorded; see the "
		          "recording with 'agenttrace show %s --events'",
		          id, d->step, who, d->expected, d->got, id);
}

/* The root stream: the process agenttrace started. */
static int root_stream(at_trace *t)
{
	for (unsigned i = 0; i < at_trace_stream_count(t); i++)
		if (at_trace_stream(t, i)->flags & AT_STREAM_ROOT)
			return (int)i;
	return -1;
}

static int check_world(const char *id, json_t *meta)
{
	const char *exe = json_string_value(json_object_get(meta, "exe"));
	const char *cwd = json_string_value(json_object_get(meta, "cwd"));
	struct stat st;
	if (!exe || stat(exe, &st) < 0) {
		cli_error(
		    "cannot replay %s: the recorded program %s no longer exists; reinstall it "
		    "at that path",
		    id, exe ? exe : "(unknown)");
		return AT_EXIT_REPLAY_ENV;
	}
	if (!cwd || stat(cwd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		cli_error("cannot replay %s: the recorded working directory %s no longer exists; "
		          "create it again to replay",
		          id, cwd ? cwd : "(unknown)");
		return AT_EXIT_REPLAY_ENV;
	}
	stat(exe, &st);
	json_int_t mtime = (json_int_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (json_integer_value(json_object_get(meta, "exe_size")) != (json_int_t)st.st_size ||
	    json_integer_value(json_object_get(meta, "exe_mtime_ns")) != mtime)
		cli_error("warning: %s has changed since %s was recorded; the replay may diverge",
		          exe, id);
	return 0;
}

static int replay(at_store *s, const char *id, at_trace *t, json_t *meta)
{
	int rc = check_world(id, meta);
	if (rc)
		return rc;
	int root = root_stream(t);
	if (root < 0) {
		cli_error("cannot replay %s: it holds no recording of its program (%s)", id,
		          json_string_value(json_object_get(meta, "incomplete_reason"))
		              ? json_string_value(json_object_get(meta, "incomplete_reason"))
		              : "no root process");
		return AT_EXIT_DAMAGED;
	}
	/* Check every chunk before running anything: a damaged trace is refused up front,
	 * not discovered halfway through the program. */
	char path[4096], run_dir[4096];
	struct at_trace_problem pb = {0};
	at_store_path(s, id, AT_TRACE_FILE, path, sizeof path);
	if ((rc = at_trace_verify(path, &pb))) {
		cli_error("trace %s is damaged: %s; run 'agenttrace verify %s' for details", id,
		          pb.what, id);
		return cli_exit_for(rc);
	}
	if ((rc = at_store_create_run(s, run_dir, sizeof run_dir))) {
		cli_error("cannot create a run directory in %s: %s", at_store_home(s),
		          at_strerror(rc));
		return cli_exit_for(rc);
	}
	rc = prepare_streams(t, meta, root, run_dir, at_store_home(s), &pb);
	if (!rc)
		rc = cli_write_excludes(run_dir, json_object_get(meta, "exclude"));
	if (rc) {
		if (rc == AT_ENOSPC || rc == AT_EIO)
			cli_error("cannot prepare the replay of %s in %s: %s", id, run_dir,
			          at_strerror(rc));
		else
			cli_error("trace %s is damaged: %s; run 'agenttrace verify %s'", id,
			          pb.what, id);
		at_store_remove_run(s, run_dir);
		return cli_exit_for(rc);
	}

	char **argv = cli_strings_from_json(json_object_get(meta, "argv"));
	char **envp = cli_strings_from_json(json_object_get(meta, "env"));
	int status = 0;
	struct cli_spawn sp = {.path = json_string_value(json_object_get(meta, "exe")),
	                       .argv = argv,
	                       .envp = envp,
	                       .cwd = json_string_value(json_object_get(meta, "cwd")),
	                       .run_dir = run_dir,
	                       .mode = "replay",
	                       .whole_tree = 1};
	rc = argv && envp && argv[0] ? spawn_run(&sp, &status, NULL) : AT_EXIT_DAMAGED;
	if (rc == AT_EXIT_DAMAGED)
		cli_error("trace %s is damaged: its recorded command line is missing", id);
	cli_free_strings(argv);
	cli_free_strings(envp);
	if (rc) {
		at_store_remove_run(s, run_dir);
		return rc;
	}

	/* Children still replaying once the root is gone get a moment, then are stopped. */
	struct at_divergence probe;
	int diverged = at_replay_divergence(run_dir, &probe) == 1;
	unsigned stopped = (unsigned)spawn_reap_tree(diverged ? 0 : 2000);
	struct at_divergence d;
	struct at_replay_outcome o;
	int have_outcome = at_replay_outcome(run_dir, &o) == 0;
	int got = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	int want = cli_status_of(meta);
	if (at_replay_divergence(run_dir, &d) == 1) {
		report_divergence(id, &d, meta);
		rc = diverged_status(meta);
	} else if (have_outcome && o.unused_events) {
		cli_error("replay of %s diverged: the program ended (status %d) with %" PRIu64
		          " recorded events unused, the first at step %" PRIu64
		          " (thread %u of process %s)",
		          id, got, o.unused_events, o.first_unused_step, o.first_unused_thread,
		          o.first_unused_key);
		rc = diverged_status(meta);
	} else if (got != want &&
	           json_object_get(meta, "exit")) { /* unknown when agenttrace died */
		cli_error(
		    "replay of %s diverged: the program ended with status %d, but with %d when "
		    "it was recorded",
		    id, got, want);
		rc = diverged_status(meta);
	} else {
		rc = got;
	}
	if (have_outcome && o.live_processes)
		cli_error("note: %u process%s ran live, not replayed (no recording of %s: made "
		          "in a way agenttrace does not follow, or by a process that was not "
		          "recorded)",
		          o.live_processes, o.live_processes == 1 ? "" : "es",
		          o.live_processes == 1 ? "it" : "them");
	if (stopped)
		cli_error("note: %u process%s still running when the program ended %s stopped",
		          stopped, stopped == 1 ? "" : "es", stopped == 1 ? "was" : "were");
	if (have_outcome && o.relaxed)
		cli_error("note: the recorded order of threads was relaxed %" PRIu64
		          " time%s (a thread waited over 10 ms for another that was blocked; see "
		          "docs/hooks.md)",
		          o.relaxed, o.relaxed == 1 ? "" : "s");
	at_store_remove_run(s, run_dir);
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		cli_error("replay: %s\n%s", argc < 2 ? "no trace given" : "unexpected arguments",
		          usage);
		return AT_EXIT_USAGE;
	}
	at_store *s;
	char id[AT_REF_MAX];
	at_trace *t = NULL;
	json_t *meta = NULL;
	int rc = cli_open_store(&s);
	if (!rc)
		rc = cli_resolve(s, argv[1], id, sizeof id);
	if (!rc)
		rc = cli_open_trace(s, id, &t, &meta);
	if (!rc)
		rc = replay(s, id, t, meta);
	json_decref(meta);
	at_trace_close(t);
	at_store_close(s);
	return rc;
}
