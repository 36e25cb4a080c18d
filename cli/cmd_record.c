/* agenttrace record [--name NAME] [--exclude GLOB]... [--mask-env GLOB]... [--mask-header NAME]...
 * [--no-mask] [--] PROGRAM [ARGS...] */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agenttrace/world.h"
#include "agenttrace/errors.h"
#include "agenttrace/mask.h"
#include "agenttrace/seal.h"
#include "cli.h"
#include "finish.h"

extern char **environ;

static const char usage[] =
    "usage: agenttrace record [--name NAME] [--exclude GLOB]... [--mask-env GLOB]...\n"
    "                         [--mask-header NAME]... [--no-mask] [--keyframe-every K]\n"
    "                         [--] PROGRAM [ARGS...]\n"
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
    "  --mask-env GLOB     also mask the values of environment variables whose names\n"
    "                      match GLOB (case-insensitive; built in: *KEY* *TOKEN* *SECRET*\n"
    "                      *PASSWORD*), wherever the values appear. Repeatable\n"
    "  --mask-header NAME  also mask the values of NAME: headers (built in: Authorization,\n"
    "                      Proxy-Authorization, X-Api-Key, api-key, Cookie, Set-Cookie).\n"
    "                      Repeatable\n"
    "  --no-mask       keep secrets in this trace as they were\n"
    "  --keyframe-every K  a keyframe of each process's world every K of its events\n"
    "                      (default 16384; 0: none): 'show --step' and 'replay --step'\n"
    "                      reach any step from the keyframe before it\n"
    "\n"
    "Secrets are replaced by '*' bytes of the same length before anything is written;\n"
    "AGENTTRACE_MASK_ENV and AGENTTRACE_MASK_HEADERS (comma-separated) add patterns for\n"
    "every recording. See docs/cli.md, \"Secrets\".\n"
    "\n"
    "Traces are kept in $AGENTTRACE_HOME (default ~/.local/share/agenttrace).\n";

#define MAX_EXCLUDE 64 /* one bit each in the log header */

/* --- secrets (docs/cli.md, "Secrets") --- */

/* Adds one --mask-env glob or --mask-header name; says why not (`from`: where it came from). */
static int add_mask_rule(struct at_mask_rules *r, int header, const char *v, size_t len,
                         const char *from)
{
	if (!(header ? at_mask_add_header : at_mask_add_glob)(r, v, len))
		return 0;
	cli_error("record: %s: '%.*s' is not a %s (at most %d of them, %d bytes each)", from,
	          (int)len, v,
	          header ? "header name (letters, digits, '-', no ':' or spaces)"
	                 : "glob of an environment variable name (no spaces or '=')",
	          header ? AT_MASK_MAX_HEADERS : AT_MASK_MAX_GLOBS, AT_MASK_NAME_MAX - 1);
	return AT_EXIT_USAGE;
}

/* AGENTTRACE_MASK_ENV / AGENTTRACE_MASK_HEADERS: comma-separated, empty items skipped. */
static int add_mask_list(struct at_mask_rules *r, int header, const char *var)
{
	const char *v = getenv(var);
	for (const char *p = v; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n && add_mask_rule(r, header, p, n, var))
			return AT_EXIT_USAGE;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Copies of `v` (argv, or environ when `env`) with secrets masked in place, same lengths:
 * argv elements as header lines and for secret values, environment values also whole when
 * their name matches a glob. Names of the variables changed go to `names`. Caller frees. */
static char **masked_strings(const struct at_mask_rules *r, char *const *v, int env, json_t *names)
{
	size_t n = 0;
	while (v[n])
		n++;
	char **out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out && i < n; i++) {
		if (!(out[i] = strdup(v[i]))) {
			cli_free_strings(out);
			return NULL;
		}
		char *value = out[i], *eq = strchr(out[i], '=');
		int changed = 0;
		if (env && eq) {
			value = eq + 1;
			if (at_mask_env_name(r, out[i], (size_t)(eq - out[i])) && *value) {
				memset(value, AT_MASK_BYTE, strlen(value));
				changed = 1;
			}
		} else if (env) {
			continue;
		}
		changed |= at_mask_buffer(r, (uint8_t *)value, strlen(value));
		if (env && changed)
			json_array_append_new(names, json_stringn(out[i], (size_t)(eq - out[i])));
	}
	return out;
}

/* The rules for the preload, in <run dir>/mask (read by preload/mask.c): "off", or one
 * "env GLOB" / "header NAME" a line. Names and globs only, never a value. */
static int write_mask_rules(const char *run_dir, const struct at_mask_rules *r, int off)
{
	int rc = 0;
	FILE *f = cli_run_file(run_dir, "mask", &rc);
	if (!f)
		return rc;
	if (off)
		fputs("off\n", f);
	for (uint32_t k = 0; k < r->nglobs; k++)
		fprintf(f, "env %s\n", r->globs[k]);
	for (uint32_t k = 0; k < r->nheaders; k++)
		fprintf(f, "header %s\n", r->headers[k]);
	return fclose(f) ? (errno == ENOSPC ? AT_ENOSPC : AT_EIO) : 0;
}

