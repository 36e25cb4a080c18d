/* The process tree for show (procview.h). */
#include "procview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/proc.h"
#include "cli.h"
#include "show.h"

/* How a process ended, as meta writes it: {"code": N} or {"signal": N}, null if unknown. */
static json_t *exit_of(json_t *meta_exit)
{
	json_t *sig = json_object_get(meta_exit, "signal"),
	       *code = json_object_get(meta_exit, "code");
	if (json_is_integer(sig))
		return json_pack("{s:O}", "signal", sig);
	if (json_is_integer(code))
		return json_pack("{s:O}", "code", code);
	return json_null();
}

static void stream_key(const struct at_stream_info *si, char *out, size_t cap)
{
	if (si->flags & AT_STREAM_ROOT)
		snprintf(out, cap, "%s", AT_PROC_ROOT_KEY);
	else
		snprintf(out, cap, "?%d", si->pid);
}

/* The tree of a trace sealed before meta had one: what the stream table says. */
static json_t *tree_from_streams(at_trace *t, json_t *meta)
{
	unsigned n = at_trace_stream_count(t);
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++) {
		const struct at_stream_info *si = at_trace_stream(t, i);
		int root = (si->flags & AT_STREAM_ROOT) != 0;
		char key[32], parent[32] = "";
		stream_key(si, key, sizeof key);
		for (unsigned k = 0; !root && k < n && !parent[0]; k++)
			if (k != i && at_trace_stream(t, k)->pid == si->ppid)
				stream_key(at_trace_stream(t, k), parent, sizeof parent);
		json_t *threads = json_array();
		json_array_append_new(
		    threads, json_pack("{s:i, s:i, s:n}", "thread", 0, "tid", si->pid, "parent"));
		for (uint32_t k = 1; k < si->threads; k++)
			json_array_append_new(threads, json_pack("{s:I, s:n, s:n}", "thread",
			                                         (json_int_t)k, "tid", "parent"));
		json_t *argv = json_object_get(meta, "argv");
		json_array_append_new(
		    a, json_pack("{s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:b}", "key", key,
		                 "stream", (int)i, "pid", si->pid, "ppid", si->ppid, "parent",
		                 parent[0] ? json_string(parent) : json_null(), "argv",
		                 root && argv ? json_deep_copy(argv) : json_null(), "exit",
		                 root ? exit_of(json_object_get(meta, "exit")) : json_null(),
		                 "threads", threads, "incomplete",
		                 (si->flags & AT_STREAM_INCOMPLETE) != 0));
	}
	return a;
}

json_t *procview_tree(at_trace *t, json_t *meta)
{
	json_t *tree = json_object_get(meta, "tree");
	return json_is_array(tree) ? json_incref(tree) : tree_from_streams(t, meta);
}

static const char *key_of(json_t *node)
{
	const char *k = json_string_value(json_object_get(node, "key"));
	return k ? k : "?";
}

const char *procview_key(json_t *tree, unsigned stream)
{
	json_t *n = json_array_get(tree, stream);
	size_t i;
	if (json_integer_value(json_object_get(n, "stream")) == (json_int_t)stream)
		return key_of(n);
	json_array_foreach(tree, i, n)
	{
		if (json_integer_value(json_object_get(n, "stream")) == (json_int_t)stream)
			return key_of(n);
	}
	return "?";
}

/* --- printing ------------------------------------------------------------------------ */

struct pnode {
	json_t *o;
	const char *key;
	long parent; /* index, -1: a top of the tree */
	size_t *children, nchildren;
	int printed;
};

static int by_key(const void *a, const void *b, void *nodes)
{
	const struct pnode *v = nodes;
	return strcmp(v[*(const size_t *)a].key, v[*(const size_t *)b].key);
}

/* The node with `key`, or -1. */
static long find(const struct pnode *v, const size_t *sorted, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[sorted[mid]].key, key);
		if (c == 0)
			return (long)sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Children in the order their parent made them: by their keys' last part ("1.10" after
 * "1.9"), those without one (keys "?<pid>") after, in stream order. */
static int by_birth(const void *a, const void *b, void *nodes)
{
	const struct pnode *v = nodes;
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	const char *x = strrchr(v[i].key, '.'), *y = strrchr(v[k].key, '.');
	unsigned long long nx = x ? strtoull(x + 1, NULL, 10) : 0,
	                   ny = y ? strtoull(y + 1, NULL, 10) : 0;
	if (!x != !y)
		return x ? -1 : 1;
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return (i > k) - (i < k);
}

