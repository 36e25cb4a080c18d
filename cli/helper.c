/* Helper threads of `agenttrace record` (see helper.h). */
#include "helper.h"

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int helper_start(struct helper *h, void *(*fn)(void *), void *arg)
{
	h->stopping = 0;
	h->wake = eventfd(0, EFD_CLOEXEC);
	if (h->wake < 0)
		return -1;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits the mask */
	int rc = pthread_create(&h->thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		close(h->wake);
		return -1;
	}
	return 0;
}

int helper_pause(struct helper *h, int ms)
{
	struct pollfd p = {.fd = h->wake, .events = POLLIN};
	return poll(&p, 1, ms) > 0 || __atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE);
}

void helper_stop(struct helper *h)
{
	uint64_t one = 1;
	__atomic_store_n(&h->stopping, 1, __ATOMIC_RELEASE);
	ssize_t sent = write(h->wake, &one, sizeof one); /* the flag would do anyway */
	(void)sent;
	pthread_join(h->thread, NULL);
	close(h->wake);
}
