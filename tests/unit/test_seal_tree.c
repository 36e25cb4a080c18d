/* Unit tests for the process tree the sealer writes into meta (core/seal_tree.c, meta "tree"):
 * raw logs of a small process family are written by hand, as the preload lays them out
 * (keys in the headers, image, fork, spawn, wait and thread events), then sealed, and the
 * tree is compared with what those events say. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"
#include "agenttrace/container.h"
#include "agenttrace/errors.h"
#include "agenttrace/proc.h"
#include "agenttrace/rawlog.h"
#include "agenttrace/seal.h"

#define LOG_SPACE (1u << 20)

static char run_dir[128], trace_path[128];

static void make_dirs(void)
{
	scratch_create("tree");
	snprintf(run_dir, sizeof run_dir, "%s/run", dir);
	snprintf(trace_path, sizeof trace_path, "%s/t.at", dir);
	cr_assert_eq(mkdir(run_dir, 0755), 0);
}

TestSuite(tree, .init = make_dirs, .fini = scratch_remove);

struct wlog {
	int fd;
	uint8_t *base;
	struct at_rawlog_header *h;
};

/* A log the size of LOG_SPACE from the start: these tests do not exercise growth. */
static void log_create(struct wlog *l, const char *key, int pid, int ppid, uint64_t start_ns)
{
	char path[256];
	snprintf(path, sizeof path, "%s/proc-%d-%llu.log", run_dir, pid,
	         (unsigned long long)start_ns);
	l->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(l->fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(ftruncate(l->fd, LOG_SPACE), 0);
	l->base = mmap(NULL, LOG_SPACE, PROT_READ | PROT_WRITE, MAP_SHARED, l->fd, 0);
	cr_assert_neq(l->base, MAP_FAILED);
	l->h = (struct at_rawlog_header *)l->base;
	*l->h = (struct at_rawlog_header){.version = AT_RAWLOG_VERSION,
	                                  .header_size = AT_RAWLOG_HEADER_SIZE,
	                                  .tail = AT_RAWLOG_HEADER_SIZE,
	                                  .allocated = LOG_SPACE,
	                                  .pid = pid,
	                                  .ppid = ppid,
	                                  .start_ns = start_ns,
	                                  .images = 1};
	memcpy(l->h->magic, AT_RAWLOG_MAGIC, 8);
	snprintf(l->h->key, sizeof l->h->key, "%s", key);
}

static void log_close(struct wlog *l)
{
	munmap(l->base, LOG_SPACE);
	close(l->fd);
}

static void put(struct wlog *l, at_event ev)
{
	if (!ev.fd)
		ev.fd = -1; /* events below leave fd out when there is none */
	uint64_t at = l->h->tail, end = at + at_rawrec_stride_for(&ev);
	cr_assert_leq(end, LOG_SPACE);
	l->h->tail = end;
	struct at_rawrec *r = (struct at_rawrec *)(l->base + at);
	at_rawrec_commit(r, at_rawrec_fill(r, &ev, 10));
}

/* An image event: the arguments given as one string with '|' between them. */
static void image(struct wlog *l, const char *args)
{
	uint8_t p[256];
	size_t n = strlen(args) + 1;
	memcpy(p, args, n);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '|')
			p[i] = 0;
	put(l, (at_event){.call = AT_CALL_image, .len = (uint32_t)n, .payload = p});
}

static void fork_event(struct wlog *l, uint32_t thread, uint64_t number, int pid)
{
	put(l, (at_event){.call = AT_CALL_fork, .thread = thread, .arg0 = number, .ret = pid});
}

/* posix_spawn, system, popen: the child's pid first in the payload. */
static void spawn_event(struct wlog *l, uint16_t call, uint64_t number, int pid, int64_t ret)
{
	int32_t p = pid;
	put(l,
	    (at_event){.call = call, .arg0 = number, .ret = ret, .len = 4, .payload = (void *)&p});
}

static void wait_event(struct wlog *l, uint16_t call, int pid, int status)
{
	struct at_wait_result w = {.status = status};
	put(l, (at_event){.call = call,
	                  .arg0 = (uint64_t)-1,
	                  .ret = pid,
	                  .len = sizeof w,
	                  .payload = (void *)&w});
}

static void waitid_event(struct wlog *l, int pid, int code, int status)
{
	struct at_siginfo si = {.signo = SIGCHLD, .code = code, .pid = pid, .status = status};
	put(l,
	    (at_event){.call = AT_CALL_waitid, .ret = 0, .len = sizeof si, .payload = (void *)&si});
}

