/* A library whose constructor reads the clock and random bytes before the program (and
 * possibly before the recorder's own constructor) runs: the hooks must already work. */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

__attribute__((constructor)) static void early(void)
{
	struct timespec t;
	unsigned char b[4] = {0};
	clock_gettime(CLOCK_REALTIME, &t);
	getrandom(b, sizeof b, 0);
	printf("constructor %lld.%09ld %02x%02x%02x%02x\n", (long long)t.tv_sec, t.tv_nsec, b[0],
	       b[1], b[2], b[3]);
}

int early_lib_loaded(void)
{
	return 1;
}
