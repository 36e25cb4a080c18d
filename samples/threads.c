/* threads N CALLS [parallel|serial]: N threads each read the clock and random bytes CALLS
 * times. "parallel" runs them at once (a stress test for recording); "serial" runs one
 * after another, so thread numbering is the same on replay. Prints a checksum per thread. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int calls;

static void *work(void *arg)
{
	uint64_t sum = 0;
	for (int i = 0; i < calls; i++) {
		struct timespec t;
		uint32_t r = 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		getrandom(&r, sizeof r, 0);
		sum = sum * 31 + (uint64_t)t.tv_nsec + r;
	}
	*(uint64_t *)arg = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	calls = argc > 2 ? atoi(argv[2]) : 1000;
	int serial = argc > 3 && !strcmp(argv[3], "serial");
	if (n < 1 || n > 256)
		return 2;
	pthread_t tid[256];
	uint64_t sums[256];
	for (int i = 0; i < n; i++) {
		pthread_create(&tid[i], NULL, work, &sums[i]);
		if (serial)
			pthread_join(tid[i], NULL);
	}
	for (int i = 0; !serial && i < n; i++)
		pthread_join(tid[i], NULL);
	for (int i = 0; i < n; i++)
		printf("thread %d %016llx\n", i, (unsigned long long)sums[i]);
	return 0;
}