static void thread_events(struct wlog *l, uint32_t creator, uint32_t number, int tid)
{
	put(l, (at_event){.call = AT_CALL_pthread_create, .thread = creator, .arg0 = number});
	put(l, (at_event){.call = AT_CALL_thread_start, .thread = number, .ret = tid});
	put(l, (at_event){.call = AT_CALL_getrandom, .thread = number, .ret = 0});
}

/* Seals the run directory (root pid 1000, meta "exit" and "mask" as given; NULL: none) and
 * returns meta "tree". */
static json_t *seal_tree_masked(json_t *exit, json_t *mask)
{
	json_t *meta = json_object();
	if (mask)
		json_object_set_new(meta, "mask", mask);
	json_object_set_new(meta, "argv", json_pack("[s, s]", "meta-argv", "x"));
	if (exit)
		json_object_set_new(meta, "exit", exit);
	struct at_seal_stats st;
	struct at_trace_problem pb = {0};
	int rc = at_seal(run_dir, 1000, NULL, meta, trace_path, &st, &pb);
	cr_assert_eq(rc, 0, "at_seal: %d %s", rc, pb.what);
	/* What the trace holds, not only what was handed back. */
	at_trace *t;
	cr_assert_eq(at_trace_open(trace_path, &t, &pb), 0, "%s", pb.what);
	json_t *stored = json_loads(at_trace_meta(t, NULL), 0, NULL);
	at_trace_close(t);
	json_decref(meta);
	cr_assert_not_null(stored);
	json_t *tree = json_incref(json_object_get(stored, "tree"));
	json_decref(stored);
	cr_assert(json_is_array(tree), "meta has no \"tree\" array");
	return tree;
}

static json_t *seal_tree(json_t *exit)
{
	return seal_tree_masked(exit, NULL);
}

static json_t *node(json_t *tree, const char *key)
{
	size_t i;
	json_t *n;
	json_array_foreach(tree, i, n)
	{
		if (!strcmp(json_string_value(json_object_get(n, "key")), key))
			return n;
	}
	cr_assert_fail("no process %s in the tree", key);
	return NULL;
}

static void expect_json(json_t *got, const char *want, const char *what)
{
	json_error_t err;
	json_t *w = json_loads(want, JSON_DECODE_ANY, &err);
	cr_assert_not_null(w, "bad expectation %s: %s", want, err.text);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	cr_expect(json_equal(got, w), "%s: got %s, want %s", what, g, want);
	free(g);
	json_decref(w);
}

