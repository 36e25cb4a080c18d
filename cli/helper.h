/* A helper thread of `agenttrace record` (prefault.c, live_seal.c): it takes no signals,
 * which stay with the main thread that forwards them to the program, and it stops when
 * asked, at its next pause. */
#ifndef AGENTTRACE_CLI_HELPER_H
#define AGENTTRACE_CLI_HELPER_H

#include <pthread.h>

struct helper {
	pthread_t thread;
	int wake;     /* eventfd: cuts a pause short */
	int stopping; /* set before waking */
};

/* Starts fn(arg) on a new thread; 0, or -1 when none could be started. */
int helper_start(struct helper *h, void *(*fn)(void *), void *arg);
/* From the thread: waits up to `ms` milliseconds; 1 when it must stop. */
int helper_pause(struct helper *h, int ms);
/* Asks the thread to stop and waits for it. */
void helper_stop(struct helper *h);

#endif
