/* agenttrace show <id> --step N: the world of a process at step N (core/world.c), from the
 * nearest keyframe at or before N and the events after it, and the events around N. */
#include "show_step.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "agenttrace/world.h"
#include "cli.h"
#include "procview.h"

#define AROUND 5 /* events shown before and after the step */

static int show_step_stream(at_trace *t, json_t *tree, const char *key, unsigned *stream)
{
	for (unsigned s = 0; s < at_trace_stream_count(t); s++) {
		const char *k = procview_key(tree, s);
		if (key ? (k && !strcmp(k, key))
		        : (at_trace_stream(t, s)->flags & AT_STREAM_ROOT)) {
			*stream = s;
			return 0;
		}
	}
	return -1;
}

static const char *clock_text(int64_t ns, char *out, size_t cap)
{
	snprintf(out, cap, "%" PRId64 ".%09" PRId64, ns / 1000000000, ns % 1000000000);
	return out;
}

static void print_world(json_t *world, const char *key)
{
	json_t *v;
	size_t i;
	char text[300];
	printf("descriptors\n");
	json_array_foreach(json_object_get(world, "descriptors"), i, v)
	{
		const char *kind = json_string_value(json_object_get(v, "kind"));
		const char *path = json_string_value(json_object_get(v, "path"));
		const char *peer = json_string_value(json_object_get(v, "peer"));
		int fd = (int)json_integer_value(json_object_get(v, "fd"));
		if (!strcmp(kind, "std") && !path)
			path = fd == 0   ? "<stdin>"
			       : fd == 1 ? "<stdout>"
			       : fd == 2 ? "<stderr>"
			                 : "";
		printf("  %4d  %-9s %s", fd, kind,
		       show_printable(path   ? path
		                      : peer ? peer
		                             : "",
		                      80, text, sizeof text));
		if (!strcmp(kind, "file") || !strcmp(kind, "directory"))
			printf("  offset %" JSON_INTEGER_FORMAT,
			       json_integer_value(json_object_get(v, "offset")));
		printf("  (since step %" JSON_INTEGER_FORMAT ")\n",
		       json_integer_value(json_object_get(v, "since")));
	}
	if (json_array_size(json_object_get(world, "files")))
		printf("files written\n");
	json_array_foreach(json_object_get(world, "files"), i, v)
	{
		const char *hash = json_string_value(json_object_get(v, "sha256"));
		printf("  %s  %" JSON_INTEGER_FORMAT " bytes%s%.16s%s, %" JSON_INTEGER_FORMAT
		       " write%s since step %" JSON_INTEGER_FORMAT "%s\n",
		       show_printable(json_string_value(json_object_get(v, "path")), 80, text,
		                      sizeof text),
		       json_integer_value(json_object_get(v, "size")), hash ? "  sha256 " : "",
		       hash ? hash : "", hash ? "..." : "  (content not kept)",
		       json_integer_value(json_object_get(v, "writes")),
		       json_integer_value(json_object_get(v, "writes")) == 1 ? "" : "s",
		       json_integer_value(json_object_get(v, "since")),
		       json_is_true(json_object_get(v, "removed")) ? ", removed since" : "");
	}
	if (json_array_size(json_object_get(world, "clocks")))
		printf("clocks (last value read)\n");
	json_array_foreach(json_object_get(world, "clocks"), i, v)
	    printf("  %-24s %s  (step %" JSON_INTEGER_FORMAT ")\n",
	           json_string_value(json_object_get(v, "clock")),
	           clock_text(json_integer_value(json_object_get(v, "ns")), text, sizeof text),
	           json_integer_value(json_object_get(v, "step")));
	printf("threads\n");
	json_array_foreach(json_object_get(world, "threads"), i, v)
	    printf("  t%-4" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT
	           " events so far, the last at step %" JSON_INTEGER_FORMAT "\n",
	           json_integer_value(json_object_get(v, "thread")),
	           json_integer_value(json_object_get(v, "events")),
	           json_integer_value(json_object_get(v, "last_step")));
	if (json_array_size(json_object_get(world, "children")))
		printf("children made\n");
	json_array_foreach(json_object_get(world, "children"), i, v)
	    printf("  %s.%" JSON_INTEGER_FORMAT "  pid %" JSON_INTEGER_FORMAT
	           "  %s at step %" JSON_INTEGER_FORMAT "\n",
	           key, json_integer_value(json_object_get(v, "number")),
	           json_integer_value(json_object_get(v, "pid")),
	           json_string_value(json_object_get(v, "call")),
	           json_integer_value(json_object_get(v, "step")));
}