static const char *status_text(json_t *exit, char *out, size_t cap)
{
	char sig[24];
	json_t *code = json_object_get(exit, "code"), *signal = json_object_get(exit, "signal");
	if (json_is_integer(code))
		snprintf(out, cap, "exit %" JSON_INTEGER_FORMAT, json_integer_value(code));
	else if (json_is_integer(signal))
		snprintf(out, cap, "killed by %s",
		         at_signal_name((int)json_integer_value(signal), sig, sizeof sig));
	else
		snprintf(out, cap, "?");
	return out;
}

static void print_threads(json_t *threads, int indent)
{
	size_t i, n = json_array_size(threads);
	json_t *th;
	json_array_foreach(threads, i, th)
	{
		if (i == PROCVIEW_MAX_THREADS) {
			printf("%*s(%zu more threads)\n", indent, "", n - i);
			break;
		}
		char tid[24] = "?", by[48] = "";
		json_t *t = json_object_get(th, "tid"), *parent = json_object_get(th, "parent");
		json_int_t number = json_integer_value(json_object_get(th, "thread"));
		if (json_is_integer(t))
			snprintf(tid, sizeof tid, "%" JSON_INTEGER_FORMAT, json_integer_value(t));
		if (number == 0)
			snprintf(by, sizeof by, "main thread");
		else if (json_is_integer(parent))
			snprintf(by, sizeof by, "created by thread %" JSON_INTEGER_FORMAT,
			         json_integer_value(parent));
		printf("%*sthread %-4" JSON_INTEGER_FORMAT " tid %-8s %s\n", indent, "", number,
		       tid, by);
	}
}

/* Depths beyond this are printed at this one: a line stays readable. */
#define MAX_INDENT_DEPTH 12

static void print_line(const struct pnode *n, int depth)
{
	char cmd[2048], shown[128], status[64];
	json_t *o = n->o, *argv = json_object_get(o, "argv");
	json_t *threads = json_object_get(o, "threads");
	json_t *wrap = json_pack("{s:O}", "argv", argv ? argv : json_null());
	int indent = 2 + 2 * (depth < MAX_INDENT_DEPTH ? depth : MAX_INDENT_DEPTH);
	int width = 16 - indent > (int)strlen(n->key) ? 16 - indent : (int)strlen(n->key);
	size_t nthreads = json_array_size(threads);
	printf("%*s%-*s  pid %-8" JSON_INTEGER_FORMAT " %-40s  %-20s %zu thread%s%s\n", indent, "",
	       width, n->key, json_integer_value(json_object_get(o, "pid")),
	       json_is_array(argv) ? show_printable(cli_command_line(wrap, cmd, sizeof cmd), 40,
	                                            shown, sizeof shown)
	                           : "?",
	       status_text(json_object_get(o, "exit"), status, sizeof status), nthreads,
	       nthreads == 1 ? "" : "s",
	       json_is_true(json_object_get(o, "incomplete")) ? "  (incomplete)" : "");
	json_decref(wrap);
	if (nthreads > 1)
		print_threads(threads, indent + 4);
}

/* A small frame per level: trees made from ppids (old traces) can be deep. */
static void print_node(struct pnode *v, size_t i, int depth)
{
	v[i].printed = 1;
	print_line(&v[i], depth);
	for (size_t k = 0; k < v[i].nchildren; k++)
		if (!v[v[i].children[k]].printed)
			print_node(v, v[i].children[k], depth + 1);
}

void procview_print(json_t *tree)
{
	size_t n = json_array_size(tree);
	if (!n)
		return;
	struct pnode *v = calloc(n, sizeof *v);
	size_t *sorted = calloc(2 * n, sizeof *sorted), *kids = sorted + n;
	if (!v || !sorted) {
		free(v);
		free(sorted);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].o = json_array_get(tree, i);
		v[i].key = key_of(v[i].o);
		sorted[i] = i;
	}
	qsort_r(sorted, n, sizeof *sorted, by_key, v);
	for (size_t i = 0; i < n; i++) {
		const char *p = json_string_value(json_object_get(v[i].o, "parent"));
		v[i].parent = p ? find(v, sorted, n, p) : -1;
		if (v[i].parent == (long)i)
			v[i].parent = -1;
		if (v[i].parent >= 0)
			v[v[i].parent].nchildren++;
	}
	/* Each node's children, side by side in `kids`. */
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].children = kids + at;
		at += v[i].nchildren;
		v[i].nchildren = 0;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].parent >= 0) {
			struct pnode *p = &v[v[i].parent];
			p->children[p->nchildren++] = i;
		}
	for (size_t i = 0; i < n; i++)
		qsort_r(v[i].children, v[i].nchildren, sizeof *kids, by_birth, v);
	printf("processes\n");
	for (size_t i = 0; i < n; i++)
		if (v[i].parent < 0)
			print_node(v, i, 0);
	for (size_t i = 0; i < n; i++) /* in a loop of parents, which no tree has */
		if (!v[i].printed)
			print_node(v, i, 0);
	free(sorted);
	free(v);
}
