/* The process tree the sealer writes into meta "tree" (docs/format.md), gathered from the
 * process family's events as they stream past (see seal_tree.h): per stream, the arguments
 * of each program image it ran, the children it made and reaped, and its threads. A few
 * bytes per process and thread, never the events themselves; it never reads the raw logs
 * or writes the trace: seal.c hands it the headers and events. */
#include "seal_tree_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agenttrace/errors.h"
#include "agenttrace/mask.h"
#include "agenttrace/proc.h"

/* Thread numbers above this are taken for damage and left out of the tree. */
#define TREE_MAX_THREADS (1u << 20)

struct tree_thread {
	int32_t tid;    /* 0: not known (it never made its first event) */
	int32_t parent; /* the thread whose pthread_create made it; -1: not known */
	uint8_t seen;
	uint8_t failed; /* its pthread_create failed */
};

struct tree_child {      /* a child the process made */
	uint64_t number; /* the making call's arg0: the last part of the child's key */
	int32_t pid;
	int32_t fd;     /* popen: the pipe, which pclose names; else -1 */
	uint32_t image; /* images the process had started by then (its argv then) */
};

struct tree_reap { /* a child the process reaped */
	int32_t pid;
	int32_t status; /* a wait status word */
};

struct tree_argv {
	uint8_t *p; /* the image event's payload: each argument NUL-terminated */
	uint32_t len;
};

struct at_seal_tree_node {
	char key[AT_PROC_KEY_MAX];
	int32_t pid, ppid;
	int root, incomplete;
	struct tree_argv *images;
	size_t nimages, images_cap;
	struct tree_thread *threads; /* indexed by thread number */
	size_t nthreads, threads_cap;
	struct tree_child *children;
	size_t nchildren, children_cap;
	struct tree_reap *reaps;
	size_t nreaps, reaps_cap;
	/* Worked out at the end. */
	long parent; /* node index, -1: none */
	int has_exit;
	int32_t exit_status;
	int argv_busy; /* guards inherited_argv against a loop of parents */
};

/* Room for `need` elements of `size` bytes at *v, new ones zeroed. 0 or AT_ENOMEM (*v is
 * then left as it was). */
static int tree_grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4;
	while (n < need)
		n *= 2;
	uint8_t *nv = realloc(*v, n * size);
	if (!nv)
		return AT_ENOMEM;
	memset(nv + *cap * size, 0, (n - *cap) * size);
	*v = nv;
	*cap = n;
	return 0;
}
#define TREE_GROW(arr, cap, need) tree_grow((void **)&(arr), &(cap), (need), sizeof *(arr))

void at_seal_tree_reset(struct at_seal_tree *t)
{
	for (size_t i = 0; i < t->count; i++) {
		struct at_seal_tree_node *n = &t->nodes[i];
		for (size_t k = 0; k < n->nimages; k++)
			free(n->images[k].p);
		free(n->images);
		free(n->threads);
		free(n->children);
		free(n->reaps);
	}
	free(t->nodes);
	memset(t, 0, sizeof *t);
}

static void tree_header(struct at_seal_tree_node *n, const struct at_rawlog_header *h)
{
	memcpy(n->key, h->key, sizeof n->key);
	n->key[sizeof n->key - 1] = '\0';
	n->pid = h->pid;
	n->ppid = h->ppid;
}

int at_seal_tree_begin(struct at_seal_tree *t, const struct at_rawlog_header *h, int root)
{
	if (TREE_GROW(t->nodes, t->cap, t->count + 1))
		return AT_ENOMEM;
	struct at_seal_tree_node *n = &t->nodes[t->count++];
	memset(n, 0, sizeof *n);
	tree_header(n, h);
	n->root = root;
	return 0;
}

/* Thread `number`'s entry (NULL with 0 for a number taken for damage). */
static int tree_thread(struct at_seal_tree_node *n, uint64_t number, struct tree_thread **out)
{
	*out = NULL;
	if (number >= TREE_MAX_THREADS)
		return 0;
	if (number >= n->nthreads) {
		if (TREE_GROW(n->threads, n->threads_cap, number + 1))
			return AT_ENOMEM;
		for (size_t k = n->nthreads; k <= number; k++)
			n->threads[k].parent = -1;
		n->nthreads = number + 1;
	}
	*out = &n->threads[number];
	return 0;
}

