/* agenttrace show <id> [--events [filters]] [--json]: a trace's summary with its process
 * tree (procview.c), HTTP exchanges and LLM calls (grouped by netview.c), or its events,
 * all or those that pass the filters (steps, calls, thread, process, text). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "agenttrace/seal.h"
#include "cli.h"
#include "fdview.h"
#include "netview.h"
#include "procview.h"
#include "show.h"
#include "show_step.h"
#include "agenttrace/proc.h"

static const char usage[] =
    "usage: agenttrace show <id> [--events [FILTER...] | --step [KEY:]N [--process KEY]]\n"
    "                            [--json]\n"
    "\n"
    "Shows a trace: its command, times, status and counts per family of calls, then its\n"
    "processes (the tree, with how each ended and its threads), its HTTP/1.x exchanges and\n"
    "the LLM API calls among them.\n"
    "  --events   every event, one per line: step, thread, call, result, duration\n"
    "  --json     the summary as one JSON object; with --events, one JSON object per\n"
    "             event per line, with seq, process, key, thread, call, args, ret, errno,\n"
    "             dur_ns and data (the payload, one character per byte: U+0000..U+00FF)\n"
    "  --step N   the world of the program (or of --process KEY, or KEY:N) just before its\n"
    "             step N: open descriptors and what they are, files written so far, sockets\n"
    "             and their peers, the last value of each clock, threads, children; then\n"
    "             the events around N. From the keyframe before N (record --keyframe-every)\n"
    "  --no-keyframes  with --step: from step 0, not from the keyframe before N (to\n"
    "             check the keyframes: the world is the same)\n"
    "Filters for --events (an event is shown when it passes all of them):\n"
    "  --from N, --to M   only steps N to M (both included) of each process; --from reads\n"
    "                     from the keyframe before step N, not from the start\n"
    "  --call NAME        only calls named NAME ('agenttrace calls' lists them); repeat it\n"
    "                     for several\n"
    "  --thread T         only thread T (the number after 't')\n"
    "  --process KEY      only the process with that key (1, 1.2, ...: see the summary)\n"
    "  --grep TEXT        only events whose text line, from the call name on without the\n"
    "                     duration, contains TEXT (case-sensitive; with --json too)\n";

/* Bytes as a JSON string with one code point per byte (ISO-8859-1), so text stays
 * readable and bytes.encode('latin-1') gives the exact bytes back. */
json_t *show_latin1_json(const uint8_t *p, size_t len)
{
	char *buf = malloc(2 * len + 1);
	size_t n = 0;
	if (!buf)
		return json_null();
	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];
		if (b < 0x80) {
			buf[n++] = (char)b;
		} else {
			buf[n++] = (char)(0xC0 | (b >> 6));
			buf[n++] = (char)(0x80 | (b & 0x3F));
		}
	}
	json_t *s = json_stringn(buf, n);
	free(buf);
	return s ? s : json_null();
}

static json_t *payload_json(const at_event *ev)
{
	return show_latin1_json(ev->payload, ev->len);
}

/* An event's text line without its step, thread and duration columns and the INSIDE_TLS
 * mark: the call, its arguments, result, errno name, value and file. The buffers it joins
 * are bounded, so EVENT_TEXT_MAX bytes hold it whole. */
#define EVENT_TEXT_MAX 1024
static void event_text(const at_event *ev, const struct fdview_note *fn, char *out, size_t cap)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	char args[256], result[256];
	at_event_format_args(ev, args, sizeof args);
	at_event_format_result(ev, result, sizeof result);
	char err[48] = "";
	if (ev->err)
		snprintf(err, sizeof err, " %s",
		         strerrorname_np(ev->err) ? strerrorname_np(ev->err) : "?");
	char where[300] = "";
	if (fn->path && fn->has_offset)
		snprintf(where, sizeof where, "  %s @%" PRId64, fn->path, fn->offset);
	else if (fn->path && ci && ci->arg != AT_ARG_OPEN && ci->arg != AT_ARG_PATH)
		snprintf(where, sizeof where, "  %s", fn->path);
	snprintf(out, cap, "%s(%s) = %" PRId64 "%s%s%s%s", ci ? ci->name : "?", args, ev->ret, err,
	         result[0] ? "  " : "", result, where);
}

