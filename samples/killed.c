/* Prints a few recorded values, says "ready", then sleeps until it is killed.
 * The SIGKILL test records it, kills it, and checks replay ends the same way. */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec t;
	unsigned char b[8];
	clock_gettime(CLOCK_REALTIME, &t);
	getrandom(b, sizeof b, 0);
	printf("started %lld.%09ld random %02x%02x%02x%02x\n", (long long)t.tv_sec, t.tv_nsec, b[0],
	       b[1], b[2], b[3]);
	for (int i = 0; i < 3; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		printf("tick %d %lld.%09ld\n", i, (long long)t.tv_sec, t.tv_nsec);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		sleep(60);
}
