/* agenttrace replay <id> [--step [KEY:]N [--process KEY] --then stop|exit|live] [--mark-stdio]:
 * run the recorded program again, fed from its trace. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agenttrace/errors.h"
#include "agenttrace/proc.h"
#include "agenttrace/replay.h"
#include "cli.h"
#include "live_plan.h"

static const char usage[] =
    "usage: agenttrace replay <id> [--step [KEY:]N [--process KEY] --then stop|exit|live]\n"
    "                         [--mark-stdio]\n"
    "\n"
    "Runs the recorded program again with its recorded arguments, environment and working\n"
    "directory. Every intercepted call returns what it returned when recorded; a call that\n"
    "does not match the recording is a divergence: the program is stopped and the step,\n"
    "thread and the two calls are reported. Sleeps return at once.\n"
    "\n"
    "  --step N        act when the root process (key 1) is about to take its step N (the\n"
    "                  first column of 'agenttrace show <id> --events', from 0), once\n"
    "                  steps 0..N-1 are replayed; KEY:N, or --process KEY, for the\n"
    "                  process of that key (see 'agenttrace show <id>')\n"
    "  --then stop     the process stops there (SIGSTOP) and its pid is printed, to attach\n"
    "                  a debugger (gdb -p PID); 'kill -CONT PID' replays on, 'kill PID'\n"
    "                  ends it\n"
    "  --then exit     the program ends there, cleanly: status 0\n"
    "  --then live     the process makes real calls from the step on: files it had open\n"
    "                  are reopened at their offsets (one it wrote, as a private copy of\n"
    "                  what it wrote), sockets behave as closed by their peer\n"
    "  --mark-stdio    prefix each line the program prints on its standard output and\n"
    "                  error with the process and step of the write that printed it,\n"
    "                  \"[1:42] \", to find a step from the output\n"
    "\n"
    "Exits with the recorded program's status, 0 after --then exit, or 201 when the replay\n"
    "diverged (202 if the recorded program itself exited with 201); 64 for a bad command\n"
    "line, 76 for a step or process the trace does not have. <id> may be any unique\n"
    "prefix, or a name.\n";

/* What --step, --process, --then and --mark-stdio asked; the step is checked against the
 * trace before anything runs (check_step). */
struct replay_request {
	const char *ref;
	struct at_replay_options o; /* step_key "" until a key is given */
};

/* The modes of --then. A mode the runtime cannot do yet names why, and is refused as a bad
 * command line. */
static const struct {
	const char *name;
	int then; /* enum at_replay_then */
	const char *unavailable;
} then_modes[] = {
    {"stop", AT_THEN_STOP, NULL},
    {"exit", AT_THEN_EXIT, NULL},
    {"live", AT_THEN_LIVE, NULL},
};

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

/* --- --step, --then, --mark-stdio --- */

/* Takes --step's value ("N" or "KEY:N") into `rq`; says why not (exit 64, or 76 when it
 * names another process than --process). */
static int parse_step(struct replay_request *rq, const char *arg)
{
	char key[AT_PROC_KEY_MAX];
	int rc = cli_parse_step("replay", arg, key, sizeof key, &rq->o.step);
	if (rc || !key[0])
		return rc;
	if (rq->o.step_key[0] && strcmp(rq->o.step_key, key)) {
		/* --process came first: the two name other processes */
		cli_error("step %s is in process %s, not %s", arg, key, rq->o.step_key);
		return AT_EXIT_NOSTEP;
	}
	snprintf(rq->o.step_key, sizeof rq->o.step_key, "%s", key);
	return 0;
}

/* The value of option argv[*i] ("--opt VALUE" or "--opt=VALUE"), or NULL if it is not
 * `name`. Says when the value is missing (*rc = 64). */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *rc)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		cli_error("replay: %s needs a value\n%s", name, usage);
		*rc = AT_EXIT_USAGE;
		return NULL;
	}
	return argv[++*i];
}

