/* Sealing the root process's log while the program runs, from a thread of
 * `agenttrace record`, so that what is left when it ends is the tail of the log, the other
 * processes' logs and the metadata (core/seal.c, at_sealer_pump).
 *
 * The thread runs at SCHED_IDLE: it takes only CPU time the program leaves unused, and a
 * program that keeps every core busy just finds more left to seal at its end. */
#include "live_seal.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PAUSE_MS 5 /* between pumps: each seals everything committed by then */

struct live_seal {
	pthread_t thread;
	int wake;     /* eventfd: stop now */
	int stopping; /* set before waking */
	at_sealer *sealer;
	char *run_dir;
	int root_pid;
};

static void *run(void *arg)
{
	struct live_seal *ls = arg;
	struct sched_param idle = {0};
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	for (;;) {
		/* A failed pump is remembered by the sealer, which starts over at the end. */
		if (at_sealer_pump(ls->sealer, ls->run_dir, ls->root_pid))
			break;
		struct pollfd p = {.fd = ls->wake, .events = POLLIN};
		if (poll(&p, 1, PAUSE_MS) > 0 || __atomic_load_n(&ls->stopping, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

struct live_seal *live_seal_start(at_sealer *sealer, const char *run_dir, int root_pid)
{
	struct live_seal *ls = calloc(1, sizeof *ls);
	if (!ls)
		return NULL;
	ls->sealer = sealer;
	ls->root_pid = root_pid;
	ls->wake = eventfd(0, EFD_CLOEXEC);
	ls->run_dir = strdup(run_dir);
	sigset_t all, old;
	sigfillset(&all);
	/* The thread takes no signals: they stay with the main thread, which forwards them. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = ls->wake < 0 || !ls->run_dir ? -1 : pthread_create(&ls->thread, NULL, run, ls);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		if (ls->wake >= 0)
			close(ls->wake);
		free(ls->run_dir);
		free(ls);
		return NULL;
	}
	return ls;
}

void live_seal_stop(struct live_seal *ls)
{
	if (!ls)
		return;
	uint64_t one = 1;
	__atomic_store_n(&ls->stopping, 1, __ATOMIC_RELEASE);
	ssize_t sent = write(ls->wake, &one, sizeof one); /* the flag would do anyway */
	(void)sent;
	pthread_join(ls->thread, NULL);
	close(ls->wake);
	free(ls->run_dir);
	free(ls);
}
