/* agenttrace list [-q] [--json]: the traces in the store, newest first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

static const char usage[] = "usage: agenttrace list [-q] [--json]\n"
                            "\n"
                            "Lists the traces in the store, newest first.\n"
                            "  -q       ids only, one per line\n"
                            "  --json   a JSON array with one object per trace\n";

static uint64_t start_of(const struct trace_summary *t)
{
	return (uint64_t)json_integer_value(json_object_get(t->meta, "start_ns"));
}

static int newest_first(const void *a, const void *b)
{
	uint64_t x = start_of(a), y = start_of(b);
	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(((const struct trace_summary *)a)->id, ((const struct trace_summary *)b)->id);
}

static json_t *as_json(const struct trace_summary *t)
{
	json_t *o = json_pack("{s:s, s:s}", "id", t->id, "state", summary_state_name(t->state));
	if (t->meta) {
		static const char *const keys[] = {"name",     "argv",     "cwd",
		                                   "start_ns", "end_ns",   "exit",
		                                   "events",   "families", "complete"};
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			json_t *v = json_object_get(t->meta, keys[i]);
			if (v)
				json_object_set(o, keys[i], v);
		}
		if (t->state == STATE_SEALED)
			json_object_set_new(o, "sealed_bytes",
			                    json_integer((json_int_t)t->sealed_bytes));
	} else {
		json_object_set_new(o, "problem", json_string(t->problem));
	}
	return o;
}

static void print_row(const struct trace_summary *t)
{
	char when[32] = "-", status[64] = "-", cmd[512] = "", events[32] = "-";
	const char *name = t->meta ? json_string_value(json_object_get(t->meta, "name")) : NULL;
	if (t->meta) {
		cli_time(start_of(t), when, sizeof when);
		cli_command_line(t->meta, cmd, sizeof cmd);
		if (t->state == STATE_SEALED) {
			cli_describe_status(t->meta, status, sizeof status);
			snprintf(events, sizeof events, "%" JSON_INTEGER_FORMAT,
			         json_integer_value(json_object_get(t->meta, "events")));
		} else {
			snprintf(status, sizeof status, "%s", summary_state_name(t->state));
		}
	} else {
		snprintf(status, sizeof status, "damaged");
		snprintf(cmd, sizeof cmd, "(%s)", t->problem);
	}
	printf("%-14s %-12s %-19s  %-16s %8s  %s\n", t->id, name ? name : "-", when, status, events,
	       cmd);
}

int cmd_list(int argc, char **argv)
{
	int quiet = 0, json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-q")) {
			quiet = 1;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			cli_error("list: unknown argument '%s'\n%s", argv[i], usage);
			return AT_EXIT_USAGE;
		}
	}
	at_store *s;
	int rc = cli_open_store(&s);
	if (rc)
		return rc;
	char **ids;
	size_t n;
	if ((rc = at_store_ids(s, &ids, &n))) {
		cli_error("cannot read the trace store %s", at_store_home(s));
		at_store_close(s);
		return cli_exit_for(rc);
	}
	struct trace_summary *v = calloc(n + 1, sizeof *v);
	if (!v) {
		at_store_free_ids(ids, n);
		at_store_close(s);
		return AT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < n; i++)
		summary_load(s, ids[i], &v[i]);
	qsort(v, n, sizeof *v, newest_first);

	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, as_json(&v[i]));
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(a);
	} else if (quiet) {
		for (size_t i = 0; i < n; i++)
			puts(v[i].id);
	} else if (n) {
		printf("%-14s %-12s %-19s  %-16s %8s  %s\n", "ID", "NAME", "STARTED", "STATUS",
		       "EVENTS", "COMMAND");
		for (size_t i = 0; i < n; i++)
			print_row(&v[i]);
	} else {
		fprintf(stderr,
		        "agenttrace: no traces yet in %s; record one with 'agenttrace record "
		        "-- PROGRAM'\n",
		        at_store_home(s));
	}
	for (size_t i = 0; i < n; i++)
		summary_free(&v[i]);
	free(v);
	at_store_free_ids(ids, n);
	at_store_close(s);
	return 0;
}
