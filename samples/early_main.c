/* Linked against early_lib, whose constructor calls hooks before main. */
#include <stdio.h>
#include <time.h>

int early_lib_loaded(void);

int main(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	printf("main %d %lld.%09ld\n", early_lib_loaded(), (long long)t.tv_sec, t.tv_nsec);
	return 0;
}