#define INSIDE_TLS "  (inside TLS)"

void show_event_line(const char *mark, const at_event *ev, const struct fdview_note *fn)
{
	char text[EVENT_TEXT_MAX];
	event_text(ev, fn, text, sizeof text);
	printf("%s%8" PRIu64 "  t%-3u %s  [%" PRIu64 " ns]%s\n", mark, ev->seq, ev->thread, text,
	       ev->dur_ns, ev->flags & AT_EVF_NESTED ? INSIDE_TLS : "");
}

json_t *show_event_json(const at_event *ev, int pid, const char *key, const struct fdview_note *fn,
                        const char *blob)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	char args[256], result[256];
	at_event_format_args(ev, args, sizeof args);
	at_event_format_result(ev, result, sizeof result);
	json_t *o = json_pack("{s:I, s:i, s:s, s:I, s:s, s:s, s:I, s:i, s:I, s:o}", "seq",
	                      (json_int_t)ev->seq, "process", pid, "key", key, "thread",
	                      (json_int_t)ev->thread, "call", ci ? ci->name : "?", "args", args,
	                      "ret", (json_int_t)ev->ret, "errno", ev->err, "dur_ns",
	                      (json_int_t)ev->dur_ns, "data", payload_json(ev));
	if (ci)
		json_object_set_new(o, "family", json_string(at_family_name(ci->family)));
	if (ev->err && strerrorname_np(ev->err))
		json_object_set_new(o, "errno_name", json_string(strerrorname_np(ev->err)));
	if (ev->fd != -1)
		json_object_set_new(o, "fd", json_integer(ev->fd));
	if (result[0])
		json_object_set_new(o, "value", json_string(result));
	if (fn->path)
		json_object_set_new(o, "path", json_string(fn->path));
	if (fn->has_offset)
		json_object_set_new(o, "offset", json_integer(fn->offset));
	if (fn->path || fn->has_offset)
		json_object_set_new(o, "bytes", json_integer(fn->bytes));
	if (blob)
		json_object_set_new(o, "blob", json_string(blob));
	if (ev->flags & AT_EVF_NESTED)
		json_object_set_new(o, "inside_tls", json_true());
	return o;
}

