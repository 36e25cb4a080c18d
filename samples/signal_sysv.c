/* signal_sysv: a handler installed with signal() by a program built for strict C99, where
 * glibc's signal() is System V's (__sysv_signal): the handler is reset to the default as it
 * runs. It reads the clock, so a replay that does not run it where it ran prints another
 * line. Prints the times the handler ran, the clock it read, and whether it was reset. */
#undef _GNU_SOURCE /* the build defines it for everything else */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t hits;
static struct timespec at;

static void on_usr1(int sig)
{
	(void)sig;
	clock_gettime(CLOCK_REALTIME, &at);
	hits++;
}

int main(void)
{
	if (signal(SIGUSR1, on_usr1) == SIG_ERR)
		return 1;
	raise(SIGUSR1);
	void (*now)(int) = signal(SIGUSR1, SIG_IGN);
	printf("handler ran %d time(s), at %lld.%09ld; reset to the default: %s\n", (int)hits,
	       (long long)at.tv_sec, at.tv_nsec, now == SIG_DFL ? "yes" : "no");
	return 0;
}