static int parse_args(int argc, char **argv, struct replay_request *rq)
{
	const char *step = NULL, *process = NULL, *then = NULL, *v;
	int rc = 0;
	memset(rq, 0, sizeof *rq);
	for (int i = 1; i < argc; i++) {
		if ((v = option_value(argc, argv, &i, "--step", &rc)))
			step = v;
		else if ((v = option_value(argc, argv, &i, "--process", &rc)))
			process = v;
		else if ((v = option_value(argc, argv, &i, "--then", &rc)))
			then = v;
		else if (rc)
			return rc;
		else if (!strcmp(argv[i], "--mark-stdio"))
			rq->o.mark_stdio = 1;
		else if (argv[i][0] == '-' && argv[i][1]) {
			cli_error("replay: unknown option '%s'\n%s", argv[i], usage);
			return AT_EXIT_USAGE;
		} else if (rq->ref) {
			cli_error("replay: unexpected argument '%s'\n%s", argv[i], usage);
			return AT_EXIT_USAGE;
		} else {
			rq->ref = argv[i];
		}
	}
	if (!rq->ref) {
		cli_error("replay: no trace given\n%s", usage);
		return AT_EXIT_USAGE;
	}
	if ((process || then) && !step) {
		cli_error("replay: %s needs --step: the step to act at",
		          process ? "--process" : "--then");
		return AT_EXIT_USAGE;
	}
	if (!step)
		return 0;
	if (!then) {
		cli_error("replay: --step needs --then stop, exit or live: what to do there");
		return AT_EXIT_USAGE;
	}
	for (size_t m = 0; m < sizeof then_modes / sizeof then_modes[0]; m++) {
		if (strcmp(then, then_modes[m].name))
			continue;
		if (then_modes[m].unavailable) {
			cli_error("replay: %s", then_modes[m].unavailable);
			return AT_EXIT_USAGE;
		}
		rq->o.then = then_modes[m].then;
	}
	if (rq->o.then == AT_THEN_NONE) {
		cli_error("replay: --then takes stop, exit or live, not '%s'", then);
		return AT_EXIT_USAGE;
	}
	if (process) {
		if (!cli_key_well_formed(process)) {
			cli_error(
			    "replay: --process '%s' is not a process key (keys look like 1, 1.2, "
			    "1.2.1: see 'agenttrace show <id>')",
			    process);
			return AT_EXIT_USAGE;
		}
		snprintf(rq->o.step_key, sizeof rq->o.step_key, "%s", process);
	}
	if ((rc = parse_step(rq, step)))
		return rc;
	if (!rq->o.step_key[0])
		snprintf(rq->o.step_key, sizeof rq->o.step_key, AT_PROC_ROOT_KEY);
	return 0;
}

/* The stream of the replayed process of key `key` (meta "tree"), or -1. */
static int stream_of_key(json_t *meta, int root, const char *key)
{
	json_t *tree = json_object_get(meta, "tree"), *p;
	size_t i;
	if (!json_array_size(tree))
		return strcmp(key, AT_PROC_ROOT_KEY) ? -1 : root;
	json_array_foreach(tree, i, p)
	{
		const char *k = json_string_value(json_object_get(p, "key"));
		json_t *stream = json_object_get(p, "stream");
		if (k && !strcmp(k, key) && json_is_integer(stream))
			return (int)json_integer_value(stream);
	}
	return -1;
}

/* Checks that the trace has the step asked for, before anything runs; says what it has
 * instead (exit 76). */
