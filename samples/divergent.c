/* divergent FILE [STATUS]: asks getrandom for as many bytes as FILE says, prints them and
 * exits with STATUS. Changing FILE between record and replay makes the replay diverge:
 * FILE is read with the syscall instruction itself, which no hook sees. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>

static long raw3(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"(nr), "D"(a), "S"(b), "d"(c)
	                 : "rcx", "r11", "memory");
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char text[32] = "";
	long fd = raw3(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY);
	if (fd < 0 || raw3(SYS_read, fd, (long)text, sizeof text - 1) <= 0)
		return 2;
	raw3(SYS_close, fd, 0, 0);
	int len = atoi(text);
	if (len < 1 || len > 256)
		return 2;
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
