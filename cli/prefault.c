/* Keeps the big raw logs of a running recording allocated ahead of their writers, from a
 * thread of `agenttrace record`, which otherwise only waits for the program. Only logs that
 * have grown to WATCH_FROM: the many small ones of a fork/exec-heavy program are left to
 * their writers.
 *
 * The preload grows its log with fallocate, then maps the new pages with
 * MADV_POPULATE_WRITE (preload/log.c). On a tmpfs, where logs normally live (store.c), it
 * is the fallocate that allocates and zeroes the pages, and that was most of what recording
 * added to a file-heavy program. Done here first, on the other core, and announced in the
 * header's `prepared`, the program skips its fallocate and its madvise only maps the pages
 * (docs/performance.md). Best effort: whatever this thread leaves undone, or cannot do, the
 * preload still does itself, so it only ever saves time. */
#include "prefault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agenttrace/rawlog.h"
#include "helper.h"

/* How often to look for new logs: every SCAN_EVERY_MS, and when the directory has changed
 * (its mtime is coarse, so changes can hide), but not more often than every SCAN_MIN_MS. */
#define SCAN_EVERY_MS 20
#define SCAN_MIN_MS   10
/* A log is watched (its header mapped, its growth prepared) once its file has reached this
 * size: its process writes much. Most processes of a fork/exec-heavy program log 1-2 KiB,
 * and mapping, watching and allocating ahead for each of them took more CPU from the
 * program than it saved (docs/performance.md). */
#define WATCH_FROM        (64u << 10)
#define CANDIDATE_TICK_MS 2  /* the pause between looks while some log may grow to it */
#define TICK_MIN_MS       1  /* the pause between looks while some log grows */
#define TICK_MAX_MS       32 /* ... doubling up to this while none does */

/* The preload's growth steps (rawlog.h): this thread prepares the next one, PIECE bytes
 * at a time. */
#define FIRST_WINDOW AT_RAWLOG_FIRST_WINDOW
#define WINDOW       AT_RAWLOG_WINDOW
#define PIECE        (1ull << 20)

struct log {
	char *path;
	int pid;                    /* from the name */
	struct at_rawlog_header *h; /* mapped; this thread writes only `prepared` */
	uint64_t last_tail;
	uint64_t done; /* allocated up to here */
	int given_up;  /* fallocate failed, or the process has ended: nothing more to do */
};

struct prefault {
	struct helper helper;
	char *run_dir;
	struct log *logs; /* sorted by path */
	size_t n, cap;
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct log *)a)->path, ((const struct log *)b)->path);
}

