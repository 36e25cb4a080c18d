/* raw_read FILE: prints FILE's content, read with system calls the recorder cannot see.
 * They are made with the syscall instruction itself: libc's syscall() is interposed by
 * agenttrace and may route SYS_openat/SYS_read to the file hooks. So FILE is read live on
 * replay, and if it changed after recording the replay's stdout differs: a divergence. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>

static long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(nr), "D"(a), "S"(b), "d"(c)
	                 : "rcx", "r11", "memory");
	return ret;
}

int main(int argc, char **argv)
{
	char buf[4096];
	if (argc != 2) {
		fprintf(stderr, "usage: raw_read FILE\n");
		return 2;
	}
	long fd = raw_syscall3(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "raw_read: cannot open %s (errno %ld)\n", argv[1], -fd);
		return 1;
	}
	long n;
	while ((n = raw_syscall3(SYS_read, fd, (long)buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	raw_syscall3(SYS_close, fd, 0, 0);
	return n < 0;
}