static int check_step(const char *id, at_trace *t, json_t *meta, int root,
                      const struct at_replay_options *o)
{
	int stream = stream_of_key(meta, root, o->step_key);
	const struct at_stream_info *si = stream >= 0 ? at_trace_stream(t, (unsigned)stream) : NULL;
	if (!si) {
		char keys[300] = "";
		size_t n = 0, i, shown = 0;
		json_t *p, *tree = json_object_get(meta, "tree");
		json_array_foreach(tree, i, p)
		{
			const char *k = json_string_value(json_object_get(p, "key"));
			if (!k || !cli_key_well_formed(k) || n + strlen(k) + 8 >= sizeof keys)
				continue;
			if (++shown > 12) {
				n += (size_t)snprintf(keys + n, sizeof keys - n, ", ...");
				break;
			}
			n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s", n ? ", " : "", k);
		}
		cli_error(
		    "trace %s has no process %s; its processes are %s: see 'agenttrace show %s'",
		    id, o->step_key, n ? keys : AT_PROC_ROOT_KEY, id);
		return AT_EXIT_NOSTEP;
	}
	if (!si->events) {
		cli_error("trace %s has no events in process %s, so no step %" PRIu64
		          "; see 'agenttrace show %s --events'",
		          id, o->step_key, o->step, id);
		return AT_EXIT_NOSTEP;
	}
	if (o->step >= si->events) {
		cli_error("trace %s has %" PRIu64 " events in process %s (steps 0..%" PRIu64
		          "), so no step %" PRIu64 "; see 'agenttrace show %s --events'",
		          id, si->events, o->step_key, si->events - 1, o->step, id);
		return AT_EXIT_NOSTEP;
	}
	return 0;
}

/* --then stop: a thread that watches the run directory while the program runs, and tells
 * the user when the process of the step has stopped there, and when it goes on. */
struct stop_watch {
	pthread_t thread;
	const char *run_dir;
	int done; /* set by the main thread once the program has ended */
	int told; /* 1: the stop was told, 2: and its continuation */
};

static void tell_stopped(const struct at_step_report *r)
{
	char thread[32] = "";
	if (r->thread)
		snprintf(thread, sizeof thread, " in thread %u", r->thread);
	cli_error("process %s (pid %d) stopped before step %" PRIu64 " (%s)%s\n"
	          "  attach a debugger with: gdb -p %d\n"
	          "  it stays stopped until ended (kill %d) or continued (kill -CONT %d: the "
	          "replay then goes on normally)",
	          r->key, r->pid, r->step, r->call, thread, r->pid, r->pid, r->pid);
}

static void *watch_stop(void *arg)
{
	struct stop_watch *w = arg;
	struct at_step_report r;
	for (int last = 0; !last && w->told < 2;) {
		/* once more after the program ended: a continuation just before is told too */
		last = __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
		if (at_replay_step_report(w->run_dir, &r) == 1 && r.then == AT_THEN_STOP) {
			if (w->told == 0) {
				tell_stopped(&r);
				w->told = 1;
			}
			if (r.continued) {
				cli_error("process %s (pid %d) continued: the replay goes on",
				          r.key, r.pid);
				w->told = 2;
			}
		}
		struct timespec nap = {0, 20000000}; /* 20 ms: soon enough for a person */
		if (!last)
			nanosleep(&nap, NULL);
	}
	return NULL;
}

/* Whether process `pid` of the program, stopped at the step, is still there (not yet
 * reaped, by us as its subreaper or by its parent). */
static int still_there(pid_t pid)
{
	int status;
	while (waitpid(-1, &status, WNOHANG) > 0) /* the program's orphans end with us */
		;
	return pid > 0 && kill(pid, 0) == 0;
}

