/* Prints where things live: heap (small and mmap-sized), stack, an anonymous mapping, a
 * global, a function. With ASLR off and the recorder's mappings kept out of the way, a
 * replay prints the same addresses as the recording. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static int global;

int main(void)
{
	int local;
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	void *small = malloc(32), *large = malloc(4 << 20);
	void *anon =
	    mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("time %lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
	printf("small %p\nlarge %p\nanon %p\nstack %p\nglobal %p\nmain %p\n", small, large, anon,
	       (void *)&local, (void *)&global, (void *)main);
	free(small);
	free(large);
	return 0;
}
