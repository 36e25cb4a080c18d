/* divergent FILE [STATUS]: asks getrandom for as many bytes as FILE says, prints them and
 * exits with STATUS. Changing FILE between record and replay makes the replay diverge
 * (FILE is read with plain stdio, which is not recorded yet). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	FILE *f = fopen(argv[1], "r");
	int len = 16;
	if (!f || fscanf(f, "%d", &len) != 1 || len < 1 || len > 256)
		return 2;
	fclose(f);
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	unsigned char b[256];
	getrandom(b, (size_t)len, 0);
	printf("%lld.%09ld", (long long)t.tv_sec, t.tv_nsec);
	for (int i = 0; i < len; i++)
		printf("%s%02x", i ? "" : " ", b[i]);
	printf("\n");
	return argc > 2 ? atoi(argv[2]) : 0;
}