/* The events from step - AROUND to step + AROUND, as `show --events` shows them (with the
 * file view from the keyframe before the first): lines, or JSON objects into `out`. */
static int around(at_trace *t, const char *id, unsigned stream, const char *key, uint64_t step,
                  const char *home, json_t *out)
{
	at_trace_iter *it = NULL;
	at_event ev;
	struct fdview view;
	uint64_t from = step > AROUND ? step - AROUND : 0;
	int rc = fdview_init(&view);
	if (!rc)
		rc = fdview_seek(&view, t, id, stream, from);
	if (!rc)
		rc = at_trace_iter_open(t, stream, from, &it);
	if (!out && !rc)
		printf("events around step %" PRIu64 "\n", step);
	while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1 && ev.seq <= step + AROUND) {
		rc = 0;
		void *content = NULL;
		char hex[2 * AT_BLOB_ID_LEN + 1];
		struct fdview_note fn;
		show_resolve_blob(home, &ev, &content, hex);
		fdview_apply(&view, &ev, &fn);
		if (out)
			json_array_append_new(out,
			                      show_event_json(&ev, at_trace_stream(t, stream)->pid,
			                                      key, &fn, hex[0] ? hex : NULL));
		else
			show_event_line(ev.seq == step ? "> " : "  ", &ev, &fn);
		free(content);
	}
	at_trace_iter_close(it);
	fdview_free(&view);
	return rc < 0 ? rc : 0;
}

int show_step(at_trace *t, const char *id, const char *home, json_t *tree, const char *key,
              uint64_t step, int keyframes, int json)
{
	unsigned stream;
	if (show_step_stream(t, tree, key, &stream)) {
		cli_error("trace %s has no process %s; see its processes with 'agenttrace show %s'",
		          id, key ? key : "1", id);
		return AT_EXIT_NOSTEP;
	}
	const char *k = procview_key(tree, stream);
	uint64_t events = at_trace_stream(t, stream)->events;
	if (step > events) {
		cli_error("step %" PRIu64
		          " is past the end of process %s of trace %s: it has %" PRIu64
		          " events (steps 0 to %" PRIu64 "); see 'agenttrace show %s --events'",
		          step, k, id, events, events ? events - 1 : 0, id);
		return AT_EXIT_NOSTEP;
	}
	at_world *w = at_world_new();
	if (!w)
		return AT_EXIT_INTERNAL;
	uint64_t kf_step = 0;
	struct cli_keyframe_ctx kc = {t, id, k};
	int rc = keyframes ? at_world_seek(t, stream, step, &w, &kf_step, cli_keyframe_damaged, &kc)
	                   : at_world_follow(t, stream, step, w);
	json_t *world = rc || !w ? NULL : at_world_json(w);
	at_world_free(w);
	if (rc || !world) {
		json_decref(world);
		cli_error("trace %s is damaged: %s; run 'agenttrace verify %s'", id,
		          at_trace_last_problem(t)->what, id);
		return rc ? cli_exit_for(rc) : AT_EXIT_INTERNAL;
	}
	const struct at_stream_info *si = at_trace_stream(t, stream);
	if (json) {
		json_t *near = json_array();
		json_t *o =
		    json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:o}", "trace", id, "process", k,
		              "pid", si->pid, "step", (json_int_t)step, "events",
		              (json_int_t)events, "keyframe", (json_int_t)kf_step, "world", world);
		rc = around(t, id, stream, k, step, home, near);
		json_object_set_new(o, "around", near);
		if (!rc) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(o);
	} else {
		printf("trace %s, process %s (pid %d), just before step %" PRIu64 " of %" PRIu64
		       " (from the keyframe at step %" PRIu64 " and %" PRIu64 " events after it)\n",
		       id, k, si->pid, step, events, kf_step, step - kf_step);
		print_world(world, k);
		json_decref(world);
		rc = around(t, id, stream, k, step, home, NULL);
	}
	if (rc) {
		cli_error("trace %s is damaged: %s; run 'agenttrace verify %s'", id,
		          at_trace_last_problem(t)->what, id);
		return cli_exit_for(rc);
	}
	return 0;
}