static int tree_child(struct at_seal_tree_node *n, uint64_t number, int32_t pid, int32_t fd)
{
	if (TREE_GROW(n->children, n->children_cap, n->nchildren + 1))
		return AT_ENOMEM;
	n->children[n->nchildren++] = (struct tree_child){
	    .number = number, .pid = pid, .fd = fd, .image = (uint32_t)n->nimages};
	return 0;
}

static int tree_reap(struct at_seal_tree_node *n, int32_t pid, int32_t status)
{
	if (pid <= 0)
		return 0;
	if (TREE_GROW(n->reaps, n->reaps_cap, n->nreaps + 1))
		return AT_ENOMEM;
	n->reaps[n->nreaps++] = (struct tree_reap){.pid = pid, .status = status};
	return 0;
}

static int tree_image(struct at_seal_tree_node *n, const at_event *ev)
{
	if (TREE_GROW(n->images, n->images_cap, n->nimages + 1))
		return AT_ENOMEM;
	struct tree_argv *a = &n->images[n->nimages];
	if (ev->len && !(a->p = malloc(ev->len)))
		return AT_ENOMEM;
	if (ev->len)
		memcpy(a->p, ev->payload, ev->len);
	a->len = ev->len;
	n->nimages++;
	return 0;
}

/* The child's pid that posix_spawn, system, popen and pclose store first in their payload. */
static int32_t payload_pid(const at_event *ev)
{
	int32_t pid = 0;
	if (ev->len >= sizeof pid && !(ev->flags & AT_EVF_BLOB))
		memcpy(&pid, ev->payload, sizeof pid);
	return pid;
}

/* The child that popen made with pipe `fd`, for a pclose that does not name it. */
static int32_t popen_pid(const struct at_seal_tree_node *n, int32_t fd)
{
	for (size_t k = n->nchildren; fd >= 0 && k-- > 0;)
		if (n->children[k].fd == fd)
			return n->children[k].pid;
	return 0;
}

/* waitid's answer as the status word the other waits give. */
static int32_t siginfo_status(const struct at_siginfo *si)
{
	switch (si->code) {
	case CLD_EXITED: return (si->status & 0xff) << 8;
	case CLD_KILLED: return si->status & 0x7f;
	case CLD_DUMPED: return (si->status & 0x7f) | 0x80;
	default: return -1; /* stopped or continued: not an end */
	}
}

/* Takes in what a process family event says about the tree. */
static int tree_note(struct at_seal_tree_node *n, const at_event *ev)
{
	struct tree_thread *t;
	int32_t pid;
	int rc;
	switch (ev->call) {
	case AT_CALL_image: return tree_image(n, ev);
	case AT_CALL_fork:
	case AT_CALL_vfork: return ev->ret > 0 ? tree_child(n, ev->arg0, (int32_t)ev->ret, -1) : 0;
	case AT_CALL_posix_spawn:
	case AT_CALL_posix_spawnp:
		pid = payload_pid(ev);
		return ev->ret == 0 && pid > 0 ? tree_child(n, ev->arg0, pid, -1) : 0;
	case AT_CALL_popen:
		pid = payload_pid(ev);
		return pid > 0
		           ? tree_child(n, ev->arg0, pid, ev->fd != -1 ? ev->fd : (int32_t)ev->ret)
		           : 0;
	case AT_CALL_system:
		if ((pid = payload_pid(ev)) <= 0)
			return 0;
		rc = tree_child(n, ev->arg0, pid, -1);
		return rc || ev->ret == -1 ? rc : tree_reap(n, pid, (int32_t)ev->ret);
	case AT_CALL_pclose:
		if (ev->ret == -1)
			return 0;
		pid = payload_pid(ev);
		return tree_reap(n, pid > 0 ? pid : popen_pid(n, ev->fd), (int32_t)ev->ret);
	case AT_CALL_wait:
	case AT_CALL_waitpid:
	case AT_CALL_wait3:
	case AT_CALL_wait4: {
		struct at_wait_result w;
		if (ev->ret <= 0 || ev->len < sizeof w)
			return 0;
		memcpy(&w, ev->payload, sizeof w);
		return WIFEXITED(w.status) || WIFSIGNALED(w.status)
		           ? tree_reap(n, (int32_t)ev->ret, w.status)
		           : 0;
	}
	case AT_CALL_waitid: {
		struct at_siginfo si;
		if (ev->ret != 0 || ev->len < sizeof si)
			return 0;
		memcpy(&si, ev->payload, sizeof si);
		int32_t status = siginfo_status(&si);
		return status >= 0 ? tree_reap(n, si.pid, status) : 0;
	}
	case AT_CALL_pthread_create:
		if ((rc = tree_thread(n, ev->arg0, &t)) || !t)
			return rc;
		if (ev->ret == 0) {
			t->seen = 1;
			t->parent = (int32_t)ev->thread;
		} else {
			t->failed = 1;
		}
		return 0;
	case AT_CALL_thread_start:
		if ((rc = tree_thread(n, ev->thread, &t)) || !t)
			return rc;
		t->seen = 1;
		t->tid = (int32_t)ev->ret;
		return 0;
	default: return 0;
	}
}