static void print_event(const at_event *ev, int pid, const char *key, const struct fdview_note *fn,
                        const char *blob, int json)
{
	if (!json) {
		show_event_line("", ev, fn);
		return;
	}
	json_t *o = show_event_json(ev, pid, key, fn, blob);
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

/* The content a blob reference stands for, in place of the reference (for people, who
 * want the bytes). *content is the caller's to free; a missing blob leaves the reference. */
void show_resolve_blob(const char *home, at_event *ev, void **content, char *hex)
{
	at_blob_id id;
	hex[0] = '\0';
	*content = NULL;
	if (!(ev->flags & AT_EVF_BLOB) || ev->len != AT_BLOB_REF_LEN)
		return;
	at_blob_ref_resolve(home, ev, content, &id); /* id is read even when content is missing */
	at_blob_hex(&id, hex);
}

/* The --events filters: an event is shown when it passes every one given. */
struct show_filter {
	int given;         /* any filter: a process's header then comes only above a shown event */
	uint64_t from, to; /* steps, both included; to is UINT64_MAX when not given */
	int64_t thread;    /* -1: any */
	const char *process;        /* a key, or NULL: any */
	const char *grep;           /* a substring of event_text's line, or NULL: any */
	int ncalls;                 /* 0: any call */
	uint8_t calls[AT_CALL_MAX]; /* 1 for each call asked for */
};

/* --grep: searches the text line as printed, without the step, thread and duration
 * columns (event_text, then INSIDE_TLS for an event made inside a TLS call). */
static int filter_passes_text(const struct show_filter *f, const at_event *ev,
                              const struct fdview_note *fn)
{
	if (!f->grep)
		return 1;
	char line[EVENT_TEXT_MAX + sizeof INSIDE_TLS];
	event_text(ev, fn, line, EVENT_TEXT_MAX);
	if (ev->flags & AT_EVF_NESTED)
		strcat(line, INSIDE_TLS);
	return strstr(line, f->grep) != NULL;
}

/* "process 1.2 (pid 4246):", after a blank line unless it is the first. */
static void print_process_header(const char *key, const struct at_stream_info *si, int *headed)
{
	printf("%sprocess %s (pid %d)%s:\n", (*headed)++ ? "\n" : "", key, si->pid,
	       si->flags & AT_STREAM_ROOT ? " (the program)" : "");
}

static int show_events(at_trace *t, const char *id, const char *home, json_t *tree, int json,
                       const struct show_filter *f)
{
	unsigned nstreams = at_trace_stream_count(t);
	struct fdview *view = malloc(sizeof *view);
	if (!view)
		return AT_EXIT_INTERNAL;
	int headed = 0; /* process headers printed so far */
	for (unsigned s = 0; s < nstreams; s++) {
		const struct at_stream_info *si = at_trace_stream(t, s);
		const char *key = procview_key(tree, s);
		if (f->process && strcmp(key, f->process))
			continue;
		int header = !json && nstreams > 1;
		if (header && !f->given) { /* every process, even one without events */
			print_process_header(key, si, &headed);
			header = 0;
		}
		at_trace_iter *it;
		at_event ev;
		/* The file view at --from's step comes from the keyframe before it. */
		int rc = fdview_init(view);
		if (!rc && f->from)
			rc = fdview_seek(view, t, id, s, f->from);
		if (!rc)
			rc = at_trace_iter_open(t, s, f->from, &it);
		else
			it = NULL;
		while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1) {
			rc = 0;
			if (ev.seq > f->to)
				break;
			struct fdview_note fn;
			if ((f->ncalls && (ev.call >= AT_CALL_MAX || !f->calls[ev.call])) ||
			    (f->thread >= 0 && ev.thread != (uint64_t)f->thread)) {
				fdview_apply(view, &ev, &fn); /* the view follows every event */
			} else {
				void *content = NULL;
				char hex[2 * AT_BLOB_ID_LEN + 1];
				show_resolve_blob(home, &ev, &content, hex);
				fdview_apply(view, &ev, &fn);
				if (filter_passes_text(f, &ev, &fn)) {
					if (header) {
						print_process_header(key, si, &headed);
						header = 0;
					}
					print_event(&ev, si->pid, key, &fn, hex[0] ? hex : NULL,
					            json);
				}
				free(content);
			}
			if (ev.seq >= f->to) /* not one more: the next chunk may not be needed */
				break;
		}
		fdview_free(view);
		at_trace_iter_close(it);
		if (rc < 0) {
			free(view);
			fflush(stdout);
			cli_error("trace %s is damaged: %s; run 'agenttrace verify %s'", id,
			          at_trace_last_problem(t)->what, id);
			return cli_exit_for(rc);
		}
	}
	free(view);
	return 0;
}

static json_t *streams_json(at_trace *t)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < at_trace_stream_count(t); i++) {
		const struct at_stream_info *si = at_trace_stream(t, i);
		json_array_append_new(
		    a, json_pack(
		           "{s:i, s:i, s:b, s:b, s:i, s:i, s:I, s:I, s:I}", "pid", si->pid, "ppid",
		           si->ppid, "root", (si->flags & AT_STREAM_ROOT) != 0, "complete",
		           !(si->flags & AT_STREAM_INCOMPLETE), "threads", si->threads, "images",
		           si->images, "events", (json_int_t)si->events, "payload_bytes",
		           (json_int_t)si->payload_bytes, "torn_events", (json_int_t)si->torn));
	}
	return a;
}