Test(tree, keys_parents_argv_exits_and_threads)
{
	struct wlog root, c1, c2, c3, c21, anon;
	log_create(&root, "1", 1000, 999, 100);
	image(&root, "prog|a b");
	fork_event(&root, 0, 1, 1001); /* 1.1: a fork child that never execs */
	thread_events(&root, 0, 1, 1010);
	thread_events(&root, 1, 2, 1011);
	put(&root, (at_event){.call = AT_CALL_pthread_create, .arg0 = 3}); /* fails: */
	put(&root, (at_event){.call = AT_CALL_pthread_create, .arg0 = 3, .ret = 11});
	spawn_event(&root, AT_CALL_posix_spawnp, 2, 1002, 0); /* 1.2: ls */
	spawn_event(&root, AT_CALL_system, 3, 1003, 4 << 8);  /* 1.3: sh -c 'exit 4' */
	image(&root, "prog2");                                /* an exec */
	wait_event(&root, AT_CALL_waitpid, 1001, 3 << 8);
	wait_event(&root, AT_CALL_wait4, 1002, SIGKILL);
	fork_event(&root, 0, 4, 1005);
	wait_event(&root, AT_CALL_wait, 1005, 0x137f); /* stopped by SIGSTOP: not an end */
	log_create(&c1, "1.1", 1001, 1000, 110);
	put(&c1, (at_event){.call = AT_CALL_getrandom});
	log_create(&c2, "1.2", 1002, 1000, 120);
	image(&c2, "ls|/");
	fork_event(&c2, 0, 1, 1004); /* 1.2.1: runs ls's argv */
	waitid_event(&c2, 1004, CLD_EXITED, 7);
	log_create(&c21, "1.2.1", 1004, 1002, 130);
	put(&c21, (at_event){.call = AT_CALL_getrandom});
	log_create(&c3, "1.3", 1003, 1000, 125);
	image(&c3, "sh|-c|exit 4");
	log_create(&anon, "", 1005, 1000, 140); /* a key that could not be learnt */
	c3.h->flags |= AT_RAWLOG_INCOMPLETE;

	json_t *tree = seal_tree(json_pack("{s:i, s:b}", "signal", SIGTERM, "core_dumped", 0));
	cr_assert_eq(json_array_size(tree), 6);
	/* Stream order: the root, then by start time. */
	const char *order[] = {"1", "1.1", "1.2", "1.3", "1.2.1", "?1005"};
	for (size_t i = 0; i < 6; i++) {
		json_t *n = json_array_get(tree, i);
		cr_expect_str_eq(json_string_value(json_object_get(n, "key")), order[i]);
		cr_expect_eq(json_integer_value(json_object_get(n, "stream")), (json_int_t)i);
	}
	json_t *r = node(tree, "1");
	expect_json(json_object_get(r, "parent"), "null", "root's parent");
	expect_json(json_object_get(r, "argv"), "[\"prog2\"]", "root's argv: the last image");
	expect_json(json_object_get(r, "exit"), "{\"signal\": 15}", "root's exit");
	expect_json(json_object_get(r, "pid"), "1000", "root's pid");
	expect_json(json_object_get(r, "ppid"), "999", "root's ppid");
	expect_json(json_object_get(r, "threads"),
	            "[{\"thread\": 0, \"tid\": 1000, \"parent\": null},"
	            " {\"thread\": 1, \"tid\": 1010, \"parent\": 0},"
	            " {\"thread\": 2, \"tid\": 1011, \"parent\": 1}]",
	            "root's threads (3 failed to start)");
	expect_json(json_object_get(r, "incomplete"), "false", "root incomplete");

	json_t *n = node(tree, "1.1");
	expect_json(json_object_get(n, "parent"), "\"1\"", "1.1's parent");
	expect_json(json_object_get(n, "argv"), "[\"prog\", \"a b\"]",
	            "a fork child's argv: its parent's when it forked");
	expect_json(json_object_get(n, "exit"), "{\"code\": 3}", "1.1's exit");
	expect_json(json_object_get(n, "threads"),
	            "[{\"thread\": 0, \"tid\": 1001, \"parent\": null}]", "1.1's threads");

	n = node(tree, "1.2");
	expect_json(json_object_get(n, "argv"), "[\"ls\", \"/\"]", "1.2's argv");
	expect_json(json_object_get(n, "exit"), "{\"signal\": 9}", "1.2's exit");

	n = node(tree, "1.2.1");
	expect_json(json_object_get(n, "parent"), "\"1.2\"", "1.2.1's parent");
	expect_json(json_object_get(n, "argv"), "[\"ls\", \"/\"]", "1.2.1's argv");
	expect_json(json_object_get(n, "exit"), "{\"code\": 7}", "1.2.1's exit (waitid)");

	n = node(tree, "1.3");
	expect_json(json_object_get(n, "argv"), "[\"sh\", \"-c\", \"exit 4\"]", "1.3's argv");
	expect_json(json_object_get(n, "exit"), "{\"code\": 4}", "1.3's exit (system)");
	expect_json(json_object_get(n, "incomplete"), "true", "1.3 incomplete");

	n = node(tree, "?1005");
	expect_json(json_object_get(n, "parent"), "\"1\"", "parent found by ppid");
	expect_json(json_object_get(n, "argv"), "[\"prog2\"]", "argv of a child forked after exec");
	expect_json(json_object_get(n, "exit"), "null", "a child stopped, never reaped");
	json_decref(tree);
	struct wlog *all[] = {&root, &c1, &c2, &c3, &c21, &anon};
	for (size_t i = 0; i < 6; i++)
		log_close(all[i]);
}

Test(tree, a_child_is_matched_by_pid_and_parent)
{
	/* Two processes with pid 1001: the one the root reaped is the root's child, not the
	 * grandchild that reused the pid. */
	struct wlog root, a, b, other;
	log_create(&root, "1", 1000, 1, 100);
	fork_event(&root, 0, 1, 1001);
	fork_event(&root, 0, 2, 1002);
	log_create(&a, "1.2", 1002, 1000, 105);
	fork_event(&a, 0, 1, 1001);
	log_create(&other, "1.2.1", 1001, 1002, 110); /* started first, ppid 1002 */
	log_create(&b, "1.1", 1001, 1000, 120);
	wait_event(&root, AT_CALL_waitpid, 1001, 5 << 8);
	wait_event(&a, AT_CALL_waitpid, 1001, 6 << 8);
	json_t *tree = seal_tree(json_pack("{s:i}", "code", 0));
	expect_json(json_object_get(node(tree, "1"), "exit"), "{\"code\": 0}", "root's exit");
	expect_json(json_object_get(node(tree, "1.1"), "exit"), "{\"code\": 5}", "1.1's exit");
	expect_json(json_object_get(node(tree, "1.2.1"), "exit"), "{\"code\": 6}", "1.2.1's exit");
	expect_json(json_object_get(node(tree, "1.2"), "exit"), "null", "1.2 never reaped");
	expect_json(json_object_get(node(tree, "1"), "argv"), "[\"meta-argv\", \"x\"]",
	            "a root without image events: meta's argv");
	json_decref(tree);
	log_close(&root);
	log_close(&a);
	log_close(&b);
	log_close(&other);
}

