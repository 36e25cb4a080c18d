/* Helpers the subcommands share: messages, exit statuses, store and trace opening. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agenttrace/errors.h"
#include "agenttrace/proc.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("agenttrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

int cli_exit_for(int code)
{
	switch (code) {
	case AT_OK: return AT_EXIT_OK;
	case AT_EINVAL: return AT_EXIT_USAGE;
	case AT_ECORRUPT:
	case AT_ETRUNCATED:
	case AT_ECODEC: return AT_EXIT_DAMAGED;
	case AT_EVERSION: return AT_EXIT_VERSION;
	case AT_ENOTRACE: return AT_EXIT_NOTRACE;
	case AT_EAMBIGUOUS: return AT_EXIT_AMBIGUOUS;
	case AT_ENOSPC: return AT_EXIT_NOSPACE;
	case AT_EIO: return AT_EXIT_IO;
	case AT_ENOTSEALED: return AT_EXIT_UNSEALED;
	default: return AT_EXIT_INTERNAL;
	}
}

int cli_open_store(at_store **out)
{
	char home[4096];
	if (at_store_default_home(home, sizeof home)) {
		cli_error("cannot tell where to keep traces: set AGENTTRACE_HOME (or HOME)");
		return AT_EXIT_USAGE;
	}
	int rc = at_store_open(home, out);
	if (rc) {
		cli_error("cannot open the trace store %s: %s; set AGENTTRACE_HOME to a writable "
		          "directory",
		          home, rc == AT_ENOSPC ? at_strerror(rc) : strerror(errno));
		return cli_exit_for(rc);
	}
	return 0;
}

/* Names are in the metadata; a trace that cannot be read simply has none. */
static int name_of(const at_store *s, const char *id, char *name, size_t cap)
{
	char path[4096];
	at_trace *t;
	if (at_store_path(s, id, AT_TRACE_FILE, path, sizeof path) || at_trace_open(path, &t, NULL))
		return -1;
	json_t *meta = json_loads(at_trace_meta(t, NULL), 0, NULL);
	const char *n = json_string_value(json_object_get(meta, "name"));
	int rc = n ? (snprintf(name, cap, "%s", n), 0) : -1;
	json_decref(meta);
	at_trace_close(t);
	return rc;
}

int cli_resolve(at_store *s, const char *ref, char *id, size_t cap)
{
	struct at_resolution r;
	int rc = at_store_resolve(s, ref, name_of, &r);
	if (rc == AT_ENOTRACE) {
		cli_error("no trace matches '%s'; run 'agenttrace list' to see the traces in %s",
		          ref, at_store_home(s));
		return AT_EXIT_NOTRACE;
	}
	if (rc == AT_EAMBIGUOUS) {
		char list[AT_RESOLVE_SHOW * (AT_REF_MAX + 2)] = "";
		for (unsigned i = 0; i < r.nmatches && i < AT_RESOLVE_SHOW; i++) {
			strcat(list, i ? ", " : "");
			strcat(list, r.matches[i]);
		}
		cli_error("'%s' matches %u traces (%s%s); give more of the id", ref, r.nmatches,
		          list, r.nmatches > AT_RESOLVE_SHOW ? ", ..." : "");
		return AT_EXIT_AMBIGUOUS;
	}
	if (rc) {
		cli_error("cannot read the trace store %s: %s", at_store_home(s), at_strerror(rc));
		return cli_exit_for(rc);
	}
	snprintf(id, cap, "%s", r.id);
	return 0;
}