/* Maps the header of a new log once it is whole; 0 when it is not (yet). */
static int map_header(struct log *l)
{
	struct stat st;
	int fd = open(l->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	void *p = MAP_FAILED;
	/* Below the header's size, touching the mapping would raise SIGBUS. */
	if (fstat(fd, &st) == 0 && st.st_size >= (off_t)AT_RAWLOG_HEADER_SIZE)
		p = mmap(NULL, AT_RAWLOG_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	uint64_t magic, want;
	memcpy(&want, AT_RAWLOG_MAGIC, 8);
	magic = __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE);
	if (magic != want) { /* the writer has not finished its header */
		munmap(p, AT_RAWLOG_HEADER_SIZE);
		return 0;
	}
	l->h = p;
	return 1;
}

/* Leaves alone, its header unmapped, a log whose process has ended (no process has its pid
 * any more). */
static void retire_if_ended(struct log *l)
{
	if (l->given_up || kill(l->pid, 0) == 0 || errno != ESRCH)
		return;
	if (l->h)
		munmap(l->h, AT_RAWLOG_HEADER_SIZE);
	l->h = NULL;
	l->given_up = 1;
}

/* Adds the logs that appeared since the last scan, and retires those of processes that
 * have ended (among those not growing): a fork/exec-heavy program leaves hundreds. */
static void scan(struct prefault *pf)
{
	for (size_t i = 0; i < pf->n; i++) {
		struct log *l = &pf->logs[i];
		if (l->h && __atomic_load_n(&l->h->tail, __ATOMIC_RELAXED) != l->last_tail)
			continue; /* growing */
		retire_if_ended(l);
	}
	DIR *d = opendir(pf->run_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid = at_rawlog_name_pid(e->d_name);
		if (!pid)
			continue;
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", pf->run_dir, e->d_name);
		struct log key = {.path = path};
		struct log *l =
		    pf->n ? bsearch(&key, pf->logs, pf->n, sizeof *pf->logs, by_path) : NULL;
		if (l)
			continue;
		{
			if (pf->n == pf->cap) {
				size_t cap = pf->cap ? pf->cap * 2 : 16;
				struct log *v = realloc(pf->logs, cap * sizeof *v);
				if (!v)
					break;
				pf->logs = v;
				pf->cap = cap;
			}
			char *copy = strdup(path);
			if (!copy)
				break;
			pf->logs[pf->n++] = (struct log){.path = copy, .pid = pid};
			qsort(pf->logs, pf->n, sizeof *pf->logs, by_path);
		}
	}
	closedir(d);
}

/* Allocates a log's next growth step once it has grown since the last look, a MiB at a
 * time so that the writer can use each as soon as it is there and a stop is never kept
 * waiting. Returns whether the log grew, or is about to (its writer is still writing its
 * header). */
static int prepare(struct prefault *pf, struct log *l)
{
	struct stat st;
	if (l->given_up)
		return 0;
	if (!l->h && (stat(l->path, &st) < 0 || st.st_size < WATCH_FROM || !map_header(l)))
		return 0; /* not (yet) worth watching */
	uint64_t tail = __atomic_load_n(&l->h->tail, __ATOMIC_RELAXED);
	if (tail == l->last_tail)
		return 0;
	l->last_tail = tail;
	/* The writer's next extension reaches have + step + FIRST_WINDOW at most (log.c). */
	uint64_t have = __atomic_load_n(&l->h->allocated, __ATOMIC_RELAXED);
	uint64_t step = have < FIRST_WINDOW ? FIRST_WINDOW : have < WINDOW ? have : WINDOW;
	uint64_t want = have + step + FIRST_WINDOW;
	if (l->done < have)
		l->done = have;
	if (want <= l->done)
		return 1;
	int fd = open(l->path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		l->given_up = 1;
		return 1;
	}
	while (l->done < want && !__atomic_load_n(&pf->helper.stopping, __ATOMIC_RELAXED)) {
		uint64_t n = want - l->done < PIECE ? want - l->done : PIECE;
		if (fallocate(fd, 0, (off_t)l->done, (off_t)n) < 0) {
			l->given_up = 1; /* a full disk, say: the writer will find out and say so */
			break;
		}
		l->done += n;
		__atomic_store_n(&l->h->prepared, l->done, __ATOMIC_RELEASE);
	}
	close(fd);
	return 1;
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* inotify would tell of new logs at once, but closing an inotify descriptor waits for an
 * RCU grace period, 5-15 ms here, added to every recording: the directory's mtime is
 * nearly as quick. */
static void *run(void *arg)
{
	struct prefault *pf = arg;
	struct timespec last_scan = {0, 0}, now, dir_mtime = {0, 0};
	int tick = TICK_MIN_MS;
	for (;;) {
		struct stat st;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int changed =
		    stat(pf->run_dir, &st) == 0 && (st.st_mtim.tv_sec != dir_mtime.tv_sec ||
		                                    st.st_mtim.tv_nsec != dir_mtime.tv_nsec);
		long since = ms_between(&last_scan, &now);
		if ((changed && since >= SCAN_MIN_MS) || since >= SCAN_EVERY_MS) {
			if (changed)
				dir_mtime = st.st_mtim;
			scan(pf);
			last_scan = now;
		}
		/* Every millisecond while a watched log grows; every scan while a log may still
		 * grow to be watched (or none has appeared yet); else slower and slower. */
		int busy = 0, candidates = pf->n == 0;
		for (size_t i = 0; i < pf->n; i++) {
			busy |= prepare(pf, &pf->logs[i]);
			candidates |= !pf->logs[i].h && !pf->logs[i].given_up;
		}
		tick = busy ? TICK_MIN_MS : tick * 2 > TICK_MAX_MS ? TICK_MAX_MS : tick * 2;
		if (candidates && tick > CANDIDATE_TICK_MS)
			tick = CANDIDATE_TICK_MS;
		if (helper_pause(&pf->helper, tick))
			break;
	}
	return NULL;
}

struct prefault *prefault_start(const char *run_dir)
{
	struct prefault *pf = calloc(1, sizeof *pf);
	if (!pf)
		return NULL;
	if (!(pf->run_dir = strdup(run_dir)) || helper_start(&pf->helper, run, pf) < 0) {
		free(pf->run_dir);
		free(pf);
		return NULL;
	}
	return pf;
}

void prefault_stop(struct prefault *pf)
{
	if (!pf)
		return;
	helper_stop(&pf->helper);
	for (size_t i = 0; i < pf->n; i++) {
		if (pf->logs[i].h)
			munmap(pf->logs[i].h, AT_RAWLOG_HEADER_SIZE);
		free(pf->logs[i].path);
	}
	free(pf->logs);
	free(pf->run_dir);
	free(pf);
}