/* Per event: the process family's calls, and threads that appear without a thread_start
 * (recorded before there was one): cheap tests, on the sealer's hot path. */
int at_seal_tree_event(struct at_seal_tree *t, size_t node, const at_event *ev)
{
	struct at_seal_tree_node *n = &t->nodes[node];
	int rc = 0;
	if (ev->call >= AT_CALL_fork && ev->call <= AT_CALL_thread_start)
		rc = tree_note(n, ev);
	if (!rc && ev->thread && (ev->thread >= n->nthreads || !n->threads[ev->thread].seen)) {
		struct tree_thread *th;
		if (!(rc = tree_thread(n, ev->thread, &th)) && th)
			th->seen = 1;
	}
	return rc;
}

void at_seal_tree_end(struct at_seal_tree *t, size_t node, const struct at_rawlog_header *h,
                      int incomplete)
{
	struct at_seal_tree_node *n = &t->nodes[node];
	tree_header(n, h); /* the key, should it have been learnt after the header was read */
	n->incomplete = incomplete;
}

/* A string as JSON: text when it is valid UTF-8, else {"hex": "..."} (as meta's argv). */
static json_t *text_or_hex(const uint8_t *p, size_t len)
{
	json_t *s = json_stringn((const char *)p, len);
	if (s)
		return s;
	char *hex = malloc(2 * len + 1);
	if (!hex)
		return json_null();
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * len] = '\0';
	s = json_pack("{s:s}", "hex", hex);
	free(hex);
	return s ? s : json_null();
}

static json_t *argv_json(const struct tree_argv *a)
{
	json_t *v = json_array();
	for (size_t i = 0; i < a->len;) {
		const uint8_t *end = memchr(a->p + i, 0, a->len - i);
		size_t n = end ? (size_t)(end - (a->p + i)) : a->len - i;
		json_array_append_new(v, text_or_hex(a->p + i, n));
		i += n + 1;
	}
	return v;
}

/* The orders the nodes are looked up in (qsort_r): by key, or by pid; then by stream. */
static int by_stream(size_t a, size_t b)
{
	return (a > b) - (a < b);
}

static int by_key(const void *a, const void *b, void *tree)
{
	const struct at_seal_tree *t = tree;
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	int c = strcmp(t->nodes[i].key, t->nodes[k].key);
	return c ? c : by_stream(i, k);
}

static int by_pid(const void *a, const void *b, void *tree)
{
	const struct at_seal_tree *t = tree;
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	if (t->nodes[i].pid != t->nodes[k].pid)
		return t->nodes[i].pid < t->nodes[k].pid ? -1 : 1;
	return by_stream(i, k);
}

struct tree_index {
	const struct at_seal_tree *t;
	size_t *by_key, *by_pid; /* node indexes, sorted */
};

/* The first node (in stream order) with `key`, or -1. */
static long find_key(const struct tree_index *ix, const char *key, size_t len)
{
	size_t lo = 0, hi = ix->t->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *k = ix->t->nodes[ix->by_key[mid]].key;
		int c = strncmp(k, key, len);
		if (c == 0 && k[len])
			c = 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->t->count)
		return -1;
	const char *k = ix->t->nodes[ix->by_key[lo]].key;
	return strncmp(k, key, len) == 0 && !k[len] ? (long)ix->by_key[lo] : -1;
}

/* Where the nodes with `pid` start in by_pid. */
static size_t first_pid(const struct tree_index *ix, int32_t pid)
{
	size_t lo = 0, hi = ix->t->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ix->t->nodes[ix->by_pid[mid]].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Node i's parent: by its key ("1.2" is "1"'s), else the process that was its ppid. */