int cli_open_trace(at_store *s, const char *id, at_trace **t, json_t **meta)
{
	char path[4096], pending[4096];
	struct at_trace_problem pb = {0};
	struct stat st;
	*t = NULL;
	*meta = NULL;
	at_store_path(s, id, AT_TRACE_FILE, path, sizeof path);
	at_store_path(s, id, AT_PENDING_FILE, pending, sizeof pending);
	if (stat(path, &st) < 0 && stat(pending, &st) == 0) {
		cli_error("trace %s is still recording, or its recording was interrupted before it "
		          "was sealed; run 'agenttrace seal %s' once the program has ended",
		          id, id);
		return AT_EXIT_UNSEALED;
	}
	int rc = at_trace_open(path, t, &pb);
	if (rc == AT_EVERSION) {
		cli_error("trace %s: %s; upgrade agenttrace to read it", id, pb.what);
		return AT_EXIT_VERSION;
	}
	if (rc == AT_EIO && stat(path, &st) < 0) {
		cli_error("trace %s has no trace file (%s); remove it with 'agenttrace rm %s'", id,
		          path, id);
		return AT_EXIT_DAMAGED;
	}
	if (rc) {
		cli_error("trace %s is damaged: %s; run 'agenttrace verify %s' for details", id,
		          pb.what, id);
		return cli_exit_for(rc);
	}
	json_error_t err;
	*meta = json_loads(at_trace_meta(*t, NULL), 0, &err);
	if (!json_is_object(*meta)) {
		cli_error("trace %s is damaged: its metadata is not valid JSON (%s)", id, err.text);
		at_trace_close(*t);
		*t = NULL;
		json_decref(*meta);
		*meta = NULL;
		return AT_EXIT_DAMAGED;
	}
	return 0;
}

int cli_status_of(json_t *meta)
{
	json_t *exit = json_object_get(meta, "exit");
	json_t *sig = json_object_get(exit, "signal");
	if (json_is_integer(sig))
		return 128 + (int)json_integer_value(sig);
	return (int)json_integer_value(json_object_get(exit, "code"));
}

const char *cli_describe_status(json_t *meta, char *buf, size_t cap)
{
	json_t *exit = json_object_get(meta, "exit");
	json_t *sig = json_object_get(exit, "signal");
	if (!exit)
		snprintf(buf, cap, "unknown");
	else if (json_is_integer(sig))
		snprintf(buf, cap, "killed by SIG%s",
		         sigabbrev_np((int)json_integer_value(sig))
		             ? sigabbrev_np((int)json_integer_value(sig))
		             : "?");
	else
		snprintf(buf, cap, "exit %" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(exit, "code")));
	return buf;
}

const char *cli_bytes(uint64_t n, char *buf, size_t cap)
{
	if (n < 1024)
		snprintf(buf, cap, "%" PRIu64 " B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, cap, "%.1f KiB", (double)n / 1024);
	else if (n < 1024ull * 1024 * 1024)
		snprintf(buf, cap, "%.1f MiB", (double)n / (1024 * 1024));
	else
		snprintf(buf, cap, "%.2f GiB", (double)n / (1024.0 * 1024 * 1024));
	return buf;
}

const char *cli_time(uint64_t ns, char *buf, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	if (!localtime_r(&s, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "?");
	return buf;
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int needs_quotes(const char *s)
{
	if (!*s)
		return 1;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		            "@%+=:,./-_",
		            *s))
			return 1;
	return 0;
}

const char *cli_command_line(json_t *meta, char *buf, size_t cap)
{
	size_t n = 0;
	size_t i;
	json_t *arg;
	buf[0] = '\0';
	json_array_foreach(json_object_get(meta, "argv"), i, arg)
	{
		const char *a = json_string_value(arg);
		if (!a || n + 4 >= cap)
			break;
		if (i)
			buf[n++] = ' ';
		if (!needs_quotes(a)) {
			n += (size_t)snprintf(buf + n, cap - n, "%s", a);
		} else {
			buf[n++] = '\'';
			for (; *a && n + 5 < cap; a++) {
				if (*a == '\'')
					n += (size_t)snprintf(buf + n, cap - n, "'\\''");
				else
					buf[n++] = *a;
			}
			buf[n++] = '\'';
		}
		buf[n < cap ? n : cap - 1] = '\0';
	}
	return buf;
}

json_t *cli_json_strings(char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++) {
		json_t *str = json_string(*v);
		if (!str) {
			size_t n = strlen(*v);
			char *hex = malloc(2 * n + 1);
			for (size_t i = 0; hex && i < n; i++)
				snprintf(hex + 2 * i, 3, "%02x", (unsigned char)(*v)[i]);
			if (hex)
				hex[2 * n] = '\0';
			str = json_pack("{s:s}", "hex", hex ? hex : "");
			free(hex);
		}
		json_array_append_new(a, str);
	}
	return a;
}

