/* agenttrace show <id> [--events] [--json]: a trace's summary with its process tree
 * (procview.c), HTTP exchanges and LLM calls (grouped by netview.c), or its events. */
#include <errno.h>
#include <inttypes.h>
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

static const char usage[] =
    "usage: agenttrace show <id> [--events] [--json]\n"
    "\n"
    "Shows a trace: its command, times, status and counts per family of calls, then its\n"
    "processes (the tree, with how each ended and its threads), its HTTP/1.x exchanges and\n"
    "the LLM API calls among them.\n"
    "  --events   every event, one per line: step, thread, call, result, duration\n"
    "  --json     the summary as one JSON object; with --events, one JSON object per\n"
    "             event per line, with seq, process, key, thread, call, args, ret, errno,\n"
    "             dur_ns and data (the payload, one character per byte: U+0000..U+00FF)\n";

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

static void print_event(const at_event *ev, int pid, const char *key, const struct fdview_note *fn,
                        const char *blob, int json)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	char args[256], result[256];
	at_event_format_args(ev, args, sizeof args);
	at_event_format_result(ev, result, sizeof result);
	if (json) {
		json_t *o = json_pack("{s:I, s:i, s:s, s:I, s:s, s:s, s:I, s:i, s:I, s:o}", "seq",
		                      (json_int_t)ev->seq, "process", pid, "key", key, "thread",
		                      (json_int_t)ev->thread, "call", ci ? ci->name : "?", "args",
		                      args, "ret", (json_int_t)ev->ret, "errno", ev->err, "dur_ns",
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
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return;
	}
	char err[48] = "";
	if (ev->err)
		snprintf(err, sizeof err, " %s",
		         strerrorname_np(ev->err) ? strerrorname_np(ev->err) : "?");
	char where[300] = "";
	if (fn->path && fn->has_offset)
		snprintf(where, sizeof where, "  %s @%" PRId64, fn->path, fn->offset);
	else if (fn->path && ci && ci->arg != AT_ARG_OPEN && ci->arg != AT_ARG_PATH)
		snprintf(where, sizeof where, "  %s", fn->path);
	printf("%8" PRIu64 "  t%-3u %s(%s) = %" PRId64 "%s%s%s%s  [%" PRIu64 " ns]%s\n", ev->seq,
	       ev->thread, ci ? ci->name : "?", args, ev->ret, err, result[0] ? "  " : "", result,
	       where, ev->dur_ns, ev->flags & AT_EVF_NESTED ? "  (inside TLS)" : "");
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

static int show_events(at_trace *t, const char *id, const char *home, json_t *tree, int json)
{
	unsigned nstreams = at_trace_stream_count(t);
	struct fdview *view = malloc(sizeof *view);
	if (!view)
		return AT_EXIT_INTERNAL;
	for (unsigned s = 0; s < nstreams; s++) {
		const struct at_stream_info *si = at_trace_stream(t, s);
		const char *key = procview_key(tree, s);
		if (!json && nstreams > 1)
			printf("%sprocess %s (pid %d)%s:\n", s ? "\n" : "", key, si->pid,
			       si->flags & AT_STREAM_ROOT ? " (the program)" : "");
		at_trace_iter *it;
		at_event ev;
		int rc = at_trace_iter_open(t, s, 0, &it);
		fdview_init(view);
		while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1) {
			rc = 0;
			struct fdview_note fn;
			void *content = NULL;
			char hex[2 * AT_BLOB_ID_LEN + 1];
			show_resolve_blob(home, &ev, &content, hex);
			fdview_apply(view, &ev, &fn);
			print_event(&ev, si->pid, key, &fn, hex[0] ? hex : NULL, json);
			free(content);
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
	printf("stored     %s sealed, %s of payload, %u chunk%s\n",
	       cli_bytes(at_trace_file_size(t), size, sizeof size),
	       cli_bytes((uint64_t)json_integer_value(json_object_get(meta, "payload_bytes")),
	                 payload, sizeof payload),
	       at_trace_chunk_count(t), at_trace_chunk_count(t) == 1 ? "" : "s");
	json_t *reason = json_object_get(meta, "incomplete_reason");
	printf("complete   %s%s\n", json_is_string(reason) ? "no: " : "yes",
	       json_is_string(reason) ? json_string_value(reason) : "");
	if (!json_is_true(json_object_get(meta, "aslr_disabled")))
		printf("note       address randomisation could not be turned off when recording\n");
}

int cmd_show(int argc, char **argv)
{
	int events = 0, json = 0;
	const char *ref = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--events")) {
			events = 1;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
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
	if (!rc && events) {
		rc = show_events(t, id, at_store_home(s), tree, json);
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
