/* print_threads [N] [LINES]: N threads (default 4) each print LINES lines (default 6) with
 * printf on a line-buffered stdout, a millisecond and a clock read apart, so their lines
 * interleave as the scheduler likes; each line holds the thread, the line and the clock. A
 * replay must print the lines in the recorded order (tests/e2e/threads_print.sh).
 * Line-buffered, each line is one write, made inside printf with the stream locked. (With
 * printf, then fflush apart, another thread's printf may land in between, and one write
 * carry two lines: how many lines a write carries then depends on the scheduler, which
 * replay does not reproduce.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int lines = 6;

static void *run(void *arg)
{
	for (int i = 0; i < lines; i++) {
		struct timespec nap = {0, 1000000}, now;
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_REALTIME, &now);
		printf("thread %ld line %d at %lld.%09ld\n", (long)arg, i, (long long)now.tv_sec,
		       now.tv_nsec);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	lines = argc > 2 ? atoi(argv[2]) : 6;
	if (n < 1 || n > 64 || lines < 1)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_t t[64];
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("all %d threads done\n", n);
	return 0;
}