static void show_summary(at_trace *t, const char *id, json_t *meta, json_t *tree)
{
	char buf[1024], when[32], status[64], size[32], payload[32];
	const char *name = json_string_value(json_object_get(meta, "name"));
	uint64_t start = (uint64_t)json_integer_value(json_object_get(meta, "start_ns"));
	uint64_t end = (uint64_t)json_integer_value(json_object_get(meta, "end_ns"));
	printf("trace      %s%s%s%s\n", id, name ? " (" : "", name ? name : "", name ? ")" : "");
	printf("command    %s\n", cli_command_line(meta, buf, sizeof buf));
	printf("program    %s\n", json_string_value(json_object_get(meta, "exe")));
	printf("directory  %s\n", json_string_value(json_object_get(meta, "cwd")));
	printf("started    %s, ran %.3f s\n", cli_time(start, when, sizeof when),
	       end > start ? (double)(end - start) / 1e9 : 0.0);
	printf("status     %s\n", cli_describe_status(meta, status, sizeof status));
	printf("events     %" JSON_INTEGER_FORMAT,
	       json_integer_value(json_object_get(meta, "events")));
	const char *k;
	json_t *v;
	int first = 1;
	json_object_foreach(json_object_get(meta, "families"), k, v)
	{
		printf("%s%s %" JSON_INTEGER_FORMAT, first ? ": " : ", ", k, json_integer_value(v));
		first = 0;
	}
	printf("\n");
	first = 1;
	json_object_foreach(json_object_get(meta, "calls"), k, v)
	{
		printf("%s%s %" JSON_INTEGER_FORMAT, first ? "calls      " : ", ", k,
		       json_integer_value(v));
		first = 0;
	}
	if (!first)
		printf("\n");
	size_t threads = 0, i; /* the tree's: a process with no event has a thread too */
	json_t *node;
	json_array_foreach(tree, i, node)
	{
		threads += json_array_size(json_object_get(node, "threads"));
	}
	printf("processes  %u (%zu thread%s)\n", at_trace_stream_count(t), threads,
	       threads == 1 ? "" : "s");
	unsigned keyframes = 0, chunks;
	for (unsigned c = 0; c < at_trace_chunk_count(t); c++)
		keyframes += at_trace_chunk(t, c)->kind == AT_CHUNK_KEYFRAME;
	chunks = at_trace_chunk_count(t) - keyframes;
	printf("stored     %s sealed, %s of payload, %u chunk%s, %u keyframe%s\n",
	       cli_bytes(at_trace_file_size(t), size, sizeof size),
	       cli_bytes((uint64_t)json_integer_value(json_object_get(meta, "payload_bytes")),
	                 payload, sizeof payload),
	       chunks, chunks == 1 ? "" : "s", keyframes, keyframes == 1 ? "" : "s");
	json_t *reason = json_object_get(meta, "incomplete_reason");
	printf("complete   %s%s\n", json_is_string(reason) ? "no: " : "yes",
	       json_is_string(reason) ? json_string_value(reason) : "");
	if (!json_is_true(json_object_get(meta, "aslr_disabled")))
		printf("note       address randomisation could not be turned off when recording\n");
}

/* A step or thread number: digits only, at most `max`. Says what is wrong otherwise. */
static int parse_number(const char *option, const char *what, const char *text, uint64_t max,
                        uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || n > max) {
		cli_error("show: %s takes %s, not '%s'\n%s", option, what, text, usage);
		return AT_EXIT_USAGE;
	}
	*out = n;
	return 0;
}