static int replay(at_store *s, const char *id, at_trace *t, json_t *meta,
                  const struct replay_request *rq)
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
	if (rq->o.then != AT_THEN_NONE && (rc = check_step(id, t, meta, root, &rq->o)))
		return rc;
	/* Check every chunk before running anything: a damaged trace is refused up front,
	 * not discovered halfway through the program. */
	char path[4096], run_dir[4096];
	struct at_trace_problem pb = {0};
	at_store_path(s, id, AT_TRACE_FILE, path, sizeof path);
	if ((rc = at_trace_verify_events(path, &pb))) {
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
	if (!rc)
		rc = at_replay_write_options(run_dir, &rq->o);
	if (!rc && rq->o.then == AT_THEN_LIVE) {
		/* what the process must make real at the step: the world there, from the
		 * keyframe before it */
		struct cli_keyframe_ctx kc = {t, id, rq->o.step_key};
		rc = live_plan_write(t, (unsigned)stream_of_key(meta, root, rq->o.step_key),
		                     rq->o.step, run_dir, cli_keyframe_damaged, &kc);
		if (rc == AT_ECORRUPT || rc == AT_ETRUNCATED)
			snprintf(pb.what, sizeof pb.what, "%s", at_trace_last_problem(t)->what);
	}
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
	struct stop_watch watch = {.run_dir = run_dir};
	int watching = rq->o.then == AT_THEN_STOP &&
	               pthread_create(&watch.thread, NULL, watch_stop, &watch) == 0;
	rc = argv && envp && argv[0] ? spawn_run(&sp, &status, NULL) : AT_EXIT_DAMAGED;
	if (rc == AT_EXIT_DAMAGED)
		cli_error("trace %s is damaged: its recorded command line is missing", id);
	cli_free_strings(argv);
	cli_free_strings(envp);
	/* --then stop: a process stopped at the step stays until the user ends or continues
	 * it, even when it outlives the root. */
	struct at_step_report step;
	while (!rc && at_replay_step_report(run_dir, &step) == 1 && step.then == AT_THEN_STOP &&
	       !step.continued && still_there(step.pid)) {
		struct timespec nap = {0, 20000000};
		nanosleep(&nap, NULL);
	}
	if (watching) {
		__atomic_store_n(&watch.done, 1, __ATOMIC_RELEASE);
		pthread_join(watch.thread, NULL);
	}
	if (rc) {
		at_store_remove_run(s, run_dir);
		return rc;
	}

	/* Children still replaying once the root is gone get a moment, then are stopped; at
	 * once after a divergence, or when the program was to end at the step. */
	struct at_divergence probe;
	int reached = at_replay_step_report(run_dir, &step) == 1;
	int ended_at_step = reached && step.then == AT_THEN_EXIT;
	int went_live = reached && step.then == AT_THEN_LIVE;
	int diverged = at_replay_divergence(run_dir, &probe) == 1;
	unsigned stopped = (unsigned)spawn_reap_tree(diverged || ended_at_step ? 0 : 2000);
	if (ended_at_step) {
		cli_error("replay of %s ended at step %" PRIu64 " of process %s, as asked", id,
		          step.step, step.key);
		at_store_remove_run(s, run_dir);
		return 0;
	}
	/* Ended by the user while stopped at the step: what it did not replay is no
	 * divergence, and neither is what that did to the rest of the program. */
	int ended_stopped = reached && step.then == AT_THEN_STOP && !step.continued;
	struct at_divergence d;
	struct at_replay_outcome o;
	int have_outcome = at_replay_outcome(run_dir, &o) == 0;
	int got = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	int want = cli_status_of(meta);
	if (ended_stopped) {
		cli_error("replay of %s: process %s (pid %d) was ended while stopped before step "
		          "%" PRIu64 "; the program ended with status %d",
		          id, step.key, step.pid, step.step, got);
		rc = got;
	} else if (at_replay_divergence(run_dir, &d) == 1) {
		report_divergence(id, &d, meta);
		rc = diverged_status(meta);
	} else if (went_live) { /* what came after the step was the world's, not the trace's */
		cli_error("replay of %s went live at step %" PRIu64 " of process %s (%s); the "
		          "program ended with status %d",
		          id, step.step, step.key, step.call, got);
		rc = got;
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
	if (rq->o.then != AT_THEN_NONE && !reached)
		cli_error("note: the replay never reached step %" PRIu64 " of process %s",
		          rq->o.step, rq->o.step_key);
	if (have_outcome && o.live_processes && !went_live) /* live by choice after the step */
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
	struct replay_request rq;
	int rc = parse_args(argc, argv, &rq);
	if (rc)
		return rc;
	at_store *s;
	char id[AT_REF_MAX];
	at_trace *t = NULL;
	json_t *meta = NULL;
	rc = cli_open_store(&s);
	if (!rc)
		rc = cli_resolve(s, rq.ref, id, sizeof id);
	if (!rc)
		rc = cli_open_trace(s, id, &t, &meta);
	if (!rc)
		rc = replay(s, id, t, meta, &rq);
	json_decref(meta);
	at_trace_close(t);
	at_store_close(s);
	return rc;
}