/* The meta "mask" object: whether masking was on, the rules, and which variables it
 * masked (their names only). */
static json_t *mask_meta(const struct at_mask_rules *r, int off, json_t *masked_env)
{
	json_t *headers = json_array(), *globs = json_array();
	for (uint32_t k = 0; k < r->nheaders; k++)
		json_array_append_new(headers, json_string(r->headers[k]));
	for (uint32_t k = 0; k < r->nglobs; k++)
		json_array_append_new(globs, json_string(r->globs[k]));
	return json_pack("{s:b, s:o, s:o, s:o}", "enabled", !off, "headers", headers, "env_globs",
	                 globs, "masked_env", masked_env);
}

/* Sets meta's "argv", "env" and "mask". They are stored masked (unless `off`) and replayed
 * so: the environment keeps its size (cli/spawn.c keeps the initial stack identical), and
 * the program sends the masks it was recorded with. 0, or -1 when out of memory. */
static int masked_meta(const struct at_mask_rules *r, int off, char *const *args, json_t *meta)
{
	json_t *names = json_array();
	char **a = off ? NULL : masked_strings(r, args, 0, NULL);
	char **e = off ? NULL : masked_strings(r, environ, 1, names);
	int ok = names && (off || (a && e));
	if (ok) {
		json_object_set_new(meta, "argv", cli_json_strings(off ? args : a));
		json_object_set_new(meta, "env", cli_json_strings(off ? environ : e));
		json_object_set_new(meta, "mask", mask_meta(r, off, names));
	} else {
		json_decref(names);
	}
	cli_free_strings(a);
	cli_free_strings(e);
	return ok ? 0 : -1;
}

int cmd_record(int argc, char **argv)
{
	const char *name = NULL, *patterns[MAX_EXCLUDE];
	size_t npatterns = 0;
	int i = 1, no_mask = 0;
	unsigned keyframe_every = AT_KEYFRAME_EVERY;
	static struct at_mask_rules mask; /* 5 KiB: not on the stack */
	at_mask_rules_init(&mask, 1);
	/* The helper threads allocate and free buffers all the time (a directory listing's,
	 * a log's view); glibc would give a thread arena's free memory back to the kernel at
	 * once, and fault it in, zeroed, again on the next allocation: a third of what they
	 * cost while a fork/exec-heavy program ran (docs/performance.md). */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
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
		} else if ((!strcmp(argv[i], "--mask-env") && i + 1 < argc) ||
		           !strncmp(argv[i], "--mask-env=", 11)) {
			const char *g = argv[i][10] == '=' ? argv[i] + 11 : argv[++i];
			if (add_mask_rule(&mask, 0, g, strlen(g), "--mask-env"))
				return AT_EXIT_USAGE;
		} else if ((!strcmp(argv[i], "--mask-header") && i + 1 < argc) ||
		           !strncmp(argv[i], "--mask-header=", 14)) {
			const char *h = argv[i][13] == '=' ? argv[i] + 14 : argv[++i];
			if (add_mask_rule(&mask, 1, h, strlen(h), "--mask-header"))
				return AT_EXIT_USAGE;
		} else if (!strcmp(argv[i], "--no-mask")) {
			no_mask = 1;
		} else if ((!strcmp(argv[i], "--keyframe-every") && i + 1 < argc) ||
		           !strncmp(argv[i], "--keyframe-every=", 17)) {
			const char *k = argv[i][16] == '=' ? argv[i] + 17 : argv[++i];
			char *end;
			unsigned long v = strtoul(k, &end, 10);
			if (!k[0] || *end || k[0] == '-' || v > UINT32_MAX) {
				cli_error(
				    "record: --keyframe-every takes a number of events (0 for "
				    "no keyframes), not '%s'",
				    k);
				return AT_EXIT_USAGE;
			}
			keyframe_every = (unsigned)v;
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
	if (add_mask_list(&mask, 0, "AGENTTRACE_MASK_ENV") ||
	    add_mask_list(&mask, 1, "AGENTTRACE_MASK_HEADERS"))
		return AT_EXIT_USAGE;
	/* The values to search for: this environment's, which the program inherits. The
	 * preload finds the same ones in its own environment (preload/mask.c). */
	for (char **e = environ; !no_mask && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq && at_mask_env_name(&mask, *e, (size_t)(eq - *e)))
			at_mask_add_secret(&mask, eq + 1, strlen(eq + 1));
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
	if (masked_meta(&mask, no_mask, argv + i, meta)) {
		cli_error("record: out of memory");
		at_store_remove(s, id);
		at_store_remove_run(s, run_dir);
		json_decref(meta);
		at_store_close(s);
		return AT_EXIT_INTERNAL;
	}
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
	json_object_set_new(meta, "keyframe_every", json_integer(keyframe_every));
	if (cli_write_excludes(run_dir, exclude) || write_mask_rules(run_dir, &mask, no_mask) ||
	    write_pending(s, id, run_dir, meta) < 0) {
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
	if (sealer)
		at_sealer_keyframes(sealer, keyframe_every);
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