/* The call named `name` marked in f->calls (every id of that name). */
static int filter_add_call(struct show_filter *f, const char *name)
{
	int found = 0;
	for (unsigned id = 0; id < AT_CALL_MAX; id++) {
		const struct at_call_info *ci = at_call_info(id);
		if (ci && !strcmp(ci->name, name)) {
			f->calls[id] = 1;
			found = 1;
		}
	}
	if (!found) {
		cli_error("show: --call: agenttrace records no call named '%s'; 'agenttrace calls' "
		          "lists them",
		          name);
		return AT_EXIT_USAGE;
	}
	f->ncalls++;
	return 0;
}

/* Is argv[*i] the option `name`, as "--name VALUE" or "--name=VALUE"? Then *value is set
 * and *i moves past it. A missing value is *value NULL. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n])
		return 0;
	*value = *i + 1 < argc ? argv[++*i] : NULL;
	return 1;
}

/* Parses the filters of --events into f; anything else stays in place for cmd_show.
 * Returns 1 if argv[*i] was a filter, 0 if not, or an exit status (> 1) after saying why. */
static int parse_filter(int argc, char **argv, int *i, struct show_filter *f)
{
	static const char *const names[] = {"--from",   "--to",      "--call",
	                                    "--thread", "--process", "--grep"};
	const char *name = NULL, *value = NULL;
	for (size_t k = 0; k < sizeof names / sizeof *names && !name; k++)
		if (option_value(argc, argv, i, names[k], &value))
			name = names[k];
	if (!name)
		return 0;
	if (!value) {
		cli_error("show: %s needs a value\n%s", name, usage);
		return AT_EXIT_USAGE;
	}
	f->given = 1;
	uint64_t n = 0;
	int rc = 0;
	if (!strcmp(name, "--from")) {
		rc = parse_number(name, "a step number (0 or more)", value, INT64_MAX, &f->from);
	} else if (!strcmp(name, "--to")) {
		rc = parse_number(name, "a step number (0 or more)", value, INT64_MAX, &f->to);
	} else if (!strcmp(name, "--thread")) {
		rc = parse_number(name, "a thread number (0 to 4294967295)", value, UINT32_MAX, &n);
		f->thread = (int64_t)n;
	} else if (!strcmp(name, "--call")) {
		rc = filter_add_call(f, value);
	} else if (!strcmp(name, "--process")) {
		f->process = value;
	} else {
		f->grep = value;
	}
	return rc ? rc : 1;
}

/* Fails unless --process names a process of the trace: then lists the keys there are. */
static int check_process(json_t *tree, unsigned nstreams, const char *id, const char *key)
{
	char keys[1024] = "";
	size_t n = 0;
	for (unsigned s = 0; s < nstreams; s++) {
		if (!strcmp(procview_key(tree, s), key))
			return 0;
		if (n < sizeof keys)
			n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s", s ? ", " : "",
			                      procview_key(tree, s));
	}
	if (n >= sizeof keys)
		strcpy(keys + sizeof keys - 5, "...");
	cli_error("show: trace %s has no process '%s'; its processes are %s", id, key, keys);
	return AT_EXIT_USAGE;
}

