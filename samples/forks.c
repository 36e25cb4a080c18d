/* A parent that reads the clock around a fork child, a vfork child and a posix_spawn'd
 * program. The children's calls must neither disturb the parent's recording nor its replay.
 * Only the parent prints: children run live on replay. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void stamp(const char *what)
{
	struct timespec t;
	unsigned char b[4];
	clock_gettime(CLOCK_REALTIME, &t);
	getrandom(b, sizeof b, 0);
	printf("%-12s %lld.%09ld %02x%02x%02x%02x\n", what, (long long)t.tv_sec, t.tv_nsec, b[0],
	       b[1], b[2], b[3]);
	fflush(stdout);
}

int main(void)
{
	struct timespec t;
	int status;
	stamp("start");
	pid_t pid = fork();
	if (pid == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t); /* the child's own log */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	stamp("after fork");
	pid = vfork();
	if (pid == 0) {
		/* Runs in the parent's memory while the parent waits: lands in the parent's log,
		 * in order, and is served from it on replay. */
		clock_gettime(CLOCK_MONOTONIC, &t);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	stamp("after vfork");
	/* The spawned program's output goes nowhere: it runs live on replay, so what it
	 * printed would differ. */
	char *argv[] = {"date", "+%s", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn(&pid, "/bin/date", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	waitpid(pid, &status, 0);
	stamp("after spawn");
	return 0;
}