Test(tree, pclose_and_an_unknown_exit)
{
	struct wlog root, child;
	log_create(&root, "1", 1000, 1, 100);
	image(&root, "p");
	put(&root, (at_event){.call = AT_CALL_popen,
	                      .arg0 = 1,
	                      .ret = 5,
	                      .fd = 5,
	                      .len = 4,
	                      .payload = (const uint8_t *)&(int32_t){1001}});
	put(&root, (at_event){.call = AT_CALL_pclose, .fd = 5, .ret = 2 << 8}); /* no pid in it */
	log_create(&child, "1.1", 1001, 1000, 110);
	image(&child, "sh|-c|exit 2");
	json_t *tree = seal_tree(NULL); /* agenttrace died: no meta exit */
	expect_json(json_object_get(node(tree, "1"), "exit"), "null", "root's exit unknown");
	expect_json(json_object_get(node(tree, "1.1"), "exit"), "{\"code\": 2}", "pclose");
	json_decref(tree);
	log_close(&root);
	log_close(&child);
}

Test(tree, live_sealing_gives_the_same_tree)
{
	/* The root's stream sealed along while it runs (at_sealer_pump), then finished: the
	 * tree is the one at_seal makes from the same logs. */
	struct wlog root, child;
	log_create(&root, "1", 1000, 1, 100);
	image(&root, "prog|x");
	at_sealer *s;
	char live_path[160];
	snprintf(live_path, sizeof live_path, "%s/live.at", dir);
	cr_assert_eq(at_sealer_begin(NULL, live_path, &s), 0);
	cr_assert_eq(at_sealer_pump(s, run_dir, 1000), 0);
	thread_events(&root, 0, 1, 1010);
	fork_event(&root, 1, 1, 1001);
	cr_assert_eq(at_sealer_pump(s, run_dir, 1000), 0);
	wait_event(&root, AT_CALL_waitpid, 1001, 1 << 8);
	log_create(&child, "1.1", 1001, 1000, 110);
	json_t *meta = json_pack("{s:{s:i}}", "exit", "code", 0);
	struct at_seal_stats st;
	struct at_trace_problem pb = {0};
	cr_assert_eq(at_sealer_finish(s, run_dir, 1000, meta, &st, &pb), 0, "%s", pb.what);
	json_t *live = json_incref(json_object_get(meta, "tree"));
	json_decref(meta);
	json_t *ref = seal_tree(json_pack("{s:i}", "code", 0));
	char *a = json_dumps(live, JSON_COMPACT | JSON_SORT_KEYS),
	     *b = json_dumps(ref, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect_str_eq(a, b);
	expect_json(json_object_get(node(ref, "1.1"), "exit"), "{\"code\": 1}", "1.1's exit");
	expect_json(json_object_get(node(ref, "1.1"), "argv"), "[\"prog\", \"x\"]", "1.1's argv");
	free(a);
	free(b);
	json_decref(live);
	json_decref(ref);
	log_close(&root);
	log_close(&child);
}

Test(tree, header_values_in_arguments_are_masked)
{
	/* meta sits uncompressed in the trace: an argument that is a header line is masked
	 * there as record masks meta "argv", unless masking was off. */
	struct wlog root;
	log_create(&root, "1", 1000, 1, 100);
	image(&root, "curl|-H|authorization: Bearer sekrit-token|-H|X-Other: kept");
	json_t *tree = seal_tree_masked(
	    NULL, json_pack("{s:b, s:[s]}", "enabled", 1, "headers", "Authorization"));
	expect_json(json_object_get(node(tree, "1"), "argv"),
	            "[\"curl\", \"-H\", \"authorization: Bearer ************\", \"-H\", "
	            "\"X-Other: kept\"]",
	            "masked");
	json_decref(tree);
	unlink(trace_path);
	tree = seal_tree_masked(
	    NULL, json_pack("{s:b, s:[s]}", "enabled", 0, "headers", "Authorization"));
	expect_json(json_object_get(node(tree, "1"), "argv"),
	            "[\"curl\", \"-H\", \"authorization: Bearer sekrit-token\", \"-H\", "
	            "\"X-Other: kept\"]",
	            "record --no-mask");
	json_decref(tree);
	log_close(&root);
}