static long tree_parent(const struct tree_index *ix, size_t i)
{
	const struct at_seal_tree_node *n = &ix->t->nodes[i];
	if (n->key[0]) {
		const char *dot = strrchr(n->key, '.');
		return dot ? find_key(ix, n->key, (size_t)(dot - n->key)) : -1;
	}
	if (n->root)
		return -1;
	for (size_t k = first_pid(ix, n->ppid);
	     k < ix->t->count && ix->t->nodes[ix->by_pid[k]].pid == n->ppid; k++)
		if (ix->by_pid[k] != i)
			return (long)ix->by_pid[k];
	return -1;
}

/* How each child ended: its parent's wait (or pclose, system) that reaped its pid. */
static void tree_exits(struct tree_index *ix)
{
	struct at_seal_tree *t = (struct at_seal_tree *)ix->t;
	for (size_t p = 0; p < t->count; p++) {
		for (size_t r = 0; r < t->nodes[p].nreaps; r++) {
			const struct tree_reap *rp = &t->nodes[p].reaps[r];
			for (size_t k = first_pid(ix, rp->pid);
			     k < t->count && t->nodes[ix->by_pid[k]].pid == rp->pid; k++) {
				struct at_seal_tree_node *c = &t->nodes[ix->by_pid[k]];
				if (ix->by_pid[k] == p || c->has_exit || c->ppid != t->nodes[p].pid)
					continue;
				c->has_exit = 1;
				c->exit_status = rp->status;
				break;
			}
		}
	}
}

/* The record of node i in its parent's children: by its key's last part, else its pid. */
static const struct tree_child *child_record(const struct at_seal_tree *t, size_t i)
{
	const struct at_seal_tree_node *n = &t->nodes[i], *p = &t->nodes[n->parent];
	const char *dot = strrchr(n->key, '.');
	if (dot) {
		uint64_t number = strtoull(dot + 1, NULL, 10);
		if (number && number <= p->nchildren && p->children[number - 1].number == number)
			return &p->children[number - 1];
		for (size_t k = 0; k < p->nchildren; k++)
			if (p->children[k].number == number)
				return &p->children[k];
		return NULL;
	}
	for (size_t k = 0; k < p->nchildren; k++)
		if (p->children[k].pid == n->pid)
			return &p->children[k];
	return NULL;
}

/* Node i's arguments before its first image of its own: its parent's at the time it was
 * made (a fork child runs its parent's program), the root's from meta. */
static json_t *inherited_argv(struct at_seal_tree *t, size_t i, json_t *meta)
{
	struct at_seal_tree_node *n = &t->nodes[i];
	if (n->root)
		return json_is_array(json_object_get(meta, "argv"))
		           ? json_deep_copy(json_object_get(meta, "argv"))
		           : json_null();
	if (n->parent < 0 || n->argv_busy)
		return json_null();
	const struct tree_child *c = child_record(t, i);
	const struct at_seal_tree_node *p = &t->nodes[n->parent];
	size_t image = c ? c->image : p->nimages;
	if (image > 0)
		return argv_json(&p->images[image - 1]);
	n->argv_busy = 1;
	json_t *a = inherited_argv(t, (size_t)n->parent, meta);
	n->argv_busy = 0;
	return a;
}