int cmd_show(int argc, char **argv)
{
	int events = 0, json = 0, no_keyframes = 0;
	const char *ref = NULL, *step_arg = NULL;
	struct show_filter filter = {.to = UINT64_MAX, .thread = -1};
	for (int i = 1; i < argc; i++) {
		int f = parse_filter(argc, argv, &i, &filter);
		if (f > 1)
			return f;
		if (f == 1)
			continue;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--events")) {
			events = 1;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--no-keyframes")) {
			no_keyframes = 1;
		} else if (!strcmp(argv[i], "--step") && i + 1 < argc) {
			step_arg = argv[++i];
		} else if (!strncmp(argv[i], "--step=", 7)) {
			step_arg = argv[i] + 7;
		} else if (argv[i][0] != '-' && !ref) {
			ref = argv[i];
		} else {
			cli_error("show: unexpected argument '%s'\n%s", argv[i], usage);
			return AT_EXIT_USAGE;
		}
	}
	if (!ref) {
		cli_error("show: no trace given\n%s", usage);
		return AT_EXIT_USAGE;
	}
	char step_key[AT_PROC_KEY_MAX] = "";
	uint64_t step = 0;
	if (step_arg) {
		int prc = cli_parse_step("show", step_arg, step_key, sizeof step_key, &step);
		if (prc)
			return prc;
		if (events) {
			cli_error("show: --step shows the world at a step, --events the events: "
			          "one or the other (--events --from N --to M for a range)\n%s",
			          usage);
			return AT_EXIT_USAGE;
		}
		if (filter.process && step_key[0] && strcmp(filter.process, step_key)) {
			cli_error("step %s is in process %s, not %s", step_arg, step_key,
			          filter.process);
			return AT_EXIT_NOSTEP;
		}
		if (!step_key[0] && filter.process)
			snprintf(step_key, sizeof step_key, "%s", filter.process);
		if (filter.ncalls || filter.thread >= 0 || filter.grep || filter.from ||
		    filter.to != UINT64_MAX) {
			cli_error("show: with --step only --process and --json apply\n%s", usage);
			return AT_EXIT_USAGE;
		}
		filter.given = 0;
	}
	if (no_keyframes && !step_arg) {
		cli_error("show: --no-keyframes goes with --step\n%s", usage);
		return AT_EXIT_USAGE;
	}
	if (filter.given && !events) {
		cli_error("show: --from, --to, --call, --thread, --process and --grep filter the "
		          "events: add --events\n%s",
		          usage);
		return AT_EXIT_USAGE;
	}
	if (filter.from > filter.to) {
		cli_error("show: --from %" PRIu64 " is after --to %" PRIu64
		          ": no step is in that range\n%s",
		          filter.from, filter.to, usage);
		return AT_EXIT_USAGE;
	}
	at_store *s;
	char id[AT_REF_MAX];
	at_trace *t = NULL;
	json_t *meta = NULL;
	int rc = cli_open_store(&s);
	if (!rc)
		rc = cli_resolve(s, ref, id, sizeof id);
	if (!rc)
		rc = cli_open_trace(s, id, &t, &meta);
	struct netview nv;
	netview_init(&nv);
	json_t *tree = rc ? NULL : procview_tree(t, meta);
	if (!rc && events && filter.process)
		rc = check_process(tree, at_trace_stream_count(t), id, filter.process);
	if (!rc && step_arg) {
		rc = show_step(t, id, at_store_home(s), tree, step_key[0] ? step_key : NULL, step,
		               !no_keyframes, json);
	} else if (!rc && events) {
		rc = show_events(t, id, at_store_home(s), tree, json, &filter);
	} else if (!rc && json) {
		rc = show_network_scan(t, id, at_store_home(s), meta, &nv);
		json_object_set_new(meta, "streams", streams_json(t));
		json_object_set(meta, "tree", tree);
		json_object_set_new(meta, "sealed_bytes",
		                    json_integer((json_int_t)at_trace_file_size(t)));
		json_object_set_new(meta, "chunks", json_integer(at_trace_chunk_count(t)));
		show_network_json(&nv, meta);
		if (!rc) {
			json_dumpf(meta, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
		}
	} else if (!rc) {
		/* The summary first: it does not need the events, so a damaged chunk still
		 * leaves it to read. */
		show_summary(t, id, meta, tree);
		procview_print(tree);
		fflush(stdout);
		rc = show_network_scan(t, id, at_store_home(s), meta, &nv);
		if (!rc)
			show_network_print(&nv, at_trace_stream_count(t) > 1);
	}
	netview_free(&nv);
	json_decref(tree);
	if (fflush(stdout) != 0 && errno != EPIPE)
		rc = rc ? rc : AT_EXIT_IO;
	json_decref(meta);
	at_trace_close(t);
	at_store_close(s);
	return rc;
}