char **cli_strings_from_json(json_t *a)
{
	size_t n = json_array_size(a), i;
	json_t *e;
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	json_array_foreach(a, i, e)
	{
		const char *str = json_string_value(e);
		const char *hex = json_string_value(json_object_get(e, "hex"));
		if (str) {
			v[i] = strdup(str);
		} else if (hex) {
			size_t len = strlen(hex) / 2;
			v[i] = malloc(len + 1);
			for (size_t k = 0; v[i] && k < len; k++) {
				unsigned b = 0;
				sscanf(hex + 2 * k, "%2x", &b);
				v[i][k] = (char)b;
			}
			if (v[i])
				v[i][len] = '\0';
		} else {
			v[i] = strdup("");
		}
		if (!v[i]) {
			cli_free_strings(v);
			return NULL;
		}
	}
	return v;
}

void cli_free_strings(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

FILE *cli_run_file(const char *run_dir, const char *name, int *rc)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", run_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		*rc = errno == ENOSPC ? AT_ENOSPC : AT_EIO;
		if (fd >= 0)
			close(fd);
	}
	return f;
}

int cli_write_excludes(const char *run_dir, json_t *patterns)
{
	int rc = 0;
	if (!json_array_size(patterns))
		return 0;
	FILE *f = cli_run_file(run_dir, "exclude", &rc);
	if (!f)
		return rc;
	size_t i;
	json_t *p;
	json_array_foreach(patterns, i, p) fprintf(f, "%s\n", json_string_value(p));
	return fclose(f) ? (errno == ENOSPC ? AT_ENOSPC : AT_EIO) : 0;
}

int cli_key_well_formed(const char *key)
{
	if (strcmp(key, AT_PROC_ROOT_KEY) && strncmp(key, AT_PROC_ROOT_KEY ".", 2))
		return 0;
	if (strlen(key) >= AT_PROC_KEY_MAX)
		return 0;
	for (const char *p = key; *p; p++)
		if (!(*p >= '0' && *p <= '9') &&
		    !(*p == '.' && p[1] >= '1' && p[1] <= '9' && p > key))
			return 0;
	return 1;
}

int cli_parse_step(const char *cmd, const char *arg, char *key, size_t cap, uint64_t *step)
{
	const char *colon = strrchr(arg, ':'), *num = colon ? colon + 1 : arg;
	key[0] = '\0';
	if (colon) {
		snprintf(key, cap, "%.*s", (int)(colon - arg), arg);
		if (!cli_key_well_formed(key)) {
			cli_error(
			    "%s: step '%s': '%s' is not a process key (keys look like 1, 1.2, "
			    "1.2.1: see 'agenttrace show <id>')",
			    cmd, arg, key);
			return AT_EXIT_USAGE;
		}
	}
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(num, &end, 10);
	if (num[0] == '-' && num[1] >= '0' && num[1] <= '9') {
		cli_error("%s: step '%s' is negative: steps count from 0 (the first column of "
		          "'agenttrace show <id> --events')",
		          cmd, arg);
		return AT_EXIT_USAGE;
	}
	if (!(num[0] >= '0' && num[0] <= '9') || *end || errno == ERANGE) {
		cli_error("%s: '%s' is not a step: give N or KEY:N, with N from the first column "
		          "of 'agenttrace show <id> --events'",
		          cmd, arg);
		return AT_EXIT_USAGE;
	}
	*step = n;
	return 0;
}

void cli_keyframe_damaged(void *ctx, uint64_t at, int rc)
{
	const struct cli_keyframe_ctx *c = ctx;
	char process[AT_PROC_KEY_MAX + 16] = "";
	if (c->key)
		snprintf(process, sizeof process, "process %s of ", c->key);
	cli_error("warning: the keyframe of %strace %s at step %" PRIu64
	          " is damaged (%s); using an earlier one",
	          process, c->id, at, rc ? at_trace_last_problem(c->t)->what : "a wrong step");
}