static json_t *exit_json(int32_t status)
{
	if (WIFEXITED(status))
		return json_pack("{s:i}", "code", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return json_pack("{s:i}", "signal", WTERMSIG(status));
	return json_null();
}

/* The root's end, as `agenttrace record` saw it (meta "exit"). */
static json_t *root_exit_json(json_t *meta)
{
	json_t *e = json_object_get(meta, "exit");
	json_t *sig = json_object_get(e, "signal"), *code = json_object_get(e, "code");
	if (json_is_integer(sig))
		return json_pack("{s:I}", "signal", json_integer_value(sig));
	if (json_is_integer(code))
		return json_pack("{s:I}", "code", json_integer_value(code));
	return json_null();
}

static json_t *threads_json(const struct at_seal_tree_node *n)
{
	json_t *a = json_array();
	json_array_append_new(a,
	                      json_pack("{s:i, s:i, s:n}", "thread", 0, "tid", n->pid, "parent"));
	for (size_t k = 1; k < n->nthreads; k++) {
		const struct tree_thread *th = &n->threads[k];
		if (!th->seen || (th->failed && !th->tid))
			continue;
		json_array_append_new(
		    a, json_pack("{s:I, s:o, s:o}", "thread", (json_int_t)k, "tid",
		                 th->tid ? json_integer(th->tid) : json_null(), "parent",
		                 th->parent >= 0 ? json_integer(th->parent) : json_null()));
	}
	return a;
}

/* A node's key as the tree shows it: its own, "1" for the root, else "?<pid>". */
static void display_key(const struct at_seal_tree_node *n, char *out, size_t cap)
{
	if (n->key[0])
		snprintf(out, cap, "%s", n->key);
	else if (n->root)
		snprintf(out, cap, "%s", AT_PROC_ROOT_KEY);
	else
		snprintf(out, cap, "?%d", n->pid);
}

/* Masks header values in the arguments (`curl -H 'Authorization: ...'`), by the header
 * names in force when recording (meta "mask"), as record masks meta "argv": the tree's
 * arguments sit in meta, which is stored uncompressed. The preload masks the environment's
 * secret values in the image payloads it records; the names are all the sealer knows. */
static void mask_images(struct at_seal_tree *t, json_t *meta)
{
	json_t *mask = json_object_get(meta, "mask"), *name;
	size_t k;
	if (!json_is_true(json_object_get(mask, "enabled")))
		return;
	struct at_mask_rules *r = malloc(sizeof *r);
	if (!r)
		return;
	at_mask_rules_init(r, 0);
	json_array_foreach(json_object_get(mask, "headers"), k, name)
	{
		if (json_is_string(name))
			at_mask_add_header(r, json_string_value(name), json_string_length(name));
	}
	for (size_t i = 0; at_mask_active(r) && i < t->count; i++) {
		for (size_t m = 0; m < t->nodes[i].nimages; m++) {
			struct tree_argv *a = &t->nodes[i].images[m];
			for (size_t at = 0; at < a->len;) {
				const uint8_t *end = memchr(a->p + at, 0, a->len - at);
				size_t n = end ? (size_t)(end - (a->p + at)) : a->len - at;
				at_mask_buffer(r, a->p + at, n);
				at += n + 1;
			}
		}
	}
	free(r);
}

/* meta "tree": one object per stream, in stream order (docs/format.md). */
static json_t *tree_json(struct at_seal_tree *t, json_t *meta)
{
	size_t *order = malloc(2 * (t->count ? t->count : 1) * sizeof *order);
	if (!order)
		return NULL;
	struct tree_index ix = {t, order, order + t->count};
	for (size_t i = 0; i < t->count; i++)
		ix.by_key[i] = ix.by_pid[i] = i;
	qsort_r(ix.by_key, t->count, sizeof *order, by_key, t);
	qsort_r(ix.by_pid, t->count, sizeof *order, by_pid, t);
	for (size_t i = 0; i < t->count; i++)
		t->nodes[i].parent = tree_parent(&ix, i);
	tree_exits(&ix);
	free(order);
	mask_images(t, meta);

	json_t *a = json_array();
	for (size_t i = 0; a && i < t->count; i++) {
		struct at_seal_tree_node *n = &t->nodes[i];
		char key[AT_PROC_KEY_MAX + 16], parent[AT_PROC_KEY_MAX + 16] = "";
		display_key(n, key, sizeof key);
		const char *dot = strrchr(n->key, '.');
		if (dot) /* the key says it, whether the parent was recorded or not */
			snprintf(parent, sizeof parent, "%.*s", (int)(dot - n->key), n->key);
		else if (n->parent >= 0)
			display_key(&t->nodes[n->parent], parent, sizeof parent);
		json_t *o = json_pack(
		    "{s:s, s:I, s:i, s:i, s:o, s:o, s:o, s:o, s:b}", "key", key, "stream",
		    (json_int_t)i, "pid", n->pid, "ppid", n->ppid, "parent",
		    parent[0] ? json_string(parent) : json_null(), "argv",
		    n->nimages ? argv_json(&n->images[n->nimages - 1]) : inherited_argv(t, i, meta),
		    "exit",
		    n->root       ? root_exit_json(meta)
		    : n->has_exit ? exit_json(n->exit_status)
		                  : json_null(),
		    "threads", threads_json(n), "incomplete", n->incomplete);
		json_array_append_new(a, o ? o : json_null());
	}
	return a;
}

int at_seal_tree_finish(struct at_seal_tree *t, json_t *meta)
{
	json_t *tree = tree_json(t, meta);
	if (!tree)
		return AT_ENOMEM;
	json_object_set_new(meta, "tree", tree);
	return 0;
}
