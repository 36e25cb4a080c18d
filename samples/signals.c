/* signals N: reads the clock N times while a 100 us interval timer fires a handler that
 * reads the clock and random bytes too, interrupting hooks half-way. Prints how many calls
 * main and the handler made, so a test can check every one was recorded. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t handler_calls;

static void on_alarm(int sig)
{
	(void)sig;
	struct timespec t;
	unsigned char b[8];
	clock_gettime(CLOCK_MONOTONIC, &t);
	getrandom(b, sizeof b, 0);
	handler_calls += 2;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 100}, {0, 100}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec t;
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &t);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("main %ld handler %d\n", n, (int)handler_calls);
	return 0;
}
