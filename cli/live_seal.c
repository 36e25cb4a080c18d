/* Sealing while the program runs, from a thread of `agenttrace record`: the root process's
 * log as it grows, and the log of each other process once it has ended, so that what is
 * left when the program ends is the tail of the root's log, the logs of the last
 * processes and the metadata (core/seal.c, at_sealer_pump).
 *
 * The thread runs at SCHED_IDLE: it takes only CPU time the program leaves unused, and a
 * program that keeps every core busy just finds more left to seal at its end. */
#include "live_seal.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

#define PAUSE_MS 5 /* between pumps: each seals everything committed by then */

struct live_seal {
	struct helper helper;
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
		if (helper_pause(&ls->helper, PAUSE_MS))
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
	if (!(ls->run_dir = strdup(run_dir)) || helper_start(&ls->helper, run, ls) < 0) {
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
	helper_stop(&ls->helper);
	free(ls->run_dir);
	free(ls);
}
